"""Retire the database full-text indexes: tantivy is the one lexical engine.

The published tantivy index (``paperwire.index.publish_lexical``) answers
every keyword search on SQLite and PostgreSQL deployments, so the FTS5 table
with its three sync triggers (``0002_lexical``) and the generated
``search_vector`` column with its GIN index (``0007_postgres_search``) only
cost write time and space (FTS5 was about half the database size). The
covering indexes ``ix_papers_filter``/``ix_papers_browse`` and
``paperwire_fold`` stay: the semantic search filters and browses by them.

Downgrade re-creates both as they were (and fills them from ``papers``).

Revision ID: 0014_retire_db_fts
Revises: 0002_lexical, 0007_postgres_search
"""
from alembic import op

revision = "0014_retire_db_fts"
down_revision = ("0002_lexical", "0007_postgres_search")
branch_labels = None
depends_on = None

_TRIGGERS = ("papers_fts_update", "papers_fts_delete", "papers_fts_insert")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS papers_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_papers_search")
        op.execute("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _sibling("0002_lexical_sqlite").STATEMENTS[:5]:  # the FTS5 table, its triggers, its filling
            op.execute(statement)
    elif dialect == "postgresql":
        vector = _sibling("0007_postgres_search").SEARCH_VECTOR
        op.execute(f"ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED")
        op.execute("CREATE INDEX ix_papers_search ON papers USING gin (search_vector)")


def _sibling(name: str):
    """Another revision file of this folder, loaded by path (revision files are not a package)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(f"_paperwire_migration_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
