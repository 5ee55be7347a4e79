"""Library affinity: how close each paper is to the *nearest* paper a user liked.

The similar-paper fusion (:mod:`paperwire.index.similar`: ``DENSE_WEIGHT`` ×
dense cosine + the rest × TF-IDF cosine) between every catalogue paper and
each of the user's positives, maxed over the positives. A maximum, not a
centroid: someone who works on two topics has a library whose mean lies
between them and near neither, while each new paper is close to one of
them. "For you" blends this with its classifier (:mod:`paperwire.rank.recommend`),
and "why this paper" names the library paper that gave the maximum
(:mod:`paperwire.rank.explain`).

Cost: one (catalogue × positives) dense product and one sparse product of the
positives' TF-IDF rows with the posting lists; at most ``MAX_POSITIVES`` of
the user's papers (the first given: callers pass the newest first) are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paperwire.index.similar import DENSE_WEIGHT
from paperwire.index.tfidf import TfidfMatrix
from paperwire.rank.vector_matrix import VectorMatrix

MAX_POSITIVES = 200


@dataclass
class Affinity:
    #: Per row of the vector matrix: the best fused similarity to a positive.
    score: np.ndarray
    #: Per row: the paper id of that positive (-1 where there is none).
    nearest: np.ndarray


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-9)


def fused_similarities(matrix: VectorMatrix, lexical: TfidfMatrix | None, positives: Sequence[int],
                       rows: np.ndarray | None = None) -> np.ndarray:
    """(positives × rows) fused similarity of the positives to the given matrix rows (all: None)."""
    rows = np.arange(len(matrix)) if rows is None else np.asarray(rows, dtype=np.int64)
    sims = np.zeros((len(positives), len(rows)), dtype=np.float32)
    if not len(rows) or not len(positives):
        return sims
    lexical_weight = 0.0 if lexical is None or not len(lexical) else 1.0 - DENSE_WEIGHT
    own, found = matrix.rows_of(positives)
    if len(own):
        sims[np.flatnonzero(found)] += (1.0 - lexical_weight) * (_unit(matrix.X[own]) @ _unit(matrix.X[rows]).T)
    if lexical_weight:
        lex_own, lex_found = lexical.rows_of(positives)
        cols, col_found = lexical.rows_of(matrix.ids[rows])  # the same papers in the TF-IDF matrix
        if len(lex_own) and len(cols):
            scores = np.asarray((lexical.X[lex_own] @ lexical.X[cols].T).todense(), dtype=np.float32)
            on_rows = np.zeros((len(lex_own), len(rows)), dtype=np.float32)
            on_rows[:, np.flatnonzero(col_found)] = scores
            sims[np.flatnonzero(lex_found)] += lexical_weight * on_rows
    return sims


def library_affinity(matrix: VectorMatrix, lexical: TfidfMatrix | None, positive_ids: Sequence[int]) -> Affinity:
    """Fused max-similarity of every matrix row to the positives (see the module docstring)."""
    n = len(matrix)
    positives = list(dict.fromkeys(positive_ids))[:MAX_POSITIVES]
    if not n or not positives:
        return Affinity(np.zeros(n, dtype=np.float32), np.full(n, -1, dtype=np.int64))
    sims = fused_similarities(matrix, lexical, positives)
    best = sims.argmax(axis=0)
    return Affinity(sims[best, np.arange(n)], np.asarray(positives, dtype=np.int64)[best])


def nearest_positives(matrix: VectorMatrix, lexical: TfidfMatrix | None, positive_ids: Sequence[int],
                      row: int, k: int) -> list[tuple[int, float]]:
    """The ``k`` positives most similar (fused) to one matrix row: (paper id, similarity), best first."""
    positives = list(dict.fromkeys(positive_ids))[:MAX_POSITIVES]
    if not positives:
        return []
    sims = fused_similarities(matrix, lexical, positives, np.asarray([row]))[:, 0]
    order = np.argsort(-sims, kind="stable")[:k]
    return [(int(positives[i]), float(sims[i])) for i in order]
