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

Final logit = dense logit + ``LEXICAL_WEIGHT`` × lexical logit
+ ``FOLLOW_BOOST`` per followed category/author/keyword the paper matches.
The constants were chosen on the simulated users of
``bench/eval_recommend.py``, which also reports each part alone.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from paperwire.index.query import STOPWORDS, terms

L2 = 1.0
NEGATIVE_WEIGHT = 3.0
PSEUDO_WEIGHT = 0.5
#: Total weight of the background sample relative to the positives' total.
BACKGROUND_RATIO = 2.0
LEXICAL_WEIGHT = 4.0
LEXICAL_L2 = 1.0
FOLLOW_BOOST = 1.0
BIAS_SCALE = 10.0
_EXTRA_STOP = frozenset("we our paper show results using based new approach also these which".split())


def tokens(text: str) -> list[str]:
    """Index terms worth weighting: no stopwords, no 1-letter words, no pure numbers."""
    return [t for t in terms(text) if len(t) > 1 and not t.isdigit() and t not in STOPWORDS and t not in _EXTRA_STOP]


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
    def fit(cls, texts: Sequence[str], labels: np.ndarray, sample_weights: np.ndarray) -> LexicalModel:
        docs = [Counter(tokens(t)) for t in texts]
        df: Counter = Counter()
        for doc in docs:
            df.update(doc.keys())
        if not df or labels.min() == labels.max():
            return cls()
        n = len(docs)
        idf = {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}
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
        out = np.zeros(len(texts), dtype=np.float32)
        if not self.weights:
            return out
        for i, text in enumerate(texts):
            vec = _tfidf(Counter(tokens(text)), self.idf, self.default_idf)
            out[i] = self.bias + sum(v * self.weights.get(t, 0.0) for t, v in vec.items())
        return out

    def top_terms(self, k: int = 10) -> list[str]:
        return [t for t, w in sorted(self.weights.items(), key=lambda kv: -kv[1])[:k] if w > 0]


def _tfidf(doc: Counter, idf: dict[str, float], default_idf: float) -> dict[str, float]:
    vec = {t: (1.0 + math.log(c)) * idf.get(t, default_idf) for t, c in doc.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


# --- follows ---------------------------------------------------------------

def follow_matches(follows: Sequence[tuple[str, str]], title: str, abstract: str, authors_text: str,
                   categories: Sequence[str]) -> list[tuple[str, str]]:
    """The followed (kind, value) pairs a paper matches (same rules as exclusions)."""
    found = []
    text = f"{title} {abstract}".lower()
    for kind, value in follows:
        v = value.lower()
        if kind == "category":
            hit = any(c.lower() == v or c.lower().startswith(v + ".") for c in categories)
        elif kind == "author":
            hit = v in authors_text.lower()
        else:
            hit = re.search(rf"(?<![0-9a-z]){re.escape(v)}(?![0-9a-z])", text) is not None
        if hit:
            found.append((kind, value))
    return found


# --- the combined model ---------------------------------------------------

@dataclass
class UserModel:
    dense: LinearModel | None
    lexical: LexicalModel
    follows: list[tuple[str, str]]
    #: Unit vectors of the positives (for "why this paper").
    positive_ids: list[int] = field(default_factory=list)
    positive_vectors: np.ndarray | None = None

    def dense_logits(self, X: np.ndarray) -> np.ndarray:
        if self.dense is None:
            return np.zeros(len(X), dtype=np.float32)
        return self.dense.logits(X)

    def rerank_logits(self, dense_logits: np.ndarray, texts: Sequence[str],
                      follow_hits: Sequence[int] | None = None) -> np.ndarray:
        """Dense logits plus the lexical and follow terms, for a candidate set."""
        total = np.asarray(dense_logits, dtype=np.float32) + LEXICAL_WEIGHT * self.lexical.score(texts)
        if follow_hits is not None:
            total = total + FOLLOW_BOOST * np.asarray(follow_hits, dtype=np.float32)
        return total


def train_user_model(
    pos_X: np.ndarray, neg_X: np.ndarray, bg_X: np.ndarray, *,
    pos_texts: Sequence[str], neg_texts: Sequence[str], bg_texts: Sequence[str],
    pos_weights: Sequence[float] | None = None, follows: Sequence[tuple[str, str]] = (),
    positive_ids: Sequence[int] = (),
) -> UserModel:
    """Fit both parts. ``pos_weights`` lets pseudo-positives (from follows) count less."""
    pw = np.asarray(pos_weights if pos_weights is not None else np.ones(len(pos_X)), dtype=np.float64)
    dense = None
    if len(pos_X) and (len(neg_X) or len(bg_X)):
        bg_weight = BACKGROUND_RATIO * float(pw.sum()) / max(1, len(bg_X))
        X = np.vstack([pos_X, neg_X, bg_X]) if len(neg_X) else np.vstack([pos_X, bg_X])
        y = np.concatenate([np.ones(len(pos_X)), np.zeros(len(neg_X) + len(bg_X))])
        w = np.concatenate([pw, np.full(len(neg_X), NEGATIVE_WEIGHT), np.full(len(bg_X), bg_weight)])
        dense = fit_logistic(X, y, w)
        lexical = LexicalModel.fit([*pos_texts, *neg_texts, *bg_texts], y, w)
    else:
        lexical = LexicalModel()
    real = [i for i, weight in enumerate(pw) if weight >= 1.0][: len(positive_ids)]
    vectors = np.asarray(pos_X, dtype=np.float32)[real] if real else None
    return UserModel(dense=dense, lexical=lexical, follows=list(follows),
                     positive_ids=[positive_ids[i] for i in real], positive_vectors=vectors)
