"""The per-user model, as pure numpy: no database, no server.

A user's model has two parts, both trained on the user's positives
(upvotes, saves, seed papers, and papers matching followed terms at a lower
weight), negatives ("not interested") and a sample of background papers:

1. **Dense**: an L2-regularised logistic regression on the paper embeddings
   (arxiv-sanity's idea — a linear classifier per user — on dense vectors
   instead of TF-IDF). Explicit negatives weigh ``NEGATIVE_WEIGHT`` times a
   background paper, because "not interested" is a stronger signal than
   "not seen".
2. **Lexical**: arxiv-sanity's logistic regression on TF-IDF of title and
   abstract, trained on the same examples (vocabulary and IDF from them),
   scored on the few hundred candidates the dense part ranks highest. It
   catches exact terms (acronyms, method names) a small static embedder blurs.

Classifier logit = dense logit + ``LEXICAL_WEIGHT`` × lexical logit
+ ``FOLLOW_BOOST`` per followed category/author/keyword the paper matches.

3. **Graph propagation** (:func:`propagate`): with five upvotes a classifier
   has seen five points of a topic; the candidates themselves show its shape.
   The best candidates and the user's labelled papers become the nodes of a
   k-nearest-neighbour graph (cosine on ``GRAPH_LEXICAL_SHARE`` TF-IDF and the
   rest centred embedding), and label spreading (Zhou et al., 2004) carries
   the labels (upvote/save +1, follow match +½, "not interested" −1) and the
   classifier's standardised logits along it, so a paper close to other
   liked-looking papers rises and an isolated false positive sinks.

The constants were chosen on the *tune* users of ``bench/eval_recommend.py``
(held-out users are only reported), which also reports each part alone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from paperwire.index.tfidf import tokens
from paperwire.rank.exclusions import ExclusionRules

L2 = 1.0
NEGATIVE_WEIGHT = 3.0
PSEUDO_WEIGHT = 0.5
#: Total weight of the background sample relative to the positives' total.
BACKGROUND_RATIO = 2.0
LEXICAL_WEIGHT = 4.0
LEXICAL_L2 = 1.0
FOLLOW_BOOST = 1.0
BIAS_SCALE = 10.0
#: Label spreading over the candidates (see :func:`propagate`).
GRAPH_NEIGHBOURS = 7
GRAPH_LEXICAL_SHARE = 0.8
GRAPH_ALPHA = 0.8
GRAPH_PRIOR = 0.25
GRAPH_ITERATIONS = 20


def term_counts(text: str) -> Counter:
    return Counter(tokens(text))


# --- logistic regression ---------------------------------------------------

@dataclass
class LinearModel:
    w: np.ndarray
    b: float

    def logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.w + self.b


def fit_logistic(X: np.ndarray, y: np.ndarray, weights: np.ndarray, *, l2: float = L2, iters: int = 25) -> LinearModel:
    """Weighted, L2-regularised logistic regression by Newton's method.

    With more features than examples (TF-IDF) each Newton step goes through
    the n×n kernel matrix (Woodbury identity), so a 5,000-term vocabulary
    over a few hundred examples still trains in well under a second. The
    bias is a constant column of ``BIAS_SCALE`` so its penalty is negligible.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    Xb = np.hstack([X, np.full((n, 1), BIAS_SCALE)])
    theta = np.zeros(d + 1)
    y = y.astype(np.float64)
    sw = weights.astype(np.float64)
    wide = d + 1 > n
    kernel = Xb @ Xb.T if wide else None
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(Xb @ theta, -30, 30)))
        grad = Xb.T @ (sw * (p - y)) + l2 * theta
        curvature = np.maximum(sw * p * (1 - p), 1e-10)
        if wide:
            inner = np.linalg.solve(l2 * np.diag(1.0 / curvature) + kernel, Xb @ grad)
            step = (grad - Xb.T @ inner) / l2
        else:
            step = np.linalg.solve((Xb * curvature[:, None]).T @ Xb + l2 * np.eye(d + 1), grad)
        theta -= step
        if np.abs(step).max() < 1e-6:
            break
    return LinearModel(w=theta[:-1].astype(np.float32), b=float(theta[-1] * BIAS_SCALE))


