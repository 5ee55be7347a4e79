"""Which papers are visible: the read-time check every search makes on its hits.

Derived indexes (the tantivy generation, the vector index) may predate a hide,
a delete or a merge, so searches ask the database which of their hits still
exist and are not hidden. A result page asks for the papers themselves (one
query for the check and the rows it shows); candidate lists of hundreds
(hybrid, conditions) ask for ids only.

Why the statements are built once, with the ids as one bound value (a JSON
array for SQLite's ``json_each``, an array for PostgreSQL's ``= ANY``): a
search runs this on every request, and SQLAlchemy's expanding ``IN`` renders
a placeholder per id on each execution (for a page of ten papers at 1M: 221
against 235 µs, warm; most of the rest is building the ORM objects, ~60 µs is
SQLite). The same single-value form serves both queries on each backend.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from paperwire.store.id_lists import PG_ID_ARRAY, SQLITE_ID_LIST, id_list_value
from paperwire.store.models import Paper

_PAPERS = {
    "sqlite": select(Paper).where(Paper.id.in_(SQLITE_ID_LIST), Paper.hidden.is_(False)),
    "postgresql": select(Paper).where(Paper.id == PG_ID_ARRAY, Paper.hidden.is_(False)),
}
#: SQLite: from the covering index (id, hidden, ...), never the rows. A row holds the
#: abstract, so ``hidden`` sits behind it, often on an overflow page: 200 random
#: ids at 1M papers cost 6.5-9 ms from the table, 0.6 ms from the index. The
#: planner always picks the primary key for ``id IN``, hence ``INDEXED BY``.
_IDS = {
    "sqlite": text("SELECT id FROM papers INDEXED BY ix_papers_filter "
                   "WHERE id IN (SELECT value FROM json_each(:ids)) AND hidden = 0"),
    "postgresql": select(Paper.id).where(Paper.id == PG_ID_ARRAY, Paper.hidden.is_(False)),
}


def visible_papers(session: Session, ids: list[int]) -> dict[int, Paper]:
    """The papers among ``ids`` that still exist and are not hidden, by id."""
    if not ids:
        return {}
    dialect = session.get_bind().dialect.name
    return {p.id: p for p in session.scalars(_PAPERS[dialect], {"ids": id_list_value(dialect, ids)})}


def visible_ids(session: Session, ids: list[int]) -> set[int]:
    """Which of ``ids`` still exist and are not hidden (ids only: for long candidate lists)."""
    if not ids:
        return set()
    dialect = session.get_bind().dialect.name
    return set(session.scalars(_IDS[dialect], {"ids": id_list_value(dialect, ids)}))
