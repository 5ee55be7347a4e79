"""Similar papers: a fusion of dense and TF-IDF neighbours, expanded by the neighbours' own.

1. **Fused neighbours** of a paper (:func:`fuse`): its ``POOL`` nearest in the
   published vector index (cosine of the embeddings) and its ``POOL`` best
   TF-IDF neighbours (:mod:`paperwire.index.tfidf`, cosine of sparse term
   vectors), summed as ``DENSE_WEIGHT`` × dense cosine + (1 − ``DENSE_WEIGHT``)
   × lexical cosine; a paper absent from one list counts 0 there. Both are
   cosines of unit vectors, so no further normalisation is needed.
2. **Expansion** (:func:`expand`): the ``EXPAND`` best fused neighbours get
   their own fused lists, and every candidate's score becomes
   ``own + EXPAND_WEIGHT × mean over those neighbours``: a paper that the
   paper's closest neighbours also find close is more likely on its topic
   (query expansion, as in image retrieval's "average query expansion").

The constants were chosen on the *tune* half of ``bench/eval_all.py``'s
category agreement and are reported on its other half (dense alone, TF-IDF
alone and the fusion in the same run).

Degrading honestly: without a published vector index, or for a paper not
embedded yet, the lexical half answers alone; without a TF-IDF generation the
dense half does. Only when neither has the paper is
:class:`~paperwire.index.vectors.SemanticUnavailable` raised, and callers say
so; nothing is embedded or built inside a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
from sqlalchemy import select

from paperwire.index.results import SearchHit
from paperwire.index.tfidf import TfidfMatrix, tfidf_index
from paperwire.index.vectors import PaperNotIndexedYet, SemanticIndex, SemanticUnavailable, semantic_index
from paperwire.store.db import Database
from paperwire.store.embeddings import load_vectors
from paperwire.store.models import Paper
from paperwire.store.papers import get_paper, papers_by_ids

DENSE_WEIGHT = 0.5
POOL = 50
EXPAND = 10
EXPAND_WEIGHT = 1.0


class PaperNotFound(LookupError):
    pass


def fuse(dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]],
         dense_weight: float | None = None) -> dict[int, float]:
    """Weighted sum of the two halves' cosines (a paper missing from one half scores 0 there)."""
    dense_weight = DENSE_WEIGHT if dense_weight is None else dense_weight
    out: dict[int, float] = {}
    for pid, score in dense:
        out[pid] = out.get(pid, 0.0) + dense_weight * float(score)
    for pid, score in lexical:
        out[pid] = out.get(pid, 0.0) + (1.0 - dense_weight) * float(score)
    return out


def expand(own: dict[int, float], theirs: Sequence[dict[int, float]], weight: float | None = None,
           exclude: int | None = None) -> list[tuple[int, float]]:
    """``own`` plus ``weight`` × the mean of the neighbours' fused scores, best first."""
    weight = EXPAND_WEIGHT if weight is None else weight
    scores = dict(own)
    if theirs:
        share = weight / len(theirs)
        for other in theirs:
            for pid, score in other.items():
                scores[pid] = scores.get(pid, 0.0) + share * score
    scores.pop(exclude, None)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class _Halves:
    """The dense and lexical indexes one call reads (either may be missing)."""

    def __init__(self, db: Database):
        self.db = db
        index = semantic_index(db)
        self.dense: SemanticIndex | None = index if index.refresh() is not None else None
        self.lexical: TfidfMatrix | None = tfidf_index(db)

    def vectors(self, paper_ids: list[int]) -> dict[int, np.ndarray]:
        if self.dense is None or not paper_ids:
            return {}
        with self.db.session() as session:
            return load_vectors(session, self.dense.embedder.name, paper_ids)

    def fused(self, paper_id: int, vector: np.ndarray | None, pool: int) -> dict[int, float]:
        dense = []
        if self.dense is not None and vector is not None:
            dense = [(pid, s) for pid, s in self.dense.nearest(vector, pool + 1) if pid != paper_id][:pool]
        lexical = self.lexical.neighbours(paper_id, pool) if self.lexical is not None else []
        if not dense:
            return fuse([], lexical, 0.0)
        if not lexical:
            return fuse(dense, [], 1.0)
        return fuse(dense, lexical)


def similar_ids(db: Database, paper_id: int, *, pool: int = POOL) -> list[tuple[int, float]]:
    """Fused, expanded neighbours of ``paper_id`` (best first, the paper itself left out)."""
    halves = _Halves(db)
    vector = halves.vectors([paper_id]).get(paper_id)
    in_lexical = halves.lexical is not None and bool(halves.lexical.rows_of([paper_id])[1].any())
    if vector is None and not in_lexical:
        if halves.dense is None and halves.lexical is None:
            raise SemanticUnavailable("the similarity indexes have not been built yet "
                                      "(run `paperwire worker` or `paperwire embed`)")
        raise PaperNotIndexedYet("this paper has not been embedded yet; similar papers appear once it is")
    own = halves.fused(paper_id, vector, pool)
    best = [pid for pid, _ in sorted(own.items(), key=lambda kv: (-kv[1], kv[0]))[:EXPAND]] if EXPAND_WEIGHT else []
    their_vectors = halves.vectors(best)
    theirs = [halves.fused(pid, their_vectors.get(pid), pool) for pid in best]
    return expand(own, theirs, exclude=paper_id)


def similar_papers(db: Database, uid: str, *, limit: int = 10) -> list[SearchHit]:
    """The ``limit`` papers closest to ``uid`` (not the paper itself, no hidden ones)."""
    with db.session() as session:
        paper = get_paper(session, uid)
        if paper is None:
            raise PaperNotFound(f"no paper with id {uid!r}")
        paper_id = paper.id
    if limit <= 0:
        return []
    ranked = similar_ids(db, paper_id, pool=max(POOL, 2 * limit))
    with db.session() as session:
        hidden = set(session.scalars(select(Paper.id).where(Paper.id.in_([p for p, _ in ranked]), Paper.hidden)))
        visible = [(pid, score) for pid, score in ranked if pid not in hidden][:limit]
        papers = {p.id: p for p in papers_by_ids(session, [pid for pid, _ in visible])}
    return [
        SearchHit(paper=papers[pid], score=score, title_html=escape(papers[pid].title),
                  snippet_html=escape(_shorten(papers[pid].abstract)))
        for pid, score in visible
        if pid in papers
    ]


def _shorten(text: str, length: int = 300) -> str:
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …"
