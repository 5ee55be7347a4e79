"""Lexical (keyword) search: the interface, the result types and the SQL metadata filters.

One engine answers on SQLite and PostgreSQL deployments alike: tantivy
(:mod:`paperwire.index.lexical_tantivy`, published by
:mod:`paperwire.index.publish_lexical`). The database's own full-text
indexes (FTS5, tsvector) were retired by migration ``0014_retire_db_fts``.
The SQL filters for metadata (categories, dates, hidden papers) stay here
for the semantic search, which checks its neighbours in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Literal, NamedTuple, Protocol

import numpy as np
from sqlalchemy.orm import Session

from paperwire.index.query import ParsedQuery
from paperwire.store.models import Paper

Sort = Literal["relevance", "date"]


class NewestMatches(NamedTuple):
    """What :meth:`LexicalIndex.newest_matches` found: ids, newest first, their submission
    days (``datetime64[D]``, NaT when undated) and how many papers match in all."""

    ids: list[int]
    days: np.ndarray
    total: int


class ConditionMatches(NamedTuple):
    """What :meth:`LexicalIndex.condition_matches` found."""

    ids: list[int] | None
    count: int
#: (title, abstract) -> (title HTML, snippet HTML): escaped, the query's words in ``<mark>``.
Highlight = Callable[[str, str], tuple[str, str]]
SORTS: tuple[str, ...] = ("relevance", "date")


@dataclass(frozen=True, slots=True)
class LexicalHit:
    paper_id: int
    #: Higher is better (BM25); 0.0 for filter-only queries and date order.
    score: float


@dataclass(slots=True)
class LexicalPage:
    hits: list[LexicalHit]
    #: Number of matching papers (None when unknown).
    total: int | None
    #: "all" when every word had to match, "any" when that found nothing and
    #: the backend fell back to papers matching any of the words.
    matched: str = "all"
    #: The engine's marker for this query's words; None for filter-only queries
    #: (nothing to mark: ``results.make_hit`` escapes and cuts).
    highlight: Highlight | None = None
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

    def condition_matches(self, session: Session, query: ParsedQuery, *, limit: int) -> ConditionMatches:
        """Every visible paper meeting the query's conditions (phrases, ``author:``,
        ``cat:``, dates, exclusions; not its free words) — ``ids`` is None when more
        than ``limit`` do — and how many do. Few enough are ranked by meaning
        exactly, one by one; for more, the count says how far to look among the
        nearest neighbours of the whole corpus.
        """
        ...

    def matching_ids(self, session: Session, query: ParsedQuery, paper_ids: list[int], *,
                     words_required: bool = True) -> set[int]:
        """Which of ``paper_ids`` are visible and satisfy the query's words and conditions.

        ``words_required=False``: its conditions only (phrases, ``author:``,
        ``cat:``, dates, exclusions) — what a paper found by meaning must meet.
        """
        ...

    def newest_matches(self, session: Session, query: ParsedQuery, *, limit: int) -> NewestMatches:
        """The newest ``limit`` matches (ids and submission days), and how many match.

        For counting matches over time (the search page's chart): the index
        alone answers, with no database read, so a paper hidden a moment ago
        may still be counted until the index is next extended (seconds on a
        small site, the worker's next round on a big one).
        """
        ...

    def highlighter(self, session: Session, query: ParsedQuery) -> Highlight | None:
        """The engine's marker for ``query``'s words, for papers that other rankings found.

        Semantic and hybrid hits are marked by the same snippet generator as
        word matches, so every mode marks the same (stemmed, accent-folded)
        forms. None when the query has no words or no index is published.
        """
        ...



def date_order() -> list:
    """Newest first, papers without a date last, ties by id (stable paging)."""
    return [Paper.submitted_at.desc().nulls_last(), Paper.id.desc()]


def get_lexical_index() -> LexicalIndex:
    """The lexical index: the published tantivy generation (the only engine, on every backend)."""
    from paperwire.index.lexical_engine import TantivyIndex

    return TantivyIndex()
