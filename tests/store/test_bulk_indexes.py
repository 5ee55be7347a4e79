"""Bulk imports build SQLite's date and category indexes once at the end, and never leave them missing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.store.bulk_indexes import DEFERRED, deferred_indexes, missing_indexes
from paperwire.store.db import open_database



def _index_sql(db) -> dict[str, str]:
    with db.engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers'")).all())


def _require_sqlite(db) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's deferred indexes")


def test_deferred_statements_are_the_migrated_ones(db):
    _require_sqlite(db)
    made = _index_sql(db)
    assert {name: made.get(name) for name in DEFERRED} == DEFERRED


def test_the_indexes_are_gone_during_a_bulk_import_and_back_after(db):
    _require_sqlite(db)
    with deferred_indexes(db.engine):
        assert missing_indexes(db.engine) == list(DEFERRED)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO papers (uid, title_key, title, abstract, authors, authors_text, categories, "
                "versions, source, imported_at, content_hash, submitted_at, primary_category) VALUES "
                "('2401.00001', 'k1', 'T', 'A', '[]', '', 'cs.LG', '[]', 'test', '2024-01-01', 'h', "
                "'2024-01-02 00:00:00', 'cs.LG')"))
    assert missing_indexes(db.engine) == []
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        plan = " ".join(str(row[-1]) for row in connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM papers WHERE primary_category = 'cs.LG'")))
        assert "ix_papers_primary_category" in plan


def test_an_import_that_fails_still_gets_its_indexes_back(db):
    _require_sqlite(db)
    with pytest.raises(RuntimeError), deferred_indexes(db.engine):
        raise RuntimeError("a record broke the import")
    assert missing_indexes(db.engine) == []


def test_opening_the_database_rebuilds_what_a_killed_import_left_out(db, db_url):
    _require_sqlite(db)
    with db.engine.begin() as connection:  # what a bulk import killed mid-way leaves
        for name in DEFERRED:
            connection.execute(text(f"DROP INDEX {name}"))
    assert missing_indexes(db.engine) == list(DEFERRED)
    reopened = open_database(db_url)
    try:
        assert missing_indexes(reopened.engine) == []
        assert {name: _index_sql(reopened)[name] for name in DEFERRED} == DEFERRED
    finally:
        reopened.close()


def test_postgresql_keeps_its_indexes(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL imports keep their indexes")
    with db.engine.connect() as connection:
        before = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'papers'")).scalars())
    with deferred_indexes(db.engine):
        with db.engine.connect() as connection:
            during = set(connection.execute(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'papers'")).scalars())
    assert during == before and "ix_papers_browse" in before


@pytest.mark.parametrize("options", [["--bulk"], ["--workers", "2"]])
def test_bulk_cli_import_ends_with_every_index_and_every_paper(db, kaggle_sample, options):
    result = CliRunner().invoke(app, ["import", str(kaggle_sample), "--json", *options])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)[str(kaggle_sample)]
    assert report["inserted"] == 200
    assert missing_indexes(db.engine) == []
    with db.engine.connect() as connection:
        newest = connection.execute(text(
            "SELECT count(*) FROM papers WHERE submitted_at IS NOT NULL AND hidden = false")).scalar()
    assert newest == 200
