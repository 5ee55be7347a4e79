"""Library affinity: the fused similarity to the *nearest* liked paper, not to the library's mean."""

from __future__ import annotations

import numpy as np
import pytest

from paperwire.index.similar import DENSE_WEIGHT
from paperwire.index.tfidf import build_matrix
from paperwire.rank.affinity import library_affinity, nearest_positives
from paperwire.rank.vector_matrix import VectorMatrix

TEXTS = {
    1: "Lattice gauge theory simulations of quantum chromodynamics confinement",
    2: "Protein folding with graph neural networks and molecular dynamics",
    3: "Confinement in lattice gauge theory: quantum chromodynamics string tension",
    4: "Graph neural networks predict protein folding from molecular dynamics",
    5: "A survey of weather forecasting with satellites",
}


def _matrix(vectors: dict[int, list[float]]) -> VectorMatrix:
    ids = np.asarray(sorted(vectors), dtype=np.int64)
    return VectorMatrix("test", ids, np.asarray([vectors[i] for i in ids], dtype=np.float32))


def test_a_two_topic_library_finds_papers_of_either_topic():
    # 1 and 2 are the library (two topics); 3 is on topic 1, 4 on topic 2, 5 on neither.
    matrix = _matrix({1: [1, 0, 0], 2: [0, 1, 0], 3: [0.9, 0.1, 0.1], 4: [0.1, 0.9, 0.1], 5: [0.1, 0.1, 1]})
    lexical = build_matrix(list(TEXTS), list(TEXTS.values()))
    found = library_affinity(matrix, lexical, [1, 2])
    score = dict(zip(matrix.ids.tolist(), found.score.tolist()))
    nearest = dict(zip(matrix.ids.tolist(), found.nearest.tolist()))
    assert score[3] > score[5] and score[4] > score[5]
    assert nearest[3] == 1 and nearest[4] == 2
    mean = matrix.X[:2].mean(axis=0)
    centroid = matrix.X @ (mean / np.linalg.norm(mean)) / np.linalg.norm(matrix.X, axis=1)
    assert centroid[2] < score[3]  # the mean of two topics is close to neither


def test_the_lexical_half_counts_and_is_left_out_without_a_tfidf_index():
    matrix = _matrix({1: [1, 0], 3: [0, 1], 5: [0, 1]})  # 3 shares words with 1, not its direction
    lexical = build_matrix([1, 3, 5], [TEXTS[1], TEXTS[3], TEXTS[5]])
    with_words = dict(zip(matrix.ids.tolist(), library_affinity(matrix, lexical, [1]).score.tolist()))
    dense_only = dict(zip(matrix.ids.tolist(), library_affinity(matrix, None, [1]).score.tolist()))
    assert dense_only[3] == dense_only[5] == 0.0
    assert with_words[3] > 0.0 == with_words[5]
    assert with_words[1] == pytest.approx(DENSE_WEIGHT + (1 - DENSE_WEIGHT))  # itself: both cosines are 1
    assert [pid for pid, _ in nearest_positives(matrix, lexical, [5, 1], 0, 2)] == [1, 5]


def test_no_positives_means_no_affinity():
    matrix = _matrix({1: [1, 0], 2: [0, 1]})
    found = library_affinity(matrix, None, [])
    assert found.score.tolist() == [0.0, 0.0] and found.nearest.tolist() == [-1, -1]
