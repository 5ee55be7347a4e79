"""Personal recommendations: "For you", "trending for me" and the model cache.

Serving one user (see ``bench/eval_recommend.py`` for timings):

1. read the user's signals (:func:`paperwire.store.library.user_signals`);
2. get the user's model from an in-process LRU keyed by a hash of those
   signals — the model is retrained only when an upvote, save, dismissal or
   follow changed it (training takes tens of milliseconds);
3. dense logits for the whole catalogue in one matrix-vector product
   (:mod:`paperwire.rank.vector_matrix`), papers the user already upvoted,
   saved or dismissed masked out;
4. the ``CANDIDATES`` best are loaded, hidden and excluded papers
   (:mod:`paperwire.rank.exclusions`) dropped, and re-ranked with the lexical
   profile and followed terms (:mod:`paperwire.rank.usermodel`); new papers by the
   library's leading authors join the candidates whatever their dense logit;
5. the best ``GRAPH_NODES`` of them are re-ordered by label spreading on a
   nearest-neighbour graph of candidates and the user's own papers
   (:func:`paperwire.rank.usermodel.propagate`);
   Then the library terms (:mod:`paperwire.rank.library_terms`: TF-IDF cosine with
   the library centroid and nearest library paper, share of the library by the
   paper's authors) are added, weighted in standard deviations of the final logit;
6. each result gets its "why this paper" reasons (:mod:`paperwire.rank.explain`).

A user with no positive signal yet gets the hot list (minus exclusions and
dismissals), marked as such, so the page is never empty.

"Trending for me" re-orders the hot list's top ``TREND_POOL`` papers by::

    trend_for_me = (1 - ALPHA) * trend_percentile + ALPHA * personal_probability

where ``trend_percentile`` is 1 for the hottest paper falling linearly to 0
for the last of the pool (percentiles, so a runaway favourite does not drown
the personal part), ``personal_probability`` is the model's sigmoid output
for the paper (0.5 when the user has no model) and ``ALPHA`` = 0.5.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session

from paperwire.index.embeddings import get_embedder, paper_text
from paperwire.index.tfidf import tfidf_index
from paperwire.rank.affinity import library_affinity, nearest_positives
from paperwire.rank.exclusions import ExclusionRules, not_dismissed_condition, visible_condition
from paperwire.rank.explain import NEAREST, Reason, explain, library_titles
from paperwire.rank.library_terms import author_score, author_shares, lexical_library, pool_authors
from paperwire.rank.trending import hot
from paperwire.rank.usermodel import (
    PSEUDO_WEIGHT, UserModel, follow_matches, follow_rule, term_counts, train_user_model,
)
from paperwire.rank.vector_matrix import VectorMatrix, vector_matrix
from paperwire.settings import get_settings
from paperwire.store.library import UserSignals, user_signals
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

CANDIDATES = 300
#: How many of the best candidates (by dense logit) the label-spreading step re-orders.
GRAPH_NODES = 300
BACKGROUND = 300
PSEUDO_PER_FOLLOW = 20
MODEL_CACHE_SIZE = 512
TREND_POOL = 200
ALPHA = 0.5
#: Weight of the library affinity (:mod:`paperwire.rank.affinity`, fused max-similarity to the
#: user's papers) beside the classifier, in standard deviations; chosen on the tune authors of
#: ``bench/eval_recommend.py --real-authors --affinity-grid``: 0 was best there (recall@50 0.301
#: vs 0.261 at 1 and 0.252 at 2, 52 authors, mostly ties), so it is off until it earns its place.
AFFINITY_WEIGHT = 0.0
#: Library terms (:mod:`paperwire.rank.library_terms`) beside the classifier, in standard
#: deviations of the final logit: TF-IDF cosine with the library centroid, with the nearest
#: library paper, and the library share of the paper's authors (not standardised: 1.0 = an
#: author of every liked paper). Chosen on the 52 tune authors of
#: ``bench/eval_recommend.py --real-authors --library-grid`` (README, "Discovery quality"):
#: the lexical terms did not help there (recall@50 0.298 at 2,2,0 and 0.289 at 1,1,0 vs
#: 0.301 without; with authors on they cost 0.25), so they are off; the author share
#: went 0.474 / 0.744 / 0.968 / 0.976 at 1 / 2 / 4 / 8, and 4 is within a standard error
#: of 8 (the smaller weight keeps a co-author's share of the library from swamping topic).
CENTROID_WEIGHT = 0.0
NEAREST_WEIGHT = 0.0
AUTHOR_WEIGHT = 4.0


@dataclass
class Recommendation:
    paper: Paper
    #: Probability-like match in [0, 1] (sigmoid of the final logit).
    score: float
    reasons: list[Reason] = field(default_factory=list)
    #: "model" for personal picks, "popular" for the cold-start fallback.
    source: str = "model"


@dataclass
class _Cached:
    key: str
    model: UserModel


_MODELS: OrderedDict[tuple[str, int], _Cached] = OrderedDict()
_MODELS_LOCK = threading.Lock()
#: Counts retrainings (tests and the benchmark read it to see the cache work).
TRAINING_COUNT = 0


def _standardised(x: np.ndarray) -> np.ndarray:
    """(x - mean) / std over the finite entries (non-finite ones stay -inf)."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.any():
        return x
    spread = float(x[finite].std()) or 1.0
    return np.where(finite, (x - x[finite].mean()) / spread, -np.inf)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def embedder_name() -> str:
    return get_embedder(get_settings().embedder).name


