"""SQLite FTS5 implementation of :class:`paperwire.index.lexical.LexicalIndex`.

The ``papers_fts`` table (migration ``0002_lexical``) indexes title,
abstract and authors of visible papers and is kept in sync by triggers.
Ranking is BM25 with title weighted above abstract above authors.

Every user term reaches FTS5 as a double-quoted string of plain index terms
(letters and digits only, see :func:`paperwire.index.query.terms`), so words
like ``AND``/``NEAR``, hyphens, colons, quotes, brackets or ``*`` are never
query syntax and no input can cause an FTS5 syntax error.

Speed: FTS5 computes BM25 for every match before ``LIMIT``, so a frequent
word costs time in proportion to the corpus. Counting matches is cheap
(no scoring), so each query counts first; above :data:`SCORE_BUDGET`
matches, relevance ranks only the newest ``SCORE_BUDGET`` matches (by rowid,
i.e. most recently added — for pages within the first tenth of that budget)
and date order walks the date index keeping papers in the match set. Totals
stay exact for pure text queries; with metadata filters they are exact up to
:data:`COUNT_CAP` and None above (or when the text alone matches too much);
filter-only queries report a total only on their last page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, Engine, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from paperwire.index.lexical import AllThenAnyWords, LexicalHit, LexicalPage, date_order, filter_conditions
from paperwire.index.query import ParsedQuery, terms
from paperwire.store.models import Paper

#: BM25 column weights: title, abstract, authors_text.
WEIGHTS = (4.0, 1.0, 0.5)
#: Most matches BM25 ranks for a query; more are narrowed to the newest ones
#: (FTS5 scores every match before LIMIT, so frequent words would be slow).
SCORE_BUDGET = 10_000
#: Counting matches that need the papers table stops here (total = None beyond).
COUNT_CAP = 10_000
_FTS = table("papers_fts", column("rowid"))
_RANK = literal_column(f"bm25(papers_fts, {', '.join(str(w) for w in WEIGHTS)})")


def _phrase(value: str) -> str | None:
    """``value`` as one quoted FTS5 phrase of index terms (None if it has none)."""
    found = terms(value)
    return '"' + " ".join(found) + '"' if found else None


def match_expression(query: ParsedQuery, *, any_word: bool = False, require_text: bool = True) -> str | None:
    """The FTS5 MATCH string for ``query``, or None when it has no positive terms.

    Words and phrases are ANDed (ORed with ``any_word``); every ``author:``
    must match the authors column; excluded terms are removed with ``NOT``.
    """
    texts = [p for p in map(_phrase, [*query.required_words(), *query.phrases]) if p] if require_text else []
    parts = []
    if texts:
        parts.append("(" + (" OR " if any_word else " AND ").join(texts) + ")")
    parts += [f"authors_text : {p}" for p in map(_phrase, query.authors) if p]
    if not parts:
        return None
    expression = " AND ".join(parts)
    excluded = [p for p in map(_phrase, query.excluded) if p]
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def _excluded_expression(query: ParsedQuery) -> str | None:
    excluded = [p for p in map(_phrase, query.excluded) if p]
    return " OR ".join(excluded) if excluded else None


def _capped_count(session: Session, rows) -> int | None:
    """How many rows ``rows`` yields, or None if more than :data:`COUNT_CAP`."""
    found = session.scalar(select(func.count()).select_from(rows.limit(COUNT_CAP + 1).subquery())) or 0
    return None if found > COUNT_CAP else found


def _match(expression: str):
    return text("papers_fts MATCH :fts_match").bindparams(fts_match=expression)


class Fts5Index(AllThenAnyWords):
    """Keyword search with SQLite FTS5 (see the module docstring)."""

    @staticmethod
    def expression(query: ParsedQuery, *, any_word: bool = False, require_text: bool = True) -> str | None:
        return match_expression(query, any_word=any_word, require_text=require_text)

    excluded_expression = staticmethod(_excluded_expression)

    @staticmethod
    def matches(expression: str) -> ColumnElement[bool]:
        return Paper.id.in_(select(_FTS.c.rowid).where(_match(expression)))

    def _ranked(
        self, session: Session, query: ParsedQuery, expression: str, *, limit: int, offset: int, sort: str
    ) -> LexicalPage:
        needs_papers = bool(sort == "date" or query.categories or query.after or query.before)
        matches = session.scalar(select(func.count()).select_from(_FTS).where(_match(expression))) or 0
        if matches == 0:
            return LexicalPage(hits=[], total=0)
        if sort == "date" and matches > SCORE_BUDGET:
            return LexicalPage(hits=self._newest(session, query, expression, limit, offset), total=None)
        floor = None
        if sort == "relevance" and matches > SCORE_BUDGET and offset + limit <= SCORE_BUDGET // 10:
            # BM25 scores every matching row; bound the work to the newest matches.
            floor = session.scalar(
                select(_FTS.c.rowid).where(_match(expression)).order_by(_FTS.c.rowid.desc()).offset(SCORE_BUDGET).limit(1)
            )
        rows = self._ranked_rows(session, query, expression, needs_papers, floor, limit=limit, offset=offset, sort=sort)
        if floor is not None and len(rows) < limit:
            # Filters left too few of the newest matches: rank them all after all.
            rows = self._ranked_rows(session, query, expression, needs_papers, None, limit=limit, offset=offset, sort=sort)
        if needs_papers and matches > SCORE_BUDGET:
            total = None  # counting would join every match with papers: too slow to do per page
        elif needs_papers:
            total = _capped_count(session, select(literal_column("1")).select_from(_FTS).join(
                Paper, Paper.id == _FTS.c.rowid).where(_match(expression), *filter_conditions(query)))
        else:
            total = matches
        return LexicalPage(hits=[LexicalHit(int(r[0]), -float(r[1])) for r in rows], total=total)

    def _newest(self, session: Session, query: ParsedQuery, expression: str, limit: int, offset: int) -> list[LexicalHit]:
        """Date order for frequent terms: walk the date index, keep papers in the match set."""
        in_matches = literal_column("+papers.id").in_(select(_FTS.c.rowid).where(_match(expression)))
        ids = session.scalars(  # "+": not the primary key for IN, so SQLite walks ix_papers_browse by date
            select(Paper.id).where(*filter_conditions(query), in_matches)
            .order_by(*date_order()).limit(limit).offset(offset)
        ).all()
        scores = {}
        for paper_id in ids:  # rowid = ? lets FTS5 seek instead of scoring every match
            scores[paper_id] = session.scalar(
                select(_RANK).select_from(_FTS).where(_match(expression), _FTS.c.rowid == paper_id)) or 0.0
        return [LexicalHit(int(i), -float(scores.get(i, 0.0))) for i in ids]

    def _ranked_rows(self, session, query, expression, needs_papers, floor, *, limit, offset, sort) -> list:
        stmt = select(_FTS.c.rowid, _RANK.label("rank")).select_from(_FTS)
        if needs_papers:
            stmt = stmt.join(Paper, Paper.id == _FTS.c.rowid).where(*filter_conditions(query))
        stmt = stmt.where(_match(expression))
        if floor is not None:
            stmt = stmt.where(_FTS.c.rowid > floor)
        order = date_order() if sort == "date" else [literal_column("rank"), _FTS.c.rowid]
        return session.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()

    def rebuild(self, session: Session) -> int:
        """Re-create the index from the papers table and refresh planner statistics (after bulk loads)."""
        session.execute(text("INSERT INTO papers_fts(papers_fts) VALUES ('delete-all')"))
        result = session.execute(text(
            "INSERT INTO papers_fts(rowid, title, abstract, authors_text) "
            "SELECT id, title, abstract, authors_text FROM papers WHERE hidden = 0"
        ))
        session.execute(text("INSERT INTO papers_fts(papers_fts) VALUES ('optimize')"))
        # Planner statistics: without them SQLite checks filters on whole paper
        # rows instead of the covering index ix_papers_filter (3x slower).
        session.execute(text("ANALYZE papers"))
        return result.rowcount


@contextmanager
def deferred_indexing(engine: Engine) -> Iterator[None]:
    """Bulk-load mode: drop the sync triggers, then rebuild the index once at the end.

    For imports of hundreds of thousands of new papers into SQLite. The
    triggers are re-created from their stored SQL (also when the load fails),
    so the schema stays exactly what the migration made. Not for concurrent
    writers: papers written by others meanwhile are indexed by the rebuild.
    """
    with engine.begin() as conn:
        triggers = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'papers_fts_%'"
        )).all()
        for name, _ in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        yield
    finally:
        with Session(engine) as session, session.begin():
            Fts5Index().rebuild(session)
            for _, sql in triggers:
                session.execute(text(sql))
