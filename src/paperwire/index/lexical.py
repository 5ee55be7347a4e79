"""Lexical (keyword) search: the interface every database backend implements.

SQLite answers with FTS5 (:mod:`paperwire.index.lexical_sqlite`),
PostgreSQL with a weighted ``tsvector`` (:mod:`paperwire.index.lexical_postgres`). What is not
backend-specific lives here: the result types and the SQL filters for
``author:``-free metadata (categories, dates, hidden papers), written with
SQLAlchemy Core so every backend — and the semantic search — applies them
identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from paperwire.index.query import ParsedQuery
from paperwire.store.models import Paper

if TYPE_CHECKING:
    from paperwire.store.db import Database

Sort = Literal["relevance", "date"]
SORTS: tuple[str, ...] = ("relevance", "date")


@dataclass(frozen=True, slots=True)
class LexicalHit:
    paper_id: int
    #: Higher is better (a negated BM25 for FTS5); 0.0 for filter-only queries.
    score: float


@dataclass(slots=True)
class LexicalPage:
    hits: list[LexicalHit]
    #: Number of matching papers, or None when there are too many to count
    #: cheaply (SQLite: more than 10,000 with metadata filters, or a
    #: filter-only query before its last page).
    total: int | None
    #: "all" when every word had to match, "any" when that found nothing and
    #: the backend fell back to papers matching any of the words.
    matched: str = "all"
    #: (title, abstract) -> (title HTML, snippet HTML) from the engine, when it
    #: highlights itself (tantivy); None: the caller highlights (``search.make_hit``).
    highlight: Callable[[str, str], tuple[str, str]] | None = None
    #: The hits' papers when the engine loaded them already (its visibility
    #: check), so the caller saves a query; None: load them by id.
    papers: dict[int, Paper] | None = None


class LexicalIndex(Protocol):
    """A keyword index over papers (title > abstract > authors)."""

    def search(
        self, session: Session, query: ParsedQuery, *, limit: int, offset: int = 0, sort: str = "relevance",
        any_word: bool = False,
    ) -> LexicalPage:
        """One page of matching, visible papers in ``sort`` order.

        Free words must all match (falling back to any of them when nothing
        has all); ``any_word=True`` asks for papers with any of them directly.
        """
        ...

    def matching_ids(self, session: Session, query: ParsedQuery, paper_ids: list[int]) -> set[int]:
        """Which of ``paper_ids`` satisfy the query's text terms and filters (for re-checking other results)."""
        ...

    def rebuild(self, session: Session) -> int:
        """Re-index every visible paper from the papers table; returns how many."""
        ...


def category_condition(categories: list[str]) -> ColumnElement[bool] | None:
    """Papers in any of ``categories`` or their sub-categories (see ``query`` docs).

    ``papers.categories`` is space-padded (" cs.LG cs.AI "), so ``cs`` becomes
    ``LIKE '% cs %' OR LIKE '% cs.%'`` — exact archive/category or a child,
    never a longer name such as ``cs-foo`` or ``math-ph`` for ``math``.
    """
    if not categories:
        return None
    column = func.lower(Paper.categories)
    parts = []
    for category in categories:
        value = category.lower()  # parser guarantees [a-z.-] only: no LIKE wildcards
        parts.append(column.like(f"% {value} %"))
        parts.append(column.like(f"% {value}.%"))
    return or_(*parts)


def filter_conditions(query: ParsedQuery) -> list[ColumnElement[bool]]:
    """SQL conditions on ``papers`` for the query's metadata filters and visibility.

    ``author:`` is not here: names are matched by the text index, which
    knows about word boundaries and accents.
    """
    conditions: list[ColumnElement[bool]] = [Paper.hidden.is_(False)]
    cats = category_condition(query.categories)
    if cats is not None:
        conditions.append(cats)
    if query.after:
        conditions.append(Paper.submitted_at >= datetime.combine(query.after, time()))
    if query.before:
        conditions.append(Paper.submitted_at < datetime.combine(query.before, time()))
    return conditions


def date_order() -> list:
    """Newest first, papers without a date last, ties by id (stable paging)."""
    return [Paper.submitted_at.desc().nulls_last(), Paper.id.desc()]