# --- lexical model ----------------------------------------------------------

@dataclass
class LexicalModel:
    """arxiv-sanity's model: logistic regression on TF-IDF of title + abstract.

    The vocabulary and IDF come from the training documents (positives,
    negatives, background sample); a term never seen in training would get
    weight 0 anyway, so candidates are scored on the fly without a stored
    TF-IDF matrix.
    """

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    idf: dict[str, float] = field(default_factory=dict)
    default_idf: float = 1.0

    @classmethod
    def fit(cls, texts: Sequence[str] | Sequence[Counter], labels: np.ndarray,
            sample_weights: np.ndarray) -> LexicalModel:
        """Train on texts (or their :func:`term_counts`, for callers that keep them)."""
        docs = [t if isinstance(t, Counter) else term_counts(t) for t in texts]
        df: Counter = Counter()
        for doc in docs:
            df.update(doc.keys())
        if not df or labels.min() == labels.max():
            return cls()
        n = len(docs)
        idf = _idf(df, n)
        default_idf = math.log(n + 1) + 1.0
        vocab = {t: i for i, t in enumerate(df)}
        X = np.zeros((n, len(vocab)), dtype=np.float64)
        for row, doc in enumerate(docs):
            for term, value in _tfidf(doc, idf, default_idf).items():
                X[row, vocab[term]] = value
        linear = fit_logistic(X, labels, sample_weights, l2=LEXICAL_L2)
        weights = {t: float(linear.w[i]) for t, i in vocab.items() if abs(linear.w[i]) > 1e-6}
        return cls(weights, linear.b, {t: idf[t] for t in weights}, default_idf)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """The model's logit for each text (0 when untrained)."""
        return self.score_docs([term_counts(t) for t in texts])

    def score_docs(self, docs: Sequence[Counter]) -> np.ndarray:
        """The same from :func:`term_counts` of each text (callers that also need them)."""
        out = np.zeros(len(docs), dtype=np.float32)
        if not self.weights:
            return out
        for i, doc in enumerate(docs):
            vec = _tfidf(doc, self.idf, self.default_idf)
            out[i] = self.bias + sum(v * self.weights.get(t, 0.0) for t, v in vec.items())
        return out

    def top_terms(self, k: int = 10) -> list[str]:
        return [t for t, w in sorted(self.weights.items(), key=lambda kv: -kv[1])[:k] if w > 0]


def _idf(df: Counter, n: int) -> dict[str, float]:
    """Smoothed IDF of each term over ``n`` documents (document frequencies ``df``)."""
    return {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}


def _tfidf(doc: Counter, idf: dict[str, float], default_idf: float) -> dict[str, float]:
    vec = {t: (1.0 + math.log(c)) * idf.get(t, default_idf) for t, c in doc.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


# --- graph propagation ----------------------------------------------------

def _lexical_similarity(docs: Sequence[Counter]) -> np.ndarray:
    """Cosine similarity of the documents' TF-IDF vectors (vocabulary and IDF from them).

    A term in only one document adds to its norm but to no pair, so only terms
    shared by two or more documents get a column: exact between documents
    (the diagonal, unused by the graph, is not 1). The product is sparse
    (a few thousand shared terms, ~100 per document).
    """
    df: Counter = Counter()
    for doc in docs:
        df.update(doc.keys())
    idf = _idf(df, len(docs))
    shared = {t: i for i, t in enumerate(t for t, c in df.items() if c > 1)}
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for r, doc in enumerate(docs):
        for term, value in _tfidf(doc, idf, 1.0).items():  # normalised over all of the document's terms
            if (col := shared.get(term)) is not None:
                rows.append(r)
                cols.append(col)
                values.append(value)
    n = len(docs)
    data = np.asarray(values, dtype=np.float64)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n, max(1, len(shared))))
    return (matrix @ matrix.T).toarray()


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-9)


