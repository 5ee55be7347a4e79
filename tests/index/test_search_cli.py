"""``paperwire search`` end to end on the real demo corpus (CLI → search → the tantivy index)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.demo import load_demo
from paperwire.index.search import search

runner = CliRunner()


@pytest.fixture
def demo_db(db, db_url):
    load_demo(db, log=lambda _msg: None, real_days=False)
    return db_url


def run_json(db_url: str, *args: str) -> list[dict]:
    result = runner.invoke(app, ["search", *args, "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_shape(demo_db):
    rows = run_json(demo_db, "quark", "--mode", "lexical", "--limit", "5")
    assert 1 <= len(rows) <= 5
    for row in rows:
        assert {"id", "title", "authors", "categories", "published", "score"} <= row.keys()
        assert isinstance(row["authors"], list) and isinstance(row["categories"], list)
        assert isinstance(row["score"], float)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_filters_and_date_sort_through_the_cli(demo_db):
    rows = run_json(demo_db, "cat:hep-ph", "--mode", "lexical", "--sort", "date", "--limit", "50")
    assert rows and all(any(c == "hep-ph" or c.startswith("hep-ph.") for c in r["categories"]) for r in rows)
    dates = [r["published"] for r in rows]
    assert dates == sorted(dates, reverse=True)


def test_author_search_finds_the_kaggle_record(demo_db):
    rows = run_json(demo_db, "author:Nadolsky", "--mode", "lexical")
    assert [r["id"] for r in rows] == ["0704.0001"]


def test_hostile_query_is_fine(demo_db):
    run_json(demo_db, 'NEAR("x" AND -) author:"', "--mode", "lexical")


def test_bad_sort_is_reported(demo_db):
    result = runner.invoke(app, ["search", "x", "--sort", "stars", "--db", demo_db])
    assert result.exit_code != 0
    assert "unknown sort" in str(result.exception) + result.output


def test_hybrid_mode_falls_back_or_delegates(demo_db, db):
    results = search(db, "attention", mode="hybrid", limit=3)
    assert results.mode in ("lexical", "hybrid")
    assert results.hits