def signal_key(signals: UserSignals, model_name: str) -> str:
    """A hash of everything the model is trained on."""
    parts = [model_name, sorted(signals.positives), sorted(signals.negatives), sorted(signals.follows)]
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def _vectors(session: Session, matrix: VectorMatrix, paper_ids: list[int]) -> tuple[list[int], np.ndarray]:
    """Vectors of ``paper_ids``: from the matrix, or embedded now if not stored yet."""
    if not paper_ids:
        return [], np.zeros((0, matrix.X.shape[1] if matrix.X.ndim == 2 and matrix.X.shape[1] else 0), np.float32)
    rows, found = matrix.rows_of(paper_ids)
    ids = [pid for pid, ok in zip(paper_ids, found) if ok]
    parts = [matrix.X[rows]] if len(rows) else []
    missing = [pid for pid, ok in zip(paper_ids, found) if not ok]
    if missing:
        texts = _texts(session, missing)
        have = [pid for pid in missing if pid in texts]
        if have:
            embedded = get_embedder(get_settings().embedder).embed([texts[pid] for pid in have])
            parts.append(embedded)
            ids += have
    if not parts:
        return [], np.zeros((0, 0), np.float32)
    return ids, np.vstack(parts).astype(np.float32)


def _texts(session: Session, paper_ids: list[int]) -> dict[int, str]:
    if not paper_ids:
        return {}
    rows = session.execute(select(Paper.id, Paper.title, Paper.abstract).where(Paper.id.in_(paper_ids)))
    return {pid: paper_text(title, abstract or "") for pid, title, abstract in rows}


def _pseudo_positives(session: Session, signals: UserSignals) -> list[int]:
    """Recent papers matching each followed term (weaker positives for a cold start)."""
    found: list[int] = []
    for kind, value in signals.follows:
        matches = not_(follow_rule(kind, value).sql_condition())
        rows = session.execute(
            select(Paper.id, Paper.title, Paper.abstract, Paper.authors_text, Paper.categories)
            .where(matches, Paper.hidden.is_(False))
            .order_by(Paper.submitted_at.desc(), Paper.id.desc()).limit(PSEUDO_PER_FOLLOW * 2)
        ).all()
        kept = [r.id for r in rows if follow_matches([(kind, value)], r.title, r.abstract or "", r.authors_text or "",
                                                       (r.categories or "").split())]
        found += [pid for pid in kept[:PSEUDO_PER_FOLLOW] if pid not in found]
    return [pid for pid in found if pid not in signals.positives and pid not in signals.negatives]


