"""pgvector implementation of the ``VectorIndex`` protocol (PostgreSQL only).

Vectors live in ``paper_vectors`` (migration ``0007_postgres_search``), a
derived copy of ``embeddings.vector`` written next to it, searched through a
partial HNSW index per model on ``embedding::vector(DIM)`` with cosine
distance. There is no index file: every process sees the same index, and
:meth:`PgVectorIndex.sync` repairs a copy left behind by a crash between
writing ``embeddings`` and ``paper_vectors``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sqlalchemy import text

from paperwire.store.db import Database

#: pgvector's upper bound for hnsw.ef_search.
MAX_EF_SEARCH = 1000
DEFAULT_INDEX = ("paperwire-static-v1", 256, "ix_paper_vectors_hnsw_default")
_SYNC_CHUNK = 2000


def vector_literal(row: np.ndarray) -> str:
    """pgvector's text form ``[x,y,...]`` of one float vector."""
    return "[" + ",".join(repr(float(x)) for x in np.asarray(row, dtype=np.float32)) + "]"


def hnsw_index_name(model: str, dim: int) -> str:
    if (model, dim) == DEFAULT_INDEX[:2]:
        return DEFAULT_INDEX[2]
    return f"ix_paper_vectors_hnsw_{hashlib.sha1(f'{model}:{dim}'.encode()).hexdigest()[:12]}"


class PgVectorIndex:
    """Cosine HNSW over one model's vectors, inside PostgreSQL."""

    #: No file backs this index (``index_info`` reports the table instead).
    path = None

    def __init__(self, db: Database, model: str, dim: int):
        if db.dialect != "postgresql":
            raise ValueError(f"pgvector needs PostgreSQL, not {db.dialect}")
        self.db = db
        self.model = model
        self.dim = int(dim)
        # The model name is inlined (quoted) so the planner can match the partial index.
        self._model_sql = "'" + model.replace("'", "''") + "'"
        self._cast = f"embedding::vector({self.dim})"
        self._index_checked = False

    def _ensure_hnsw(self) -> None:
        """Create this model's partial HNSW index if the migration did not."""
        if self._index_checked:
            return

        name = hnsw_index_name(self.model, self.dim)
        with self.db.engine.begin() as conn:
            conn.execute(text(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON paper_vectors USING hnsw '
                f"(({self._cast}) vector_cosine_ops) WHERE model = {self._model_sql}"
            ))
        self._index_checked = True

    def __len__(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(
                text("SELECT count(*) FROM paper_vectors WHERE model = :m"), {"m": self.model}).scalar() or 0)

    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if not len(ids):
            return
        rows = [{"id": int(i), "m": self.model, "v": vector_literal(v)} for i, v in zip(ids, vectors)]
        with self.db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO paper_vectors (paper_id, model, embedding) VALUES (:id, :m, CAST(:v AS vector)) "
                "ON CONFLICT (paper_id, model) DO UPDATE SET embedding = EXCLUDED.embedding"
            ), rows)

    def remove(self, ids: Sequence[int]) -> None:
        if not len(ids):
            return
        with self.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM paper_vectors WHERE model = :m AND paper_id = ANY(:ids)"),
                         {"m": self.model, "ids": [int(i) for i in ids]})

    def clear(self) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM paper_vectors WHERE model = :m"), {"m": self.model})

    def save(self) -> None:
        """Nothing to do: every write is already committed."""

    def load(self) -> bool:
        return True

    def sync(self) -> int:
        """Copy vectors missing from ``paper_vectors`` and drop orphans; returns rows copied."""
        self._ensure_hnsw()
        copied = 0
        with self.db.engine.begin() as conn:
            conn.execute(text(
                "DELETE FROM paper_vectors v WHERE v.model = :m AND NOT EXISTS "
                "(SELECT 1 FROM embeddings e WHERE e.paper_id = v.paper_id AND e.model = v.model)"), {"m": self.model})
        while True:
            with self.db.engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT e.paper_id, e.vector FROM embeddings e WHERE e.model = :m AND NOT EXISTS "
                    "(SELECT 1 FROM paper_vectors v WHERE v.paper_id = e.paper_id AND v.model = e.model) "
                    "ORDER BY e.paper_id LIMIT :n"), {"m": self.model, "n": _SYNC_CHUNK}).all()
            if not rows:
                return copied
            matrix = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            self.upsert([r[0] for r in rows], matrix)
            copied += len(rows)

    def search_among(self, vector: np.ndarray, ids: Sequence[int], k: int) -> list[tuple[int, float]]:
        """The ``k`` of ``ids`` closest to ``vector``, exactly.

        The rows are picked first, in a materialised CTE: ordered by distance
        directly, the planner walks the approximate HNSW index (even with a
        second sort key, by an incremental sort) and keeps only the listed ids
        among its first ``ef_search`` neighbours.
        """
        if k <= 0 or not len(ids):
            return []
        distance = f"({self._cast}) <=> CAST(:q AS vector({self.dim}))"
        with self.db.engine.connect() as conn:
            rows = conn.execute(text(
                "WITH listed AS MATERIALIZED (SELECT paper_id, embedding FROM paper_vectors "
                f"WHERE model = {self._model_sql} AND paper_id = ANY(:ids)) "
                f"SELECT paper_id, {distance} AS d FROM listed ORDER BY d, paper_id LIMIT :k"),
                {"q": vector_literal(vector), "ids": [int(i) for i in ids], "k": int(k)}).all()
        return [(int(r[0]), 1.0 - float(r[1])) for r in rows]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        self._ensure_hnsw()
        distance = f"({self._cast}) <=> CAST(:q AS vector({self.dim}))"
        with self.db.engine.begin() as conn:
            # ef_search bounds what one HNSW scan returns; iterative scans go on past it for large k.
            # Both settings in one statement: one round trip instead of two.
            conn.execute(text("SELECT set_config('hnsw.ef_search', :ef, true), "
                              "set_config('hnsw.iterative_scan', 'relaxed_order', true)"),
                         {"ef": str(min(MAX_EF_SEARCH, max(40, int(k))))})
            rows = conn.execute(text(
                f"SELECT paper_id, {distance} AS d FROM paper_vectors WHERE model = {self._model_sql} "
                f"ORDER BY {distance} LIMIT :k"), {"q": vector_literal(vector), "k": int(k)}).all()
        # relaxed_order may return neighbours slightly out of order: sort them.
        return sorted(((int(r[0]), 1.0 - float(r[1])) for r in rows), key=lambda r: -r[1])
