"""The tantivy engine behind the :class:`~paperwire.index.lexical.LexicalIndex` interface.

Reads only published generations (:mod:`paperwire.index.publish_lexical`
builds them). Until one is published on this host, the database's own
full-text index answers, so search works right after an import or on a
host whose copy is still being built.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.index.lexical import LexicalIndex, LexicalPage
from paperwire.index.lexical_tantivy import READERS, SCHEMA_NAME, TantivySearcher
from paperwire.index.query import ParsedQuery
from paperwire.settings import get_settings
from paperwire.store.generations import LEXICAL, IndexGeneration


def published_searcher(session: Session) -> TantivySearcher | None:
    """A searcher on the newest published generation present on this host, or None."""
    row = session.execute(  # two columns by the lookup index: this runs on every search
        select(IndexGeneration.id, IndexGeneration.path)
        .where(IndexGeneration.kind == LEXICAL, IndexGeneration.model == SCHEMA_NAME, IndexGeneration.published.is_(True))
        .order_by(IndexGeneration.id.desc()).limit(1)
    ).first()
    if row is None or not row.path:
        return None
    index = READERS.get(get_settings().resolved_data_dir() / row.path, row.id)
    return TantivySearcher(index) if index is not None else None


class TantivyIndex:
    """tantivy when published, else ``fallback`` (the database engine)."""

    def __init__(self, fallback: LexicalIndex):
        self.fallback = fallback

    def search(self, session: Session, query: ParsedQuery, *, limit: int, offset: int = 0,
               sort: str = "relevance", any_word: bool = False) -> LexicalPage:
        searcher = published_searcher(session)
        if searcher is None:
            return self.fallback.search(session, query, limit=limit, offset=offset, sort=sort, any_word=any_word)
        return searcher.search(session, query, limit=limit, offset=offset, sort=sort, any_word=any_word)

    def matching_ids(self, session: Session, query: ParsedQuery, paper_ids: list[int], **options) -> set[int]:
        searcher = published_searcher(session)
        if searcher is None:
            return self.fallback.matching_ids(session, query, paper_ids, **options)
        return searcher.matching_ids(session, query, paper_ids, **options)

    def rebuild(self, session: Session) -> int:
        return self.fallback.rebuild(session)
