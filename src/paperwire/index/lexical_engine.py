"""The tantivy engine behind the :class:`~paperwire.index.lexical.LexicalIndex` interface.

Reads only published generations (:mod:`paperwire.index.publish_lexical`
builds them). Until one is published on this host nothing matches: the
worker, every import, the demo loader and ``paperwire index rebuild``
publish one, and web writes extend it right after their commit
(:mod:`paperwire.index.lexical_sync`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.index.lexical import ConditionMatches, Highlight, LexicalPage, NewestMatches
from paperwire.index.lexical_tantivy import READERS, SCHEMA_NAME, TantivySearcher, key_days
from paperwire.index.query import ParsedQuery
from paperwire.settings import get_settings
from paperwire.store.generations import LEXICAL, IndexGeneration


#: The newest published generations, two columns by the lookup index: this runs on every
#: search, so the statement is built once (building one costs more than running it), on
#: the table rather than the mapped class (an ORM statement took ~40 µs more to run).
_GENERATIONS = IndexGeneration.__table__
_NEWEST = (
    select(_GENERATIONS.c.id, _GENERATIONS.c.path)
    .where(_GENERATIONS.c.kind == LEXICAL, _GENERATIONS.c.model == SCHEMA_NAME, _GENERATIONS.c.published.is_(True))
    .order_by(_GENERATIONS.c.id.desc()).limit(3)
)


#: ``session.info`` key: (the transaction, the searcher it looked up).
_SESSION_SEARCHER = "paperwire_lexical_searcher"


def published_searcher(session: Session) -> TantivySearcher | None:
    """A searcher on the newest published generation present on this host, or None.

    Looked up once per transaction of ``session``: a search page asks several
    times (results, chart, highlighting, conditions), and under load the
    lookup was 18 % of its time. The transaction owns the answer, so a page
    searches the generation that was newest when its reads began, and a
    session that goes on after a commit looks again.
    """
    memo = session.info.get(_SESSION_SEARCHER)
    if memo is not None and memo[0] is session.get_transaction():
        return memo[1]
    searcher = _lookup(session)
    session.info[_SESSION_SEARCHER] = (session.get_transaction(), searcher)
    return searcher


def _lookup(session: Session) -> TantivySearcher | None:
    rows = session.connection().execute(_NEWEST).all()
    data_dir = get_settings().data_dir_path()
    for generation, path in rows:  # a host still building its copy of the newest one searches the one before
        if path:
            index = READERS.get(data_dir / path, generation)
            if index is not None:
                return TantivySearcher(index)
    return None


class TantivyIndex:
    """The published tantivy generation; an empty result until one exists."""

    def search(self, session: Session, query: ParsedQuery, *, limit: int, offset: int = 0,
               sort: str = "relevance", any_word: bool = False) -> LexicalPage:
        searcher = published_searcher(session)
        if searcher is None:
            return LexicalPage(hits=[], total=0, matched="any" if any_word else "all")
        return searcher.search(session, query, limit=limit, offset=offset, sort=sort, any_word=any_word)

    def condition_matches(self, session: Session, query: ParsedQuery, *, limit: int) -> ConditionMatches:
        searcher = published_searcher(session)
        return searcher.condition_matches(session, query, limit=limit) if searcher is not None else ConditionMatches([], 0)

    def matching_ids(self, session: Session, query: ParsedQuery, paper_ids: list[int], *,
                     words_required: bool = True) -> set[int]:
        searcher = published_searcher(session)
        if searcher is None:
            return set()
        return searcher.matching_ids(session, query, paper_ids, words_required=words_required)

    def highlighter(self, session: Session, query: ParsedQuery) -> Highlight | None:
        searcher = published_searcher(session)
        return searcher.highlighter(query) if searcher is not None else None

    def newest_matches(self, session: Session, query: ParsedQuery, *, limit: int) -> NewestMatches:
        searcher = published_searcher(session)
        return searcher.newest_matches(query, limit=limit) if searcher is not None else NewestMatches([], key_days([]), 0)
