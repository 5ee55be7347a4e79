"""Semantic and hybrid search.

Semantic: the query is embedded and its nearest papers come from the vector
index; the query language's filters (author, category, dates, excluded
words) are applied to those candidates. Hybrid: the lexical (BM25) and the
semantic ranking are fused by weighted reciprocal rank fusion,
``score(d) = Σ w_m / (k + rank_m(d))`` — rank-based, so the two incomparable
score scales need no calibration. k and the weights were grid-searched by
``bench/eval_search.py`` on half of its queries (known-item retrieval with
queries that do not copy the title, and arXiv-category agreement) and checked
on the other half: a small k with the lexical ranking weighted 3:1 keeps
BM25's near-perfect known-item ranking (a strong lexical top hit stays first)
while the semantic ranking fills the list where the words match little —
which is where topical relatedness comes from. The textbook k = 60, 1:1 lost
about 10 MRR points on known items. Min-max score combination (CombSUM)
measured within 0.001 of this.

Lexical search requires every word; for fusion, papers that match only some
of the words join as a third, lighter ranking (weight 0.5). A long query —
a title — matches all its words only in its own paper, and this tail lifted
category agreement above the semantic ranking alone (0.342 vs 0.334) with
known-item retrieval unchanged.

When no paper has all the words, the lexical ranking is the any-word one,
and whether to trust it depends on how much of the query its best paper
holds (:func:`fusion_weights`). A reader describing a paper in their own
words ("making pictures follow drawn paths in generated clips") shares only
scattered words with any paper: the best any-word match then holds about
half of the query's terms, against 80-90 % for a query made of a paper's own
vocabulary. Below :data:`WEAK_MATCH_COVERAGE` the semantic ranking leads.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from paperwire.index.lexical import get_lexical_index
from paperwire.index.lexical_tantivy import word_coverage
from paperwire.index.query import ParsedQuery
from paperwire.index.results import SearchResults, lexical_search, make_hit
from paperwire.index.vectors import SemanticUnavailable, semantic_index
from paperwire.store.db import Database
from paperwire.store.models import Paper
from paperwire.store.papers import papers_by_ids, published_date
from paperwire.store.visible import visible_ids

RRF_K = 1
LEXICAL_WEIGHT = 3.0
SEMANTIC_WEIGHT = 1.0
#: Weight of papers that match only some of the words (0 = leave them out).
ANY_WORD_WEIGHT = 0.5
#: When no paper has all the words and the best any-word match holds less than this share
#: of the query's (stemmed) terms, the words say little and meaning decides ...
WEAK_MATCH_COVERAGE = 0.6
#: ... with this semantic weight (against LEXICAL_WEIGHT). Both chosen on the tune half of
#: ``bench/eval_all.py``'s queries (``--grid``): hand-written descriptions of real papers
#: (``bench/written_queries.json``) went from MRR@10 0.176 to 0.210 (test half 0.146 ->
#: 0.229; semantic alone 0.173 / 0.203, lexical 0.161 / 0.120) with every other kind unchanged
#: (keywords, summary words and no-title queries keep lexical's lead: their best
#: any-word match holds 80-90 % of the terms; hand-written ones about 50 %).
WEAK_MATCH_SEMANTIC_WEIGHT = 4.0
#: How many candidates each ranking contributes before fusion.
CANDIDATES = 200
#: What one more neighbour in an HNSW search costs against comparing one paper
#: exactly (at 1M papers: 12,800 neighbours took 270 ms, 20,000 exact comparisons 90 ms).
EXACT_COST_RATIO = 4.7
#: Neighbours searched per result needed, over the share of papers meeting the conditions.
WIDEN = 1.5
#: With ``separate_related``: at most this many meaning-only papers, first page only.
RELATED = 5


def search_semantic_or_hybrid(
    db: Database, parsed: ParsedQuery, *, mode: str, limit: int = 20, offset: int = 0, sort: str = "relevance",
    separate_related: bool = False, session: Session | None = None,
) -> SearchResults:
    text = parsed.semantic_text().strip()
    if not text:
        return lexical_search(db, parsed, limit=limit, offset=offset, sort=sort, session=session)
    with db.reading(session) as session:  # one session for the whole search
        return _search(db, session, parsed, text, mode=mode, limit=limit, offset=offset, sort=sort,
                       separate_related=separate_related)


def _search(
    db: Database, session: Session, parsed: ParsedQuery, text: str, *, mode: str, limit: int, offset: int,
    sort: str, separate_related: bool,
) -> SearchResults:
    depth = max(CANDIDATES, 2 * (offset + limit))
    try:
        semantic = semantic_ranking(db, parsed, text, depth, session=session)
    except SemanticUnavailable as exc:
        results = lexical_search(db, parsed, limit=limit, offset=offset, sort=sort, session=session)
        results.warnings.append(f"Showing word matches only: {exc}.")
        return results
    related: list[tuple[int, float]] = []
    related_papers: dict[int, Paper] = {}
    word_total: int | None = None
    if mode == "semantic":
        ranked = semantic
    else:
        words = lexical_rankings(db, parsed, depth, session=session)
        lexical, tail = words.ranking, words.tail
        ranked = fuse([lexical, tail, semantic], fusion_weights(session, parsed, words))
        if separate_related:
            # Matches are the papers with all the words; only when none has them all, those with some.
            ranked, related = split_word_matches(ranked, lexical or tail, semantic)
            related = related[:RELATED] if offset == 0 else []
            if len(lexical) >= depth:  # more word matches than candidates: count them all
                word_total = lexical_count(db, parsed, session=session)
    # Every ranking holds only visible papers already (the lexical engine and
    # semantic_ranking check): only the date sort needs every candidate's row.
    if sort == "date":
        papers = {p.id: p for p in papers_by_ids(session, [pid for pid, _ in ranked])}
        ranked = [(pid, score) for pid, score in ranked if pid in papers]
        ranked.sort(key=lambda item: (date_sort_key(papers[item[0]]), item[0]), reverse=True)
    page = ranked[offset : offset + limit]
    if sort != "date":
        papers = {p.id: p for p in papers_by_ids(session, [pid for pid, _ in page])}
        page = [(pid, score) for pid, score in page if pid in papers]
    if related:
        related_papers = {p.id: p for p in papers_by_ids(session, [pid for pid, _ in related])}
        related = [(pid, score) for pid, score in related if pid in related_papers]
    mark = get_lexical_index().highlighter(session, parsed) if page or related else None
    hits = [make_hit(papers[pid], score, mark) for pid, score in page]
    total = None if separate_related and mode == "semantic" else (word_total or len(ranked))
    return SearchResults(hits=hits, total=total, mode=mode, query=parsed, warnings=list(parsed.warnings),
                         related=[make_hit(related_papers[pid], score, mark) for pid, score in related])


def split_word_matches(
    fused: list[tuple[int, float]], word_matches: list[tuple[int, float]], semantic: list[tuple[int, float]],
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(papers with the query's words, fused order; meaning-only papers worth showing as "related").

    Cosines are not comparable across queries (nonsense still scores about
    0.4 with the packaged embedder), so the floor is relative: a related paper
    must be at least as close in meaning as the median word match. No word
    match, no anchor: nothing is related (a nonsense query shows nothing).
    """
    words = {pid for pid, _ in word_matches}
    cosine = dict(semantic)
    anchors = sorted(cosine[pid] for pid in words if pid in cosine)
    matched = [item for item in fused if item[0] in words]
    if not anchors:
        return matched, []
    floor = anchors[len(anchors) // 2]
    related = [(pid, cos) for pid, cos in semantic if pid not in words and cos >= floor]
    return matched, related


class WordRankings(NamedTuple):
    """What the lexical index ranks for a hybrid search."""

    #: (paper id, BM25 score) of the papers with all the words; when none has
    #: them all (``fell_back``), of those with any of them.
    ranking: list[tuple[int, float]]
    #: Papers with only some of the words, after ``ranking`` (empty when it fell back).
    tail: list[tuple[int, float]]
    fell_back: bool


def lexical_rankings(db: Database, parsed: ParsedQuery, depth: int, *, session: Session | None = None,
                     ) -> WordRankings:
    """The papers with all the words, then those with only some (see :class:`WordRankings`).

    Not ``lexical_search``: that builds highlighted hits for every candidate
    (most of a hybrid query's time) and caps ``limit`` at ``MAX_LIMIT``. The
    any-word tail matters for long or paraphrased queries (a title used as a
    query matches all its words only in its own paper).
    """
    index = get_lexical_index()
    with db.reading(session) as session:
        page = index.search(session, parsed, limit=depth, offset=0, sort="relevance")
        ranking = [(hit.paper_id, hit.score) for hit in page.hits]
        tail: list[tuple[int, float]] = []
        if ANY_WORD_WEIGHT and page.matched == "all" and len(ranking) < depth and len(parsed.required_words()) > 1:
            seen = {pid for pid, _ in ranking}
            more = index.search(session, parsed, limit=depth, offset=0, sort="relevance", any_word=True)
            tail = [(hit.paper_id, hit.score) for hit in more.hits if hit.paper_id not in seen][: depth - len(ranking)]
    return WordRankings(ranking, tail, page.matched == "any")


def best_match_coverage(session: Session, parsed: ParsedQuery, words: WordRankings) -> float:
    """Share of the query's terms that its best any-word match holds; 1.0 unless lexical fell back.

    One primary-key read, only when no paper has all the words.
    """
    if words.fell_back and words.ranking:
        best = session.get(Paper, words.ranking[0][0])
        if best is not None:
            return word_coverage(parsed.required_words(), best.title, best.abstract or "")
    return 1.0


def fusion_weights(session: Session, parsed: ParsedQuery, words: WordRankings) -> list[float]:
    """The weights of [all-word ranking, any-word tail, semantic ranking] for this query.

    The semantic ranking leads (:data:`WEAK_MATCH_SEMANTIC_WEIGHT`) when no
    paper has all the words and the best word match holds less than
    :data:`WEAK_MATCH_COVERAGE` of them (see the module docstring); otherwise
    the fixed weights.
    """
    if best_match_coverage(session, parsed, words) < WEAK_MATCH_COVERAGE:
        return [LEXICAL_WEIGHT, ANY_WORD_WEIGHT, WEAK_MATCH_SEMANTIC_WEIGHT]
    return [LEXICAL_WEIGHT, ANY_WORD_WEIGHT, SEMANTIC_WEIGHT]


def lexical_count(db: Database, parsed: ParsedQuery, *, session: Session | None = None) -> int | None:
    """How many papers have all the query's words (the lexical index counts them)."""
    index = get_lexical_index()
    with db.reading(session) as session:
        return index.search(session, parsed, limit=1, offset=0, sort="relevance").total


def lexical_ranking(db: Database, parsed: ParsedQuery, depth: int, *, session: Session | None = None,
                    ) -> list[tuple[int, float]]:
    """What lexical mode ranks (all words; any word only when nothing has all)."""
    index = get_lexical_index()
    with db.reading(session) as session:
        page = index.search(session, parsed, limit=depth, offset=0, sort="relevance")
    return [(hit.paper_id, hit.score) for hit in page.hits]


def semantic_ranking(db: Database, parsed: ParsedQuery, text: str, depth: int, *, session: Session | None = None,
                     ) -> list[tuple[int, float]]:
    """(paper id, cosine) of the nearest visible papers that meet the query's conditions.

    The lexical engine decides which papers meet them (phrases, ``author:``,
    ``cat:``, dates, exclusions), as it does for word matches: one answer to
    "does this paper match", and no paper rows read. When few papers do (see
    :func:`exact_limit`), those are compared with the query one by one (exact);
    otherwise as many nearest neighbours as their share of the corpus needs
    are searched, widened until enough pass.
    (Checking candidates' text in Python, then widening, took ~2 s for a phrase
    at 1M papers: few of the nearest papers hold it.)
    """
    index = semantic_index(db)
    vector = index.query_vector(text)
    engine = get_lexical_index() if parsed.has_conditions else None
    k = depth
    with db.reading(session) as reading:
        if engine is not None:
            index.refresh(reading)
            corpus = max(index.generation_size, 1)
            meeting = engine.condition_matches(reading, parsed, limit=exact_limit(depth, corpus))
            if meeting.ids is not None:
                return index.nearest_among(vector, meeting.ids, depth, session=reading)
            # A share of the corpus meets them: ask for enough neighbours at once.
            share = min(meeting.count / corpus, 1.0)
            k = max(depth, min(int(WIDEN * depth / max(share, 1e-9)), 64 * depth))  # 64: the widest before
        while True:
            neighbours = index.nearest(vector, k, session=reading)
            ids = [pid for pid, _ in neighbours]
            allowed = (engine.matching_ids(reading, parsed, ids, words_required=False) if engine is not None
                       else visible_ids(reading, ids))
            kept = [(pid, score) for pid, score in neighbours if pid in allowed]
            if len(kept) >= depth or len(neighbours) < k or k >= 20 * depth:
                return kept[:depth]
            k *= 4


def exact_limit(depth: int, corpus: int) -> int:
    """How many papers meeting the conditions are still cheaper to compare one by one.

    Exact costs ``count``; the neighbour search costs ``EXACT_COST_RATIO * WIDEN *
    depth * corpus / count``; they meet at the square root (~37,500 at 1M papers
    and 200 results, ~800 for the 451-paper demo).
    """
    return max(depth, int(math.sqrt(EXACT_COST_RATIO * WIDEN * depth * corpus)))


def fuse(rankings: list[list[tuple[int, float]]], weights: list[float], k: int = RRF_K) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several rankings (best first)."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, (pid, _) in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


#: Undated papers sort after every dated one (a datetime, like ``published_date``).
_UNDATED = datetime.min


def date_sort_key(paper: Paper) -> datetime:
    """One type for the date sort: ``published_date`` is a datetime, so is the fallback."""
    return published_date(paper) or _UNDATED

