"""Hybrid search with ``separate_related``: honest counts, no padding
(issue 14: "sinkhorn" reported 200 results with one relevant, a nonsense
query 200 too). Papers without the words come only as labelled "related"."""

from __future__ import annotations

import pytest

from sqlalchemy import func, or_, select

from paperwire.demo import load_demo
from paperwire.index.hybrid import split_word_matches
from paperwire.index.search import search
from paperwire.store.models import Paper


def papers_containing(db, word: str) -> int:
    """How many papers really hold ``word`` (the honest count, the real lists included)."""
    pattern = f"%{word}%"
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Paper).where(
            or_(func.lower(Paper.title).like(pattern), func.lower(Paper.abstract).like(pattern))))


@pytest.fixture
def demo_db(db):
    load_demo(db, log=lambda *_: None)
    return db


def test_rare_word_counts_only_its_matches(demo_db):
    results = search(demo_db, "sinkhorn", separate_related=True)
    expected = papers_containing(demo_db, "sinkhorn")
    assert 1 <= expected <= 3 and results.total == len(results.hits) == expected
    assert all("sinkhorn" in (h.paper.title + h.paper.abstract).lower() for h in results.hits)


def test_nonsense_finds_nothing_and_relates_nothing(demo_db):
    results = search(demo_db, "xqzvbn flurbl", separate_related=True)
    assert results.total == 0 and results.hits == [] and results.related == []


def test_related_papers_lack_the_words_and_are_few(demo_db):
    from paperwire.index.lexical_tantivy import ANALYZERS, STEMMED

    stems = ANALYZERS[STEMMED].analyze
    results = search(demo_db, "optimal transport", separate_related=True)
    assert results.total == len(results.hits)
    for hit in results.hits:  # the words or their stem-mates ("optimality", "transported")
        words = set(stems(hit.paper.title + " " + hit.paper.abstract))
        assert set(stems("optimal transport")) <= words
    assert 0 < len(results.related) <= 5
    assert not {h.paper.id for h in results.related} & {h.paper.id for h in results.hits}
    assert search(demo_db, "optimal transport", separate_related=True, offset=20).related == []


def test_semantic_mode_claims_no_count(demo_db):
    assert search(demo_db, "optimal transport", mode="semantic", separate_related=True).total is None


def test_default_hybrid_is_unchanged_for_the_evaluation(demo_db):
    padded = search(demo_db, "sinkhorn")
    assert padded.total > 1 and padded.related == []


def test_split_keeps_fused_order_and_a_relative_floor():
    fused = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]
    matched, related = split_word_matches(fused, [(3, 1.0), (1, 2.0)], [(2, 0.5), (1, 0.4), (3, 0.3), (4, 0.2)])
    assert matched == [(1, 0.9), (3, 0.7)]
    assert related == [(2, 0.5)]  # 4 is less close in meaning than the median word match
    assert split_word_matches(fused, [], [(2, 0.5)]) == ([], [])