def get_lexical_index(dialect: str) -> LexicalIndex:
    """The lexical index for a database dialect name (``Database.dialect``).

    With ``PAPERWIRE_LEXICAL_ENGINE=tantivy`` the published tantivy
    generation answers (the database engine until one is published).
    """
    from paperwire.settings import get_settings

    if get_settings().lexical_engine == "tantivy":
        from paperwire.index.lexical_engine import TantivyIndex

        return TantivyIndex(database_index(dialect))
    return database_index(dialect)


def database_index(dialect: str) -> LexicalIndex:
    """The database's own full-text index (FTS5 or tsvector) for ``dialect``."""
    if dialect == "sqlite":
        from paperwire.index.lexical_sqlite import Fts5Index

        return Fts5Index()
    if dialect == "postgresql":
        from paperwire.index.lexical_postgres import TsvectorIndex

        return TsvectorIndex()
    raise ValueError(f"no lexical search for database dialect {dialect!r}")


def bulk_loading(db: Database):
    """Context manager for large imports: index for search once at the end.

    SQLite drops the FTS5 sync triggers and rebuilds the index afterwards
    (about 3x cheaper than indexing row by row); other backends index as
    they go, so this is a no-op there.
    """
    from contextlib import nullcontext

    if db.dialect == "sqlite":
        from paperwire.index.lexical_sqlite import deferred_indexing

        return deferred_indexing(db.engine)
    return nullcontext()


def rebuild_lexical_index(db: Database) -> int:
    """Re-create the lexical index from the papers table; returns rows indexed."""
    with db.session() as session:
        count = database_index(db.dialect).rebuild(session)
    from paperwire.settings import get_settings

    if get_settings().lexical_engine == "tantivy":
        from paperwire.index.publish_lexical import publish_lexical_index

        count = publish_lexical_index(db, force=True).papers
    return count


class AllThenAnyWords:
    """The word semantics every backend shares, written once.

    Free words must all match; when no paper has all of them, the papers
    with any of them are ranked instead (``matched = "any"``); ``any_word``
    asks for those directly. Filter-only queries list the newest papers. A
    backend supplies ``expression(query, any_word=..., require_text=...)``
    and ``excluded_expression(query)`` (its query syntax, or None),
    ``matches(expression)`` (a condition on papers) and ``_ranked``.
    """

    def search(
        self, session: Session, query: ParsedQuery, *, limit: int, offset: int = 0, sort: str = "relevance",
        any_word: bool = False,
    ) -> LexicalPage:
        expression = self.expression(query, any_word=any_word)
        if expression is None:
            return self._browse(session, query, limit=limit, offset=offset)
        page = self._ranked(session, query, expression, limit=limit, offset=offset, sort=sort)
        if any_word:
            page.matched = "any"
        elif page.total == 0 and len(query.required_words()) + len(query.phrases) > 1:
            relaxed = self.expression(query, any_word=True)
            page = self._ranked(session, query, relaxed, limit=limit, offset=offset, sort=sort)
            page.matched = "any"
        return page

    def _browse(self, session: Session, query: ParsedQuery, *, limit: int, offset: int) -> LexicalPage:
        """Filter-only (and exclusion-only) queries: newest first."""
        conditions = filter_conditions(query)
        excluded = self.excluded_expression(query)
        if excluded:
            conditions.append(~self.matches(excluded))
        ids = session.scalars(  # one extra row tells whether this is the last page
            select(Paper.id).where(*conditions).order_by(*date_order()).limit(limit + 1).offset(offset)
        ).all()
        # Counting means scanning every paper in the date range (filters are
        # LIKE patterns): exact only when this page reaches the end anyway.
        total = offset + len(ids) if len(ids) <= limit else None
        return LexicalPage(hits=[LexicalHit(int(i), 0.0) for i in ids[:limit]], total=total)

    def matching_ids(
        self, session: Session, query: ParsedQuery, paper_ids: list[int], *, require_text: bool = True
    ) -> set[int]:
        """Which of ``paper_ids`` pass the query (its words too unless ``require_text`` is False)."""
        if not paper_ids:
            return set()
        conditions = [*filter_conditions(query), Paper.id.in_(paper_ids)]
        expression = self.expression(query, require_text=require_text)
        if expression is None:
            excluded = self.excluded_expression(query)
            if excluded:
                conditions.append(~self.matches(excluded))
        else:
            conditions.append(self.matches(expression))
        return set(session.scalars(select(Paper.id).where(*conditions)))
