"""Search results: hits with highlighted, escaped titles and snippets, and lexical search.

Shared by :mod:`paperwire.index.search` (the entry point) and
:mod:`paperwire.index.hybrid` (semantic and hybrid ranking), so that neither
imports the other back.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

from paperwire.index.lexical import SORTS, get_lexical_index
from paperwire.index.query import ParsedQuery, terms
from sqlalchemy.orm import Session

from paperwire.store.db import Database
from paperwire.store.models import Paper
from paperwire.store.papers import papers_by_ids

MODES: tuple[str, ...] = ("hybrid", "lexical", "semantic")
MAX_LIMIT = 1000
SNIPPET_WORDS = 40
_WORDISH = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")


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
    if session is None:
        with db.read_session() as session:
            return _lexical_results(session, parsed, limit, offset, sort)
    return _lexical_results(session, parsed, limit, offset, sort)


def _lexical_results(session: Session, parsed: ParsedQuery, limit: int, offset: int, sort: str) -> SearchResults:
    page = get_lexical_index().search(session, parsed, limit=limit, offset=offset, sort=sort)
    if page.papers is not None:
        papers = [page.papers[hit.paper_id] for hit in page.hits]
    else:
        papers = papers_by_ids(session, [hit.paper_id for hit in page.hits])
    scores = {hit.paper_id: hit.score for hit in page.hits}
    if page.highlight is not None:  # the engine marks its own matches (stemmed forms too)
        hits = [SearchHit(paper, scores[paper.id], *page.highlight(paper.title, paper.abstract or "")) for paper in papers]
    else:
        hits = [make_hit(paper, scores[paper.id], parsed) for paper in papers]
    return SearchResults(
        hits=hits, total=page.total, mode="lexical", query=parsed, matched=page.matched,
        warnings=list(parsed.warnings),
    )


def make_hit(paper: Paper, score: float, parsed: ParsedQuery) -> SearchHit:
    """A result row with highlighted title and snippet (shared with hybrid search)."""
    marks = parsed.highlight_terms()
    return SearchHit(
        paper=paper, score=score, title_html=highlight(paper.title, parsed, marks),
        snippet_html=snippet(paper.abstract or "", parsed, marks),
    )


@lru_cache(maxsize=65_536)
def _word_terms(word: str) -> tuple[str, ...]:
    """``terms`` of one word, cached: abstracts repeat their vocabulary a lot."""
    return tuple(terms(word))


def _is_match(word: str, marks: set[str]) -> bool:
    return any(t in marks for t in _word_terms(word))


def highlight(text: str, parsed: ParsedQuery, marks: set[str] | None = None) -> str:
    """``text`` as escaped HTML with the query's terms wrapped in ``<mark>``."""
    marks = parsed.highlight_terms() if marks is None else marks
    if not marks:
        return html.escape(text)
    out, last = [], 0
    for match in _WORDISH.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        word = match.group()
        out.append(f"<mark>{html.escape(word)}</mark>" if _is_match(word, marks) else html.escape(word))
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(text: str, parsed: ParsedQuery, marks: set[str] | None = None, *, words: int = SNIPPET_WORDS) -> str:
    """The ``words``-word window of ``text`` with the most matches, highlighted.

    Cut ends get an ellipsis; with no matches the snippet is the beginning.
    """
    marks = parsed.highlight_terms() if marks is None else marks
    tokens = text.split()
    if len(tokens) <= words:
        return highlight(" ".join(tokens), parsed, marks)
    hits = [1 if marks and _is_match(token, marks) else 0 for token in tokens]
    best_start, best, window = 0, sum(hits[:words]), sum(hits[:words])
    for start in range(1, len(tokens) - words + 1):
        window += hits[start + words - 1] - hits[start - 1]
        if window > best:
            best_start, best = start, window
    if best and best_start > 0:
        # Start a few words before the first match in the window, for context.
        first = next(i for i in range(best_start, best_start + words) if hits[i])
        best_start = max(0, min(first - 5, len(tokens) - words))
    body = highlight(" ".join(tokens[best_start:best_start + words]), parsed, marks)
    prefix = "… " if best_start > 0 else ""
    suffix = " …" if best_start + words < len(tokens) else ""
    return prefix + body + suffix
