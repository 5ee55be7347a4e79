"""The first ten minutes with the command line: what a newcomer types first
gives clear errors (non-zero) instead of stray files, raw bytes or crashes.

Real subprocesses where the terminal or the working directory matters
(``--help`` at 80 columns, a command run outside the project), Typer's
CliRunner elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.records import PaperRecord
from paperwire.sources.formats import FORMATS
from paperwire.store.community import add_comment, create_user, vote
from paperwire.store.papers import get_paper, upsert_papers

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("PAPERWIRE_TEST_BACKEND") == "postgres"


def run(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def squash(text: str) -> str:
    return "".join(re.sub(r"[│╭╮╰╯─]", "", text).split())


def subprocess_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env.update(PYTHONPATH=str(ROOT / "src"), **extra)
    return env


def test_read_only_command_outside_the_project_says_so_and_creates_nothing(tmp_path):
    """``paperwire stats`` in an empty folder (default ./paperwire.db) exits 1 and leaves no file."""
    for command in (["stats"], ["show", "0704.0001"], ["search", "graphs"], ["similar", "0704.0001"],
                    ["digest", "send", "--dry-run"]):
        done = subprocess.run([sys.executable, "-m", "paperwire", *command], cwd=tmp_path, env=subprocess_env(),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert "no database at paperwire.db" in done.stderr and "paperwire init" in done.stderr
        assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(POSTGRES, reason="file creation is a SQLite matter")
def test_only_creating_commands_create_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    run("stats", "--db", url, code=1)
    assert not (tmp_path / "new.db").exists()
    run("init", "--db", url)
    assert (tmp_path / "new.db").exists()
    assert json.loads(run("stats", "--json", "--db", url).stdout)["papers"] == 0


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty; nothing to import"),
    (b"\n  \n", "the file is empty; nothing to import"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\xff\xfe", "not UTF-8 text (binary data at byte"),
    (b"\x00\x01\x02binary", "not a text file (binary data at byte 0)"),
])
@pytest.mark.parametrize("fmt", ["auto", "kaggle", "dailypapers"])
def test_empty_and_binary_files_are_clear_errors(tmp_path, content, message, fmt):
    path = tmp_path / "papers.txt"
    path.write_bytes(content)
    result = run("import", path, "--format", fmt, "--no-embed", code=2)
    assert squash(message) in squash(result.stderr)
    assert "papers.txt" in result.stderr and "\x7fELF" not in result.stderr + result.stdout


def test_import_help_lists_every_format_at_80_columns():
    done = subprocess.run([sys.executable, "-m", "paperwire", "import", "--help"], env=subprocess_env(COLUMNS="80"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "…" not in done.stdout
    for name in FORMATS:
        assert name in squash(done.stdout), name


def test_stats_json_ends_with_a_newline(db):
    out = run("stats", "--json").stdout
    assert out.endswith("}\n") and json.loads(out)["papers"] == 0


def test_show_prints_upvotes_comments_and_featured_days(db):
    for day in (date(2024, 8, 12), date(2024, 8, 13)):  # one batch per day: a batch keeps one record per paper
        with db.session() as session:
            upsert_papers(session, [PaperRecord(title="Featured twice", arxiv_id="2408.00001", authors=["Ada Lovelace"],
                                                categories=["cs.LG"], source="t", featured_on=day, upvotes=7)])
    with db.session() as session:
        paper = get_paper(session, "2408.00001")
        user = create_user(session, "reader", "reader-password")
        vote(session, user, paper)
        add_comment(session, user, paper, "Nice result")
    detail = json.loads(run("show", "2408.00001", "--json").stdout)
    assert (detail["upvotes"], detail["comments"], detail["featured_days"]) == (8, 1, ["2024-08-12", "2024-08-13"])
    text = squash(run("show", "2408.00001").stdout)
    assert "8upvotes·1comments·featuredon2024-08-12,2024-08-13" in text


@pytest.fixture
def busy_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_busy_port_is_a_clear_error_before_serving(db, busy_port):
    for command in (["serve"], ["demo"]):
        result = run(*command, "--port", busy_port, code=1)
        assert f"port {busy_port} on 127.0.0.1 is already in use" in " ".join(result.stderr.split())
        assert "Serving on" not in result.stderr + result.stdout and "Demo data ready" not in result.stderr


def test_readme_examples_use_ids_the_demo_has():
    """``paperwire show ID`` / ``similar ID`` in the README must work on ``scripts/demo``'s data."""
    from paperwire.demo import demo_files
    from paperwire.sources.formats import read_path

    ids = {item.arxiv_id for path in demo_files() for item in read_path(path) if isinstance(item, PaperRecord)}
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"^paperwire (?:show|similar) (\S+)", readme, re.MULTILINE)
    assert examples and set(examples) <= ids, set(examples) - ids


COMMANDS = ["", "import", "init", "search", "similar", "show", "stats", "serve", "demo", "embed", "index rebuild",
            "harvest arxiv", "harvest oai", "harvest hf", "harvest queue", "digest send", "worker", "status", "resolve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_no_help_text_is_cut_at_80_columns(command):
    result = CliRunner().invoke(app, [*command.split(), "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "…" not in result.stdout, result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
