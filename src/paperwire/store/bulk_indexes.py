"""Secondary indexes of ``papers`` that a bulk import builds once at the end (SQLite).

Why: a Kaggle snapshot comes in no date order, so each new row goes into the
date and category indexes at a random place. Once they outgrow SQLite's page
cache (about 300,000 papers; every other connection's commit empties it too),
each insert reads pages back: a 1M import slowed from ~11,000 to ~5,000
papers/s over its last quarter. Building them after the rows are in sorts
once instead (~1.5 s per index per million papers).

Kept during the import: the unique ``uid``/``arxiv_id`` and ``title_key``
indexes (the import looks existing papers up by them) and ``ix_papers_filter``
(id first, so new rows only append to it; search names it in ``INDEXED BY``).

While the deferred ones are missing, date-ordered pages read more rows but
stay correct. :func:`deferred_indexes` rebuilds them when the import ends,
failed or not, and :func:`restore_indexes` runs whenever a database is
opened with migrations, so a killed import does not leave them missing.
PostgreSQL imports go through ``COPY`` and keep their indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

#: name -> the statement that makes it (as migrations 0001/0002 made it; a test compares).
DEFERRED: dict[str, str] = {
    "ix_papers_submitted_at": "CREATE INDEX ix_papers_submitted_at ON papers (submitted_at)",
    "ix_papers_primary_category": "CREATE INDEX ix_papers_primary_category ON papers (primary_category)",
    "ix_papers_browse": "CREATE INDEX ix_papers_browse ON papers (submitted_at, id, hidden, categories)",
}


def missing_indexes(engine: Engine) -> list[str]:
    """The deferred indexes this SQLite database lacks (none on other backends)."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as connection:
        present = {row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'papers'")}
    return [name for name in DEFERRED if name not in present]


def restore_indexes(engine: Engine) -> list[str]:
    """Build whichever deferred indexes are missing; returns their names (reads only when none are)."""
    missing = missing_indexes(engine)
    if missing:
        with engine.begin() as connection:
            for name in missing:
                connection.exec_driver_sql(DEFERRED[name].replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    return missing


@contextmanager
def deferred_indexes(engine: Engine) -> Iterator[None]:
    """Drop the deferred indexes for the duration of a bulk import, then build them again."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with engine.begin() as connection:
        for name in DEFERRED:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        restore_indexes(engine)
