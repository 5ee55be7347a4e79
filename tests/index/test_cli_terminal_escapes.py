"""CLI output of metadata (issue 12, finding 9): ``show`` and the result tables
print no raw ANSI/control sequences and no rich markup from paper text."""

from __future__ import annotations

from sqlalchemy import update
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.records import PaperRecord
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

EVIL = "Evil \x1b[2J\x1b]0;owned\x07 [bold red]markup[/] [/] title\x9b31m"


def _seed(db) -> None:
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title="Plain title about graphs", arxiv_id="2401.00001", source="test",
                                      abstract="graphs", authors=["A. Author"], categories=["cs.LG"])])
        # As an old import stored it, before text was normalised.
        s.execute(update(Paper).values(title=EVIL, abstract="abs " + EVIL, authors=["Name " + EVIL]))


def _run(*args) -> str:
    result = CliRunner().invoke(app, [*args], env={"COLUMNS": "400"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_show_escapes_control_and_markup(db):
    _seed(db)
    out = _run("show", "2401.00001")
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "[bold red]markup[/]" in " ".join(out.split())


def test_search_table_escapes_control_and_markup(db):
    _seed(db)
    out = _run("search", "evil", "--mode", "lexical")
    assert "\x1b" not in out and "\x9b" not in out
    assert "[bold red]" in out