def train_for_user(session: Session, signals: UserSignals, matrix: VectorMatrix) -> UserModel:
    """Train a user's model from their signals (no caching here)."""
    global TRAINING_COUNT
    TRAINING_COUNT += 1
    positives = sorted(signals.positives)
    pseudo = _pseudo_positives(session, signals)
    pos_ids, pos_X = _vectors(session, matrix, positives + pseudo)
    neg_ids, neg_X = _vectors(session, matrix, sorted(signals.negatives))
    taken = set(pos_ids) | set(neg_ids)
    rng = random.Random(signals.user_id)
    sample = rng.sample(range(len(matrix)), min(len(matrix), BACKGROUND + len(taken)))
    bg_rows = [i for i in sample if int(matrix.ids[i]) not in taken][:BACKGROUND]
    bg_ids = [int(matrix.ids[i]) for i in bg_rows]
    bg_X = matrix.X[bg_rows] if bg_rows else np.zeros((0, pos_X.shape[1] if pos_X.ndim == 2 else 0), np.float32)
    texts = _texts(session, pos_ids + neg_ids + bg_ids)
    real = set(positives)
    weights = [1.0 if pid in real else PSEUDO_WEIGHT for pid in pos_ids]
    order = sorted(range(len(pos_ids)), key=lambda i: weights[i] < 1.0)  # real positives first
    pos_ids = [pos_ids[i] for i in order]
    pos_X = pos_X[order] if len(order) else pos_X
    weights = [weights[i] for i in order]
    if not len(neg_X):
        neg_X = np.zeros((0, bg_X.shape[1] if bg_X.ndim == 2 and bg_X.shape[1] else pos_X.shape[1] if pos_X.ndim == 2 else 0), np.float32)
    return train_user_model(
        pos_X, neg_X, bg_X, pos_texts=[texts.get(p, "") for p in pos_ids], neg_texts=[texts.get(p, "") for p in neg_ids],
        bg_texts=[texts.get(p, "") for p in bg_ids], pos_weights=weights, follows=signals.follows,
        positive_ids=[p for p in pos_ids if p in real],
    )


def user_model(session: Session, user_id: int) -> tuple[UserModel, UserSignals, VectorMatrix]:
    """The user's model, retrained only when their signals changed."""
    name = embedder_name()
    signals = user_signals(session, user_id)
    matrix = vector_matrix(session, name)
    key = (signal_key(signals, name), matrix.generation)  # retrain when the vectors change
    cache_key = (session.get_bind().url.render_as_string(hide_password=False), user_id)
    with _MODELS_LOCK:
        cached = _MODELS.get(cache_key)
        if cached is not None and cached.key == key:
            _MODELS.move_to_end(cache_key)
            return cached.model, signals, matrix
    model = train_for_user(session, signals, matrix)
    with _MODELS_LOCK:
        _MODELS[cache_key] = _Cached(key, model)
        _MODELS.move_to_end(cache_key)
        while len(_MODELS) > MODEL_CACHE_SIZE:
            _MODELS.popitem(last=False)
    return model, signals, matrix


def _popular(session: Session, signals: UserSignals, rules: ExclusionRules, limit: int, offset: int) -> list[Recommendation]:
    skip = sorted(signals.negatives | signals.positives)
    where = and_(visible_condition(rules), Paper.id.not_in(skip)) if skip else visible_condition(rules)
    reason = [Reason("popular", "Popular on paperwire right now")]
    return [Recommendation(entry.paper, 0.5, list(reason), "popular")
            for entry in hot(session, limit=limit, offset=offset, where=where)]


