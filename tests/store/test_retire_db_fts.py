"""Migration 0014_retire_db_fts drops the database full-text indexes; its downgrade
re-creates them (filled from papers) and upgrading again drops them again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from paperwire.records import PaperRecord
from paperwire.store.db import alembic_config
from paperwire.store.papers import upsert_papers
from tests.conftest import ON_POSTGRES

if ON_POSTGRES:
    PROBE = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'papers' AND column_name = 'search_vector'"
    FILLED = "SELECT count(*) FROM papers WHERE search_vector @@ to_tsquery('simple', 'axolotl')"
else:
    PROBE = "SELECT count(*) FROM sqlite_master WHERE name = 'papers_fts' OR name LIKE 'papers_fts_%'"
    FILLED = "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'axolotl'"


def test_downgrade_recreates_and_upgrade_drops_again(db, db_url):
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title="Axolotl limb atlas", arxiv_id="2001.00001", source="test")])
        assert session.scalar(text(PROBE)) == 0
    cfg = alembic_config(db_url)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0007_postgres_search")  # the one revision above it: 0014
        assert connection.scalar(text(PROBE)) > 0
        assert connection.scalar(text(FILLED)) == 1
        command.upgrade(cfg, "heads")
        assert connection.scalar(text(PROBE)) == 0
