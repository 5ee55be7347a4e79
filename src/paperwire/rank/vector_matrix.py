"""Every stored paper vector as one in-memory matrix, for scoring a linear model.

A user's dense score is ``X @ w``: one matrix-vector product over the whole
catalogue (100k × 256 float32 ≈ 100 MB, a few milliseconds) is cheaper and
exact compared with asking the HNSW index for a direction it was not built
for. The matrix is loaded once per process and kept in step with the
``embeddings`` table: at most every ``REFRESH_SECONDS`` a cheap
count/max query checks for new vectors; appended vectors are loaded
incrementally, anything else reloads the matrix.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.store.embeddings import Embedding, iter_all_vectors

REFRESH_SECONDS = 10.0


@dataclass
class VectorMatrix:
    model: str
    #: Sorted paper ids, aligned with the rows of ``X``.
    ids: np.ndarray
    X: np.ndarray
    checked_at: float = 0.0
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


def _load(session: Session, model: str, after: int = 0) -> tuple[np.ndarray, np.ndarray]:
    id_parts, x_parts = [], []
    for ids, matrix in _iter_after(session, model, after):
        id_parts.append(ids.astype(np.int64))
        x_parts.append(matrix)
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(id_parts), np.vstack(x_parts).astype(np.float32)


def _iter_after(session: Session, model: str, after: int):
    if after == 0:
        yield from iter_all_vectors(session, model)
        return
    rows = session.execute(
        select(Embedding.paper_id, Embedding.vector).where(Embedding.model == model, Embedding.paper_id > after)
        .order_by(Embedding.paper_id)
    ).all()
    if rows:
        yield (np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
               np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))


def vector_matrix(session: Session, model: str) -> VectorMatrix:
    """The cached matrix of ``model``'s vectors for the session's database."""
    key = (session.get_bind().url.render_as_string(hide_password=False), model)
    now = time.monotonic()
    with _LOCK:
        current = _CACHE.get(key)
        if current is not None and now - current.checked_at < REFRESH_SECONDS:
            return current
        count, top = session.execute(
            select(func.count(), func.max(Embedding.paper_id)).where(Embedding.model == model)
        ).one()
        count, top = int(count or 0), int(top or 0)
        if current is not None and len(current) == count and (count == 0 or int(current.ids[-1]) == top):
            current.checked_at = now
            return current
        if current is not None and len(current) and len(current) < count:
            ids, X = _load(session, model, after=int(current.ids[-1]))
            if len(current) + len(ids) == count and X.shape[1:] == current.X.shape[1:]:
                current = VectorMatrix(model, np.concatenate([current.ids, ids]), np.vstack([current.X, X]), now)
                _CACHE[key] = current
                return current
        ids, X = _load(session, model)
        current = VectorMatrix(model, ids, X, now)
        _CACHE[key] = current
        return current


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