def _graph_order(model: UserModel, matrix: VectorMatrix, rows: list[int], docs: list,
                 dense: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order candidates by label spreading over the ``GRAPH_NODES`` densest-scored ones.

    The graph's nodes are the candidates with the best *dense* logits (a set
    that does not depend on how deep the caller pages); they come first, in
    propagated order, then the rest by classifier logit. The nodes' logits are
    replaced by their propagated scores mapped onto the classifier's scale
    (same mean and spread over the nodes), so the shown match stays a
    probability-like number that falls with the list.
    """
    by_dense = np.argsort(-dense, kind="stable")
    nodes, rest = by_dense[:GRAPH_NODES], by_dense[GRAPH_NODES:]
    rest = rest[np.argsort(-logits[rest], kind="stable")]
    if len(nodes) < 2:
        return np.concatenate([nodes, rest]), logits
    node_rows = [rows[i] for i in nodes]
    spread = model.propagated(matrix.X[node_rows], [docs[i] for i in nodes], logits[nodes], center=matrix.mean())
    z = (spread - spread.mean()) / (spread.std() + 1e-9)
    out = np.asarray(logits, dtype=np.float32).copy()
    out[nodes] = logits[nodes].mean() + logits[nodes].std() * z
    return np.concatenate([nodes[np.argsort(-spread, kind="stable")], rest]), out


def recommend(
    session: Session, user_id: int, *, limit: int = 20, offset: int = 0, since: datetime | None = None,
    exclusions: ExclusionRules | None = None, with_reasons: bool = True, popular_fallback: bool = True,
) -> list[Recommendation]:
    """The user's "For you" list (best first). ``exclusions`` are added to the user's own.

    Without any positive signal the list is the hot list (``source="popular"``)
    unless ``popular_fallback`` is False, then it is empty.
    """
    if limit <= 0:
        return []
    model, signals, matrix = user_model(session, user_id)
    rules = ExclusionRules.from_pairs(signals.exclusions).merged(exclusions or ExclusionRules())
    if model.dense is None or not len(matrix):
        return _popular(session, signals, rules, limit, offset) if popular_fallback else []
    logits = model.dense_logits(matrix.X)
    seen_rows, _ = matrix.rows_of(sorted(signals.positives | signals.negatives))
    logits[seen_rows] = -np.inf
    lexical = tfidf_index(session)
    library = model.positive_ids[::-1]  # newest first
    selection = logits
    if AFFINITY_WEIGHT:
        affinity = library_affinity(matrix, lexical, library).score
        selection = _standardised(selection) + AFFINITY_WEIGHT * _standardised(affinity)
    lexical_terms = CENTROID_WEIGHT or NEAREST_WEIGHT
    if lexical_terms:
        lib = lexical_library(matrix, lexical, library)
        centroid, nearest = _standardised(lib.centroid), _standardised(lib.nearest)
        selection = _standardised(selection) + CENTROID_WEIGHT * centroid + NEAREST_WEIGHT * nearest
    shares = _library_authors(session, library) if AUTHOR_WEIGHT else {}
    extra = _author_rows(session, matrix, shares, since) if shares else np.zeros(0, dtype=np.int64)
    extra = extra[np.isfinite(selection[extra])] if len(extra) else extra
    want = offset + limit
    depth = max(CANDIDATES, 4 * want)
    while True:
        depth = min(depth, len(matrix))
        top = np.argpartition(-selection, depth - 1)[:depth] if depth < len(matrix) else np.arange(len(matrix))
        top = top[np.isfinite(selection[top])]
        if len(extra):  # new papers by the library's authors are always candidates
            top = np.concatenate([top, np.setdiff1d(extra, top)])
        papers = {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_([int(matrix.ids[i]) for i in top])))}
        kept = [
            i for i in top
            if (p := papers.get(int(matrix.ids[i]))) is not None and not p.hidden and not rules.excludes(p)
            and (since is None or (p.submitted_at or p.imported_at) >= since)
        ]
        if len(kept) >= want or depth >= len(matrix):
            break
        depth *= 4
    chosen = [papers[int(matrix.ids[i])] for i in kept]
    hits = [len(follow_matches(model.follows, p.title, p.abstract or "", p.authors_text or "", p.category_list))
            for p in chosen]
    docs = [term_counts(paper_text(p.title, p.abstract or "")) for p in chosen]
    final = model.rerank_logits(logits[kept], docs, hits)
    order, final = _graph_order(model, matrix, kept, docs, logits[kept], final)
    if AFFINITY_WEIGHT and len(kept) > 1:  # the nearest liked paper counts as much as the classifier
        final = final + AFFINITY_WEIGHT * float(np.std(final)) * _standardised(affinity[kept])
        order = np.argsort(-final, kind="stable")
    if (lexical_terms or AUTHOR_WEIGHT) and len(kept) > 1:
        rows = np.asarray(kept, dtype=np.int64)
        bonus = np.zeros(len(kept))
        if lexical_terms:  # standardised over the candidates, like the classifier's spread
            bonus += CENTROID_WEIGHT * _standardised(lib.centroid[rows]) + NEAREST_WEIGHT * _standardised(lib.nearest[rows])
        if AUTHOR_WEIGHT:
            bonus += AUTHOR_WEIGHT * np.array([author_score(p.authors or [], shares) for p in chosen])
        final = final + (float(np.std(final)) or 1.0) * bonus
        order = np.argsort(-final, kind="stable")
    order = order[offset: offset + limit]
    titles = library_titles(session, model.positive_ids) if with_reasons else {}
    out = []
    for j in order:
        paper = chosen[j]
        vector = matrix.X[kept[j]]
        reasons = explain(session, model, paper, vector, titles, nearest_positives(
            matrix, lexical, model.positive_ids[::-1], kept[j], NEAREST)) if with_reasons else []
        out.append(Recommendation(paper, float(_sigmoid(final[j])), reasons))
    return out


def _library_authors(session: Session, library: list[int]) -> dict[str, float]:
    """Author -> share of the user's library papers (see :func:`~paperwire.rank.library_terms.author_shares`)."""
    if not library:
        return {}
    rows = session.scalars(select(Paper.authors).where(Paper.id.in_(library))).all()
    return author_shares(rows)


