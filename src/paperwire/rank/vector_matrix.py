"""Every stored paper vector as one in-memory matrix, for scoring a linear model.

A user's dense score is ``X @ w``: one matrix-vector product over the whole
catalogue (100k × 256 float32 ≈ 100 MB, a few milliseconds) is cheaper and
exact compared with asking the HNSW index for a direction it was not built
for.

Owner and invalidation: the matrix is cached per (database, model) in this
module and follows the published index generations
(:mod:`paperwire.store.generations`): at most every ``REFRESH_SECONDS`` one
small query reads the newest generation number; when it changed, the vectors
written since the cached copy (new *and* re-embedded ones, by write time)
are merged in, and a count that still disagrees with the table (deleted
papers) reloads the matrix. ``generation`` is part of what per-user models
are keyed on, so they retrain when the vectors under them change.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.store.embeddings import Embedding, iter_all_vectors
from paperwire.store.generations import VECTORS, latest_generation

REFRESH_SECONDS = 10.0
#: Vectors written this long before the cached copy's newest are merged again
#: (a writer may commit a little after the time it stamped).
OVERLAP = timedelta(minutes=1)


@dataclass
class VectorMatrix:
    model: str
    #: Sorted paper ids, aligned with the rows of ``X``.
    ids: np.ndarray
    X: np.ndarray
    checked_at: float = 0.0
    #: Published generation this copy follows (0: none published yet).
    generation: int = 0
    #: Newest write time among the loaded vectors.
    newest: datetime | None = None
    _mean: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def mean(self) -> np.ndarray | None:
        """The catalogue's mean vector (computed once): centring by it removes the
        direction every static embedding shares, so cosines separate topics better."""
        if self._mean is None and len(self):
            self._mean = self.X.mean(axis=0).astype(np.float32)
        return self._mean

    def rows_of(self, paper_ids) -> tuple[np.ndarray, np.ndarray]:
        """(row indexes, mask of which ``paper_ids`` have a vector)."""
        wanted = np.asarray(list(paper_ids), dtype=np.int64)
        if not len(self.ids) or not len(wanted):
            return np.zeros(0, dtype=np.int64), np.zeros(len(wanted), dtype=bool)
        pos = np.searchsorted(self.ids, wanted)
        pos = np.minimum(pos, len(self.ids) - 1)
        found = self.ids[pos] == wanted
        return pos[found], found


_CACHE: dict[tuple[str, str], VectorMatrix] = {}
_LOCK = threading.Lock()


def _load_all(session: Session, model: str) -> tuple[np.ndarray, np.ndarray]:
    id_parts, x_parts = [], []
    for ids, matrix in iter_all_vectors(session, model):
        id_parts.append(ids.astype(np.int64))
        x_parts.append(matrix)
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(id_parts), np.vstack(x_parts).astype(np.float32)


def _newest(session: Session, model: str) -> datetime | None:
    return session.scalar(select(func.max(Embedding.created_at)).where(Embedding.model == model))


def _merge_recent(session: Session, current: VectorMatrix) -> tuple[np.ndarray, np.ndarray] | None:
    """``current`` with the vectors written since it merged in (None: reload instead)."""
    if current.newest is None or not len(current):
        return None
    rows = session.execute(
        select(Embedding.paper_id, Embedding.vector)
        .where(Embedding.model == current.model, Embedding.created_at >= current.newest - OVERLAP)
        .order_by(Embedding.paper_id)
    ).all()
    if not rows:
        return current.ids, current.X
    new_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    new_X = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    if new_X.shape[1] != current.X.shape[1]:
        return None
    pos = np.searchsorted(current.ids, new_ids)
    known = (pos < len(current.ids)) & (current.ids[np.minimum(pos, len(current.ids) - 1)] == new_ids)
    X = current.X.copy()
    X[pos[known]] = new_X[known]
    ids = np.concatenate([current.ids, new_ids[~known]])
    X = np.vstack([X, new_X[~known]])
    order = np.argsort(ids, kind="stable")
    return ids[order], X[order]


def vector_matrix(session: Session, model: str) -> VectorMatrix:
    """The cached matrix of ``model``'s vectors for the session's database."""
    key = (session.get_bind().url.render_as_string(hide_password=False), model)
    now = time.monotonic()
    with _LOCK:
        current = _CACHE.get(key)
        if current is not None and now - current.checked_at < REFRESH_SECONDS:
            return current
        published = latest_generation(session, VECTORS, model)
        generation = published.id if published is not None else 0
        if current is not None and current.generation == generation:
            current.checked_at = now
            return current
        newest = _newest(session, model)
        merged = _merge_recent(session, current) if current is not None else None
        count = session.scalar(select(func.count()).where(Embedding.model == model)) or 0
        if merged is None or len(merged[0]) != count:
            merged = _load_all(session, model)
        current = VectorMatrix(model, merged[0], merged[1], now, generation=generation, newest=newest)
        _CACHE[key] = current
        return current


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
