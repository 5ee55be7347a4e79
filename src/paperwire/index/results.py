"""Search results: hits with highlighted, escaped titles and snippets, and lexical search.

Shared by :mod:`paperwire.index.search` (the entry point) and
:mod:`paperwire.index.hybrid` (semantic and hybrid ranking), so that neither
imports the other back.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from paperwire.index.lexical import SORTS, Highlight, get_lexical_index
from paperwire.index.lexical_tantivy import plain_snippet
from paperwire.index.query import ParsedQuery

from paperwire.store.db import Database
from paperwire.store.models import Paper
from paperwire.store.papers import papers_by_ids

MODES: tuple[str, ...] = ("hybrid", "lexical", "semantic")
MAX_LIMIT = 1000


@dataclass
class SearchHit:
    paper: Paper
    #: Higher is better; comparable only within one result list.
    score: float
    #: Title as safe HTML: escaped, matched terms in ``<mark>``.
    title_html: str
    #: Part of the abstract around the matches, safe HTML like ``title_html``.
    snippet_html: str


@dataclass
class SearchResults:
    hits: list[SearchHit]
    #: Number of matching papers (None when the mode cannot count them).
    total: int | None
    #: The mode that actually ran ("lexical" when semantic search is unavailable).
    mode: str
    query: ParsedQuery
    #: "all" = every word matched; "any" = nothing had all words, so papers
    #: with some of them are shown.
    matched: str = "all"
    warnings: list[str] = field(default_factory=list)
    #: With ``separate_related``: papers close in meaning that contain none of
    #: the words, kept apart from ``hits`` (and from ``total``) so pages can
    #: label them instead of passing them off as matches.
    related: list[SearchHit] = field(default_factory=list)


def check_arguments(mode: str, sort: str, limit: int, offset: int) -> None:
    """Refuse a mode, sort or page that does not exist (a ValueError the callers show)."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}; choose one of: {', '.join(MODES)}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; choose one of: {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must not be negative, got {offset}")


def lexical_search(
    db: Database, parsed: ParsedQuery, limit: int = 20, offset: int = 0, sort: str = "relevance", *,
    session: Session | None = None,
) -> SearchResults:
    """Keyword search with the published tantivy index (in ``session`` when the caller has one)."""
    check_arguments("lexical", sort, limit, offset)
    if parsed.is_empty:
        return SearchResults(hits=[], total=0, mode="lexical", query=parsed, warnings=list(parsed.warnings))
    with db.reading(session) as session:
        return _lexical_results(session, parsed, limit, offset, sort)


def _lexical_results(session: Session, parsed: ParsedQuery, limit: int, offset: int, sort: str) -> SearchResults:
    page = get_lexical_index().search(session, parsed, limit=limit, offset=offset, sort=sort)
    if page.papers is not None:
        papers = [page.papers[hit.paper_id] for hit in page.hits]
    else:
        papers = papers_by_ids(session, [hit.paper_id for hit in page.hits])
    scores = {hit.paper_id: hit.score for hit in page.hits}
    hits = [make_hit(paper, scores[paper.id], page.highlight) for paper in papers]
    return SearchResults(
        hits=hits, total=page.total, mode="lexical", query=parsed, matched=page.matched,
        warnings=list(parsed.warnings),
    )


def make_hit(paper: Paper, score: float, highlight: Highlight | None) -> SearchHit:
    """A result row, marked by the engine's ``highlight`` (every mode marks the same way).

    Without one (a filter-only query, no index published yet) there is nothing
    to mark: the title escaped, the abstract's beginning as the snippet.
    """
    if highlight is None:
        title_html, snippet_html = html.escape(paper.title), plain_snippet(paper.abstract or "")
    else:
        title_html, snippet_html = highlight(paper.title, paper.abstract or "")
    return SearchHit(paper=paper, score=score, title_html=title_html, snippet_html=snippet_html)