def knn_graph(S: np.ndarray, k: int) -> np.ndarray:
    """Symmetric, degree-normalised k-nearest-neighbour graph D^-½ W D^-½ of a similarity matrix."""
    n = len(S)
    S = S.copy()
    np.fill_diagonal(S, -np.inf)
    k = min(k, n - 1)
    W = np.zeros_like(S)
    if k > 0:
        nearest = np.argpartition(-S, k - 1, axis=1)[:, :k].ravel()
        rows = np.repeat(np.arange(n), k)
        W[rows, nearest] = np.maximum(S[rows, nearest], 0.0)
    W = (W + W.T) / 2
    degree = W.sum(axis=1)
    degree[degree == 0] = 1.0
    inv = 1.0 / np.sqrt(degree)
    return W * inv[:, None] * inv[None, :]


def propagate(
    labels: np.ndarray, labelled_vectors: np.ndarray, labelled_docs: Sequence[Counter],
    candidate_vectors: np.ndarray, candidate_docs: Sequence[Counter], candidate_logits: np.ndarray,
    *, center: np.ndarray | None = None,
) -> np.ndarray:
    """Label spreading over labelled papers + candidates; one score per candidate.

    Each node starts from a prior: its label for the user's papers, and
    ``GRAPH_PRIOR`` × the standardised classifier logit / 3 for candidates
    (so the classifier's ranking is kept where the graph says nothing). Then
    ``f ← α·S·f + (1−α)·prior`` is iterated on the kNN graph ``S``. The result
    orders candidates; its scale is not a probability.
    """
    logits = np.asarray(candidate_logits, dtype=np.float64)
    z = (logits - logits.mean()) / (logits.std() + 1e-9) if len(logits) > 1 else np.zeros_like(logits)
    if len(labels) == 0 or len(logits) < 2:
        return z
    vectors = np.vstack([labelled_vectors, candidate_vectors]).astype(np.float32)
    if center is not None:
        vectors = vectors - center
    vectors = _unit_rows(vectors)
    similarity = (GRAPH_LEXICAL_SHARE * _lexical_similarity([*labelled_docs, *candidate_docs])
                  + (1.0 - GRAPH_LEXICAL_SHARE) * (vectors @ vectors.T))
    graph = knn_graph(similarity, GRAPH_NEIGHBOURS)
    prior = np.concatenate([np.asarray(labels, dtype=np.float64), GRAPH_PRIOR * z / 3.0])
    f = prior.copy()
    for _ in range(GRAPH_ITERATIONS):
        f = GRAPH_ALPHA * (graph @ f) + (1.0 - GRAPH_ALPHA) * prior
    return f[len(labels):]


# --- follows ---------------------------------------------------------------

def follow_rule(kind: str, value: str) -> ExclusionRules:
    """A follow as a rule of :mod:`paperwire.rank.exclusions`: following and excluding
    match papers the same way (whole words for keywords and authors, sub-categories)."""
    return ExclusionRules.from_pairs([({"keyword": "word"}.get(kind, kind), value)])


def follow_matches(follows: Sequence[tuple[str, str]], title: str, abstract: str, authors_text: str,
                   categories: Sequence[str]) -> list[tuple[str, str]]:
    """The followed (kind, value) pairs a paper matches."""
    return [(kind, value) for kind, value in follows
            if follow_rule(kind, value).excludes_fields(title, abstract, authors_text, list(categories))]


# --- the combined model ---------------------------------------------------

