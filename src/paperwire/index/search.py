"""The one search entry point used by the CLI, the web site and the API.

``search`` parses the query, picks the mode and returns loaded papers with
highlighted, HTML-escaped titles and snippets (:mod:`paperwire.index.results`).
Semantic and hybrid ranking live in :mod:`paperwire.index.hybrid`; when no
vector index is published yet they answer with word matches and say so.
"""

from __future__ import annotations

from paperwire.index.hybrid import search_semantic_or_hybrid
from paperwire.index.query import parse_query
from paperwire.index.results import (
    MAX_LIMIT, MODES, SearchHit, SearchResults, check_arguments, lexical_search,
)
from sqlalchemy.orm import Session

from paperwire.store.db import Database

#: ``search`` and the result types, re-exported so callers need one import.
__all__ = ["MAX_LIMIT", "MODES", "SearchHit", "SearchResults", "lexical_search", "search"]


def search(
    db: Database, query: str, *, mode: str = "hybrid", limit: int = 20, offset: int = 0, sort: str = "relevance",
    separate_related: bool = False, session: Session | None = None,
) -> SearchResults:
    """Search papers; see :mod:`paperwire.index.query` for the query language.

    ``separate_related`` (what people see: the site, the API): hybrid ``hits``
    and ``total`` are only papers with the query's words, the closest others
    by meaning come in ``related``; semantic mode reports no count (every
    paper is "near" by some distance). Without it hybrid hits are the fused
    list the search evaluation measures. ``session``: the caller's, when a
    page reads more than the search (else the search opens its own).
    """
    check_arguments(mode, sort, limit, offset)
    parsed = parse_query(query)
    if mode in ("semantic", "hybrid"):
        return search_semantic_or_hybrid(db, parsed, mode=mode, limit=limit, offset=offset, sort=sort,
                                         separate_related=separate_related, session=session)
    return lexical_search(db, parsed, limit=limit, offset=offset, sort=sort, session=session)
