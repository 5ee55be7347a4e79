"""Bad input at the import edge (issue 12, finding 7): every case is a clear
``file:line: reason`` and a non-zero exit, never a traceback, and the same in
every format; text is normalised once on the way into the store."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.records import MAX_COUNT, MAX_TITLE
from paperwire.store.db import open_database
from paperwire.store.models import FeaturedPaper, Paper
from tests.conftest import SHARED_CORPUS

DATA = Path(__file__).parent / "data"
KAGGLE_LINE = (SHARED_CORPUS / "arxiv-metadata-sample.jsonl").read_text().splitlines()[0]
PAGE = sorted((SHARED_CORPUS / "daily-papers-pages").iterdir())[0]


def run_import(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["import", "--no-embed", *[str(a) for a in args]])
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, "".join(output.split())  # no whitespace: rich wraps long paths anywhere


def has(out: str, text: str) -> bool:
    return "".join(text.split()) in out


def hf_entry(**paper) -> dict:
    return {"paper": {"id": "2509.04664", "title": "A title", "summary": "An abstract.",
                      "publishedAt": "2025-09-04T21:26:31.000Z", **paper},
            "publishedAt": "2025-09-08T02:44:20.973Z", "numComments": 3}


def papers() -> list[Paper]:
    db = open_database()
    with db.session() as s:
        return list(s.scalars(select(Paper)))


def test_non_gzip_named_gz_is_a_clear_error(tmp_path):
    path = tmp_path / "papers.jsonl.gz"
    path.write_text(KAGGLE_LINE + "\n")
    code, out = run_import(path)
    assert code != 0
    assert has(out, f"{path}:1: not a gzip file")


def test_truncated_gzip_names_file_and_line(tmp_path):
    path = tmp_path / "papers.jsonl.gz"
    lines = (SHARED_CORPUS / "arxiv-metadata-sample.jsonl").read_bytes()
    path.write_bytes(gzip.compress(lines)[:20000])
    code, out = run_import(path)
    assert code != 0
    assert "Aborted" not in out
    assert has(out, f"{path}:") and has(out, "truncated gzip data after line")


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "papers.jsonl"
    path.write_bytes(gzip.compress((KAGGLE_LINE + "\n").encode()))
    code, out = run_import("--format", "kaggle", path)
    assert code == 0, out
    assert len(papers()) == 1


def _latin1_files(tmp_path) -> dict[str, Path]:
    record = json.loads(KAGGLE_LINE)
    record["title"] = "Caf\u00e9 " + record["title"]
    files = {
        "kaggle": ("k.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode("latin-1")),
        "csv": ("c.csv", "title,abstract\nCaf\u00e9 society,An abstract\n".encode("latin-1")),
        "dailypapers": ("p.txt", PAGE.read_text().replace("How Long", "H\u00f6w Long").encode("latin-1", "replace")),
        "hf-daily": ("h.json", json.dumps([hf_entry(title="Caf\u00e9")], ensure_ascii=False).encode("latin-1")),
        "arxiv-atom": ("a.xml", (DATA / "arxiv_atom.xml").read_text().encode("latin-1", "replace")),
        "oai": ("o.xml", (DATA / "oai_arxiv.xml").read_text().replace("Tokenization", "T\u00f6kenization")
                .encode("latin-1", "replace")),
    }
    out = {}
    for fmt, (name, data) in files.items():
        (tmp_path / name).write_bytes(data)
        out[fmt] = tmp_path / name
    return out


@pytest.mark.parametrize("fmt", ["kaggle", "csv", "dailypapers", "hf-daily", "arxiv-atom", "oai"])
def test_latin1_input_is_the_same_clear_error_in_every_format(tmp_path, fmt):
    path = _latin1_files(tmp_path)[fmt]
    code, out = run_import("--format", fmt, path)
    assert code != 0, out
    assert has(out, f"{path}:") and has(out, "not UTF-8")
    assert papers() == []  # nothing half-decoded was stored


@pytest.mark.parametrize("fmt", ["kaggle", "csv", "hf-daily"])
def test_utf8_bom_is_accepted(tmp_path, fmt):
    texts = {
        "kaggle": KAGGLE_LINE + "\n",
        "csv": "title,abstract\nCaf\u00e9 society,An abstract\n",
        "hf-daily": json.dumps([hf_entry(title="Caf\u00e9")]),
    }
    path = tmp_path / f"bom.{fmt}"
    path.write_bytes(b"\xef\xbb\xbf" + texts[fmt].encode())
    code, out = run_import("--format", fmt, path)
    assert code == 0, out
    assert len(papers()) == 1


@pytest.mark.parametrize(("votes", "stored"), [(2**70, MAX_COUNT), (-5, 0), (7, 7)])
def test_upvotes_and_comments_are_bounded(tmp_path, votes, stored):
    path = tmp_path / "h.json"
    entry = hf_entry(upvotes=votes)
    entry["numComments"] = votes
    path.write_text(json.dumps([entry]))
    code, out = run_import(path)
    assert code == 0, out
    db = open_database()
    with db.session() as s:
        row = s.scalar(select(FeaturedPaper))
        assert (row.imported_upvotes, row.imported_comments) == (stored, stored)


def test_control_characters_and_nfc_on_import(tmp_path):
    record = json.loads(KAGGLE_LINE)
    record["title"] = "Nul\u0000 and \u001b[31mred\u001b[0m Cafe\u0301"
    record["abstract"] = "Line\u0007 one\nline two\u0085"
    record["authors"] = "A. B\u0000ne"
    record.pop("authors_parsed", None)
    path = tmp_path / "ctrl.jsonl"
    path.write_text(json.dumps(record) + "\n")
    code, out = run_import(path)
    assert code == 0, out
    (paper,) = papers()
    assert paper.title == "Nul and [31mred[0m Caf\u00e9"
    assert paper.abstract == "Line one line two"
    assert paper.authors == ["A. Bne"]


def test_long_title_is_cut(tmp_path):
    record = json.loads(KAGGLE_LINE)
    record["title"] = "word " * 1000
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert run_import(path)[0] == 0
    (paper,) = papers()
    assert len(paper.title) <= MAX_TITLE and paper.title.endswith("\u2026")


def test_overlong_line_is_an_error_with_bounded_memory(tmp_path, monkeypatch):
    """A 50 MB abstract: an error naming the line, read in bounded memory."""
    record = json.loads(KAGGLE_LINE)
    record["abstract"] = "x" * (50 * 1024 * 1024)
    path = tmp_path / "huge.jsonl"
    path.write_text(KAGGLE_LINE + "\n" + json.dumps(record) + "\n")
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent
    # (a grown pytest process), while VmHWM belongs to the program after exec.
    script = (
        "import re, sys\n"
        "from paperwire.cli import app\n"
        "try:\n    app(['import', '--no-embed', sys.argv[1]])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "print('PEAK', hwm // 1024, 'CODE', code)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    assert f"{path}:2: line longer than" in " ".join(done.stderr.split())
    peak, code = done.stdout.split()[1], done.stdout.split()[3]
    assert code != "0"
    assert int(peak) < 400, f"peak {peak} MB"


def test_two_concurrent_imports_with_overlapping_ids(tmp_path):
    """Two real ``paperwire import`` processes, the same ids: both succeed, no duplicates."""
    lines = (SHARED_CORPUS / "arxiv-metadata-sample.jsonl").read_text().splitlines()
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines) + "\n")
    second.write_text("\n".join(lines[1:] + lines[:1]) + "\n")
    open_database().close()  # migrated once, as `paperwire init` would
    command = [sys.executable, "-m", "paperwire.cli", "import", "--no-embed", "--batch-size", "3"]
    procs = [subprocess.Popen([*command, str(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (first, second)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for code, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    rows = papers()
    assert len(rows) == len({r.uid for r in rows}) == len(lines)