@dataclass
class UserModel:
    dense: LinearModel | None
    lexical: LexicalModel
    follows: list[tuple[str, str]]
    #: Unit vectors of the positives (for "why this paper").
    positive_ids: list[int] = field(default_factory=list)
    positive_vectors: np.ndarray | None = None
    #: The graph's labelled nodes: every positive (incl. follow matches) and negative,
    #: with its label (+1 real positive, +PSEUDO_WEIGHT follow match, -1 negative).
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    labelled_vectors: np.ndarray | None = None
    labelled_docs: list[Counter] = field(default_factory=list)

    def dense_logits(self, X: np.ndarray) -> np.ndarray:
        if self.dense is None:
            return np.zeros(len(X), dtype=np.float32)
        return self.dense.logits(X)

    def rerank_logits(self, dense_logits: np.ndarray, texts: Sequence[str] | Sequence[Counter],
                      follow_hits: Sequence[int] | None = None) -> np.ndarray:
        """Dense logits plus the lexical and follow terms, for a candidate set
        (``texts`` as strings or as their :func:`term_counts`)."""
        docs = [t if isinstance(t, Counter) else term_counts(t) for t in texts]
        total = np.asarray(dense_logits, dtype=np.float32) + LEXICAL_WEIGHT * self.lexical.score_docs(docs)
        if follow_hits is not None:
            total = total + FOLLOW_BOOST * np.asarray(follow_hits, dtype=np.float32)
        return total

    def propagated(self, candidate_vectors: np.ndarray, candidate_docs: Sequence[Counter],
                   candidate_logits: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
        """Candidate scores after label spreading (see :func:`propagate`)."""
        if self.labelled_vectors is None or not len(self.labels):
            return np.asarray(candidate_logits, dtype=np.float64)
        return propagate(self.labels, self.labelled_vectors, self.labelled_docs, candidate_vectors,
                         candidate_docs, candidate_logits, center=center)


def train_user_model(
    pos_X: np.ndarray, neg_X: np.ndarray, bg_X: np.ndarray, *,
    pos_texts: Sequence[str], neg_texts: Sequence[str], bg_texts: Sequence[str],
    pos_weights: Sequence[float] | None = None, follows: Sequence[tuple[str, str]] = (),
    positive_ids: Sequence[int] = (),
) -> UserModel:
    """Fit both parts. ``pos_weights`` lets pseudo-positives (from follows) count less."""
    pw = np.asarray(pos_weights if pos_weights is not None else np.ones(len(pos_X)), dtype=np.float64)
    dense = None
    labelled_docs = [term_counts(t) for t in [*pos_texts, *neg_texts]]
    if len(pos_X) and (len(neg_X) or len(bg_X)):
        bg_weight = BACKGROUND_RATIO * float(pw.sum()) / max(1, len(bg_X))
        X = np.vstack([pos_X, neg_X, bg_X]) if len(neg_X) else np.vstack([pos_X, bg_X])
        y = np.concatenate([np.ones(len(pos_X)), np.zeros(len(neg_X) + len(bg_X))])
        w = np.concatenate([pw, np.full(len(neg_X), NEGATIVE_WEIGHT), np.full(len(bg_X), bg_weight)])
        dense = fit_logistic(X, y, w)
        lexical = LexicalModel.fit([*labelled_docs, *(term_counts(t) for t in bg_texts)], y, w)
    else:
        lexical = LexicalModel()
    real = [i for i, weight in enumerate(pw) if weight >= 1.0][: len(positive_ids)]
    vectors = np.asarray(pos_X, dtype=np.float32)[real] if real else None
    labels = np.concatenate([np.where(pw >= 1.0, 1.0, PSEUDO_WEIGHT), -np.ones(len(neg_X))])
    parts = [np.asarray(m, dtype=np.float32) for m in (pos_X, neg_X) if len(m)]
    labelled = np.vstack(parts) if parts else None
    return UserModel(dense=dense, lexical=lexical, follows=list(follows),
                     positive_ids=[positive_ids[i] for i in real], positive_vectors=vectors,
                     labels=labels, labelled_vectors=labelled,
                     labelled_docs=labelled_docs)
