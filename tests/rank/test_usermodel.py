"""The numpy parts of the per-user model: the kNN graph and label spreading."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from paperwire.rank.usermodel import _lexical_similarity, knn_graph, propagate, term_counts

QUARKS = "quark gluon lattice confinement hadron"
GALAXIES = "galaxy redshift stellar halo cluster"


def _doc(words: str, extra: str, rng: np.random.Generator) -> str:
    pool = words.split()
    return " ".join([*rng.choice(pool, 4, replace=False), extra])


def test_lexical_similarity_matches_full_tfidf_cosine_between_documents():
    texts = ["quark gluon plasma", "gluon lattice quark quark", "galaxy redshift survey", "lonely unique words"]
    docs = [term_counts(t) for t in texts]
    df = Counter(t for d in docs for t in d)
    vocab = sorted(df)
    n = len(docs)
    full = np.array([[(1 + math.log(d[t])) * (math.log((n + 1) / (df[t] + 1)) + 1) if t in d else 0.0 for t in vocab]
                     for d in docs])
    full /= np.linalg.norm(full, axis=1, keepdims=True)
    off_diagonal = ~np.eye(n, dtype=bool)
    assert np.allclose(_lexical_similarity(docs)[off_diagonal], (full @ full.T)[off_diagonal], atol=1e-6)


def test_knn_graph_is_symmetric_normalised_and_sparse():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(30, 8))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    W = knn_graph(F @ F.T, 4)
    assert np.allclose(W, W.T)
    assert np.all(np.diag(W) == 0)
    assert all(4 <= np.count_nonzero(row) <= 29 for row in W)
    # D^-1/2 W D^-1/2: the largest eigenvalue of a normalised graph is at most 1.
    assert np.max(np.abs(np.linalg.eigvalsh(W))) <= 1 + 1e-9


def test_graph_lifts_a_liked_looking_paper_over_an_isolated_false_positive():
    rng = np.random.default_rng(1)
    labelled = [_doc(QUARKS, "alpha", rng), _doc(QUARKS, "beta", rng), _doc(GALAXIES, "gamma", rng)]
    labels = np.array([1.0, 1.0, -1.0])
    candidates = [_doc(QUARKS, f"q{i}", rng) for i in range(6)] + [_doc(GALAXIES, f"g{i}", rng) for i in range(6)]
    # The classifier got two wrong: quark paper 0 looks bad, galaxy paper 6 looks great.
    logits = np.array([-2.0, 1.0, 0.8, 0.9, 1.1, 0.7, 2.5, -1.0, -0.8, -1.2, -0.9, -1.1])
    dim = 16
    vectors = rng.normal(size=(len(labelled) + len(candidates), dim)).astype(np.float32)  # uninformative
    scores = propagate(labels, vectors[:3], [term_counts(t) for t in labelled], vectors[3:],
                       [term_counts(t) for t in candidates], logits)
    assert scores.shape == (12,)
    quark, galaxy = scores[:6], scores[6:]
    assert scores[0] > scores[6], "the graph should outweigh one wrong classifier logit"
    assert quark.min() > galaxy.max()
    # Without labelled papers the classifier's order is kept.
    plain = propagate(np.zeros(0), vectors[:0], [], vectors[3:], [term_counts(t) for t in candidates], logits)
    assert list(np.argsort(-plain)) == list(np.argsort(-logits))
