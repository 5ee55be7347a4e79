"""``paperwire topics rebuild | rising | show`` on a real database."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.rank.sparkline import sparkline
from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers

MONDAY = date(2025, 6, 2)


def run(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


@pytest.fixture
def corpus(db, db_url):
    records = []
    for week in range(9):
        for i in range(20):
            keywords = ["steady topic"] if i < 4 else [f"other {week} {i}"]
            if week == 8 and i >= 14:
                keywords = ["world models", "\x1b[31mred\x1b[0m terminal"]
            records.append(PaperRecord(title=f"Paper {week}-{i}", arxiv_id=f"2506.{week:02d}{i:03d}",
                                       featured_on=MONDAY + timedelta(weeks=week, days=i % 5), upvotes=i,
                                       ai_keywords=keywords, authors=["Ada Lovelace"], source="test"))
    with db.session() as s:
        upsert_papers(s, records)
    return db_url


def test_sparkline():
    assert sparkline([]) == "" and sparkline([0, 0]) == "▁▁"
    assert sparkline([0, 1, 2, 4, 8]) == " ▂▃▅█"  # zero is a gap, the largest a full bar


def test_rebuild_rising_show(corpus):
    before = run("topics", "rising", "--db", corpus)
    assert "No rising topics" in before.stdout and "paperwire topics rebuild" in before.stdout
    assert "topics over 180 papers" in run("topics", "rebuild", "--db", corpus).stderr
    table = run("topics", "rising", "--db", corpus).stdout
    assert "Rising this week" in table and "world models" in table and "█" in table
    assert "\x1b[31m" not in table  # control characters never reach the terminal
    data = json.loads(run("topics", "rising", "--json", "--end", "2025-08-01", "--db", corpus).stdout)
    assert data["period"] == "week" and data["end"] == "2025-08-01"
    world = next(t for t in data["topics"] if t["slug"] == "world-model")
    assert world["count"] == 6 and world["series"][-1] == 6 and len(world["series"]) == 9
    month = json.loads(run("topics", "rising", "--period", "month", "--json", "--db", corpus).stdout)
    assert month["period"] == "month"
    shown = run("topics", "show", "steady-topic", "--db", corpus).stdout
    assert "steady topic" in shown and "papers per week" in shown and "Ada Lovelace (36)" in shown
    detail = json.loads(run("topics", "show", "steady-topic", "--json", "--period", "month", "--db", corpus).stdout)
    assert [s["start"] for s in detail["series"]] == ["2025-06-01", "2025-07-01", "2025-08-01"]
    assert sum(s["papers"] for s in detail["series"]) == 36


def test_errors_are_clear(corpus, tmp_path):
    run("topics", "rebuild", "--db", corpus)
    missing = run("topics", "show", "steady", "--db", corpus, code=1)
    assert "no topic steady" in missing.stderr and "steady-topic" in missing.stderr
    assert "week or month" in run("topics", "rising", "--period", "year", "--db", corpus, code=2).stderr
    assert "2025-12-31" in run("topics", "rising", "--end", "soon", "--db", corpus, code=2).stderr
    nowhere = run("topics", "rising", "--db", f"sqlite:///{tmp_path / 'none.db'}", code=1)
    assert "no database" in nowhere.stderr and not (tmp_path / "none.db").exists()