def _author_rows(session: Session, matrix: VectorMatrix, shares: dict[str, float],
                 since: datetime | None) -> np.ndarray:
    """Matrix rows of visible papers by the library's leading authors (newest first, bounded)."""
    names = pool_authors(shares)
    if not names:
        return np.zeros(0, dtype=np.int64)
    query = select(Paper.id).where(not_(ExclusionRules(authors=tuple(names)).sql_condition()), Paper.hidden.is_(False))
    if since is not None:
        query = query.where(Paper.submitted_at >= since)
    ids = session.scalars(query.order_by(Paper.submitted_at.desc(), Paper.id.desc()).limit(CANDIDATES)).all()
    rows, _ = matrix.rows_of(ids)
    return np.asarray(rows, dtype=np.int64)


def recommend_for_user(session: Session, user_id: int, limit: int = 20,
                       exclusions: ExclusionRules | None = None) -> list[Recommendation]:
    """What digests, feeds and webhooks call (through ``deliver.digest``).

    Personal picks only (empty for a user with no signals, so a digest's
    "For you" section never repeats the trending one); the user's own
    exclusions always apply, ``exclusions`` (e.g. a subscription's) on top.
    """
    return recommend(session, user_id, limit=limit, with_reasons=False, popular_fallback=False, exclusions=exclusions)


def personal_probabilities(session: Session, user_id: int, papers: list[Paper]) -> np.ndarray | None:
    """The model's probability for each paper, or None when the user has no model yet."""
    model, _, matrix = user_model(session, user_id)
    if model.dense is None or not papers:
        return None
    ids, X = _vectors(session, matrix, [p.id for p in papers])
    row = {pid: i for i, pid in enumerate(ids)}
    dense = np.array([float(model.dense.logits(X[row[p.id]][None, :])[0]) if p.id in row else 0.0 for p in papers],
                     dtype=np.float32)
    hits = [len(follow_matches(model.follows, p.title, p.abstract or "", p.authors_text or "", p.category_list)) for p in papers]
    return _sigmoid(model.rerank_logits(dense, [paper_text(p.title, p.abstract or "") for p in papers], hits))


@dataclass
class TrendingForMe:
    paper: Paper
    score: float
    trend: float
    personal: float
    upvotes: int
    comments: int


def trending_for_me(session: Session, user_id: int, *, limit: int = 20, now: datetime | None = None) -> list[TrendingForMe]:
    """The hot list re-ordered by the documented blend (see the module docstring)."""
    now = now or utcnow()
    signals = user_signals(session, user_id)
    rules = ExclusionRules.from_pairs(signals.exclusions)
    entries = hot(session, now=now, limit=TREND_POOL,
                  where=and_(visible_condition(rules), not_dismissed_condition(user_id)))
    if not entries:
        return []
    n = len(entries)
    trend = [1.0 - i / max(1, n - 1) if n > 1 else 1.0 for i in range(n)]
    personal = personal_probabilities(session, user_id, [e.paper for e in entries])
    probs = [0.5] * n if personal is None else [float(p) for p in personal]
    rows = [
        TrendingForMe(e.paper, (1 - ALPHA) * t + ALPHA * p, t, p, e.upvotes, e.comments)
        for e, t, p in zip(entries, trend, probs)
    ]
    rows.sort(key=lambda r: (-r.score, -r.trend, r.paper.id))
    return rows[:limit]


def clear_model_cache() -> None:
    with _MODELS_LOCK:
        _MODELS.clear()
