"""The persisted approximate-nearest-neighbour index and the embedding job.

Vectors live in the database (``store.embeddings``), which is the source of
truth; the usearch HNSW file in the data folder is a derived, disposable
cache. It is loaded lazily, rebuilt from the database when it is missing or
holds a different number of vectors than the database (stale after a crash
or a write by another process), and reloaded when another process saved a
newer file. On PostgreSQL, :class:`PgVectorIndex` answers the same
protocol with pgvector (an HNSW index inside the database, no file).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import select

from paperwire.index.embeddings import Embedder, get_embedder, paper_text
from paperwire.index.vectors_pg import PgVectorIndex
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.embeddings import count_vectors, iter_all_vectors, save_vectors, stale_paper_ids
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

EMBED_BATCH = 512


class VectorIndex(Protocol):
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None: ...
    def remove(self, ids: Sequence[int]) -> None: ...
    def __len__(self) -> int: ...


class UsearchIndex:
    """HNSW over cosine similarity, persisted to one file (plus a small JSON)."""

    def __init__(self, path: Path, dim: int):
        from usearch.index import Index

        self.path = path
        self.dim = dim
        self._lock = threading.RLock()
        self._index = Index(ndim=dim, metric="cos", dtype="f32", connectivity=16, expansion_add=128, expansion_search=64)
        self.loaded_mtime: float | None = None

    def __len__(self) -> int:
        return len(self._index)

    def load(self) -> bool:
        if not self.path.exists():
            return False
        with self._lock:
            self._index.load(str(self.path))
            self.loaded_mtime = self.path.stat().st_mtime
        return True

    def save(self) -> None:
        with self._lock:
            tmp = self.path.with_suffix(".tmp")
            self._index.save(str(tmp))
            os.replace(tmp, self.path)
            self.loaded_mtime = self.path.stat().st_mtime

    def upsert(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        keys = np.asarray(ids, dtype=np.uint64)
        with self._lock:
            present = keys[np.asarray(self._index.contains(keys), dtype=bool)] if len(keys) else keys
            if len(present):
                self._index.remove(present)
            if len(keys):
                self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32))

    def remove(self, ids: Sequence[int]) -> None:
        keys = np.asarray(ids, dtype=np.uint64)
        with self._lock:
            present = keys[np.asarray(self._index.contains(keys), dtype=bool)] if len(keys) else keys
            if len(present):
                self._index.remove(present)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self._lock:
            if len(self._index) == 0 or k <= 0:
                return []
            matches = self._index.search(np.asarray(vector, dtype=np.float32), min(k, len(self._index)))
        return [(int(key), 1.0 - float(dist)) for key, dist in zip(matches.keys, matches.distances)]

    def clear(self) -> None:
        with self._lock:
            self._index.reset()


@dataclass
class EmbedReport:
    embedded: int = 0
    already_current: int = 0
    index_size: int = 0
    model: str = ""

    def summary(self) -> str:
        return (
            f"{self.embedded} papers embedded with {self.model}, {self.already_current} already current; "
            f"vector index holds {self.index_size}"
        )


class SemanticIndex:
    """An embedder plus the vector index of one database, kept in step."""

    def __init__(self, db: Database, embedder: Embedder, path: Path | None):
        self.db = db
        self.embedder = embedder
        self.vectors: UsearchIndex | PgVectorIndex
        if db.dialect == "postgresql":
            self.vectors = PgVectorIndex(db, embedder.name, embedder.dim)
        else:
            assert path is not None, "SQLite needs a file for the vector index"
            self.vectors = UsearchIndex(path, embedder.dim)
        self._lock = threading.Lock()
        self._ready = False

    # -- keeping the index in step with the database ---------------------
    def ensure_ready(self) -> None:
        """Load the index file; rebuild it if it is missing or stale."""
        if isinstance(self.vectors, PgVectorIndex):
            with self._lock:
                if not self._ready:
                    self.vectors.sync()
                    self._ready = True
            return
        with self._lock:
            path = self.vectors.path
            newer_on_disk = path.exists() and self.vectors.loaded_mtime != path.stat().st_mtime
            if self._ready and not newer_on_disk:
                return
            with self.db.session() as session:
                expected = count_vectors(session, self.embedder.name)
            if not (self.vectors.load() and len(self.vectors) == expected):
                self._rebuild_from_database()
            self._ready = True

    def _rebuild_from_database(self) -> None:
        self.vectors.clear()
        with self.db.session() as session:
            for ids, matrix in iter_all_vectors(session, self.embedder.name):
                self.vectors.upsert(ids, matrix)
        self.vectors.save()

    def embed_ids(self, paper_ids: Sequence[int] | None, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
        """Embed papers whose vector is missing or outdated (all papers if ids is None)."""
        self.ensure_ready()
        report = EmbedReport(model=self.embedder.name)
        with self.db.session() as session:
            todo = stale_paper_ids(session, self.embedder.name, paper_ids)
        total_considered = len(paper_ids) if paper_ids is not None else None
        for start in range(0, len(todo), EMBED_BATCH):
            chunk = todo[start : start + EMBED_BATCH]
            with self.db.session() as session:
                rows = session.execute(
                    select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash).where(Paper.id.in_(chunk))
                ).all()
                matrix = self.embedder.embed([paper_text(r.title, r.abstract) for r in rows])
                save_vectors(session, self.embedder.name, [(r.id, r.content_hash) for r in rows], matrix, utcnow())
            self.vectors.upsert([r.id for r in rows], matrix)
            report.embedded += len(rows)
            if on_progress:
                on_progress(report.embedded, len(todo))
        if report.embedded:
            self.vectors.save()
        if total_considered is not None:
            report.already_current = total_considered - report.embedded
        report.index_size = len(self.vectors)
        return report

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
        """Re-embed every paper and rebuild the index from scratch."""
        from sqlalchemy import delete

        from paperwire.store.embeddings import Embedding

        with self.db.session() as session:
            session.execute(delete(Embedding).where(Embedding.model == self.embedder.name))
        self.vectors.clear()
        self.vectors.save()
        self._ready = True
        return self.embed_ids(None, on_progress)

    # -- queries ------------------------------------------------------------
    def query_vector(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self.ensure_ready()
        return self.vectors.search(vector, k)


_CACHE: dict[tuple[str, str, str], SemanticIndex] = {}
_CACHE_LOCK = threading.Lock()


def semantic_index(db: Database) -> SemanticIndex:
    """The process-wide semantic index of ``db`` with the configured embedder."""
    settings = get_settings()
    url = db.engine.url.render_as_string(hide_password=False)
    key = (url, settings.embedder, str(settings.resolved_data_dir()))
    with _CACHE_LOCK:
        index = _CACHE.get(key)
        if index is None:
            embedder = get_embedder(settings.embedder)
            path = None
            if db.dialect != "postgresql":
                safe_name = embedder.name.replace("/", "_").replace(":", "_")
                path = settings.resolved_data_dir() / f"vectors-{safe_name}.usearch"
            index = SemanticIndex(db, embedder, path)
            _CACHE[key] = index
        index.db = db
        return index


def embed_paper_ids(db: Database, paper_ids: Sequence[int]) -> EmbedReport:
    """Embed the given papers if needed (called by imports and harvests)."""
    return semantic_index(db).embed_ids(list(paper_ids))


def embed_all(db: Database, *, rebuild: bool = False, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
    index = semantic_index(db)
    return index.rebuild(on_progress) if rebuild else index.embed_ids(None, on_progress)


def index_info(db: Database) -> dict:
    index = semantic_index(db)
    index.ensure_ready()
    return {"model": index.embedder.name, "dim": index.embedder.dim, "vectors": len(index.vectors),
            "path": str(index.vectors.path) if index.vectors.path else "postgresql:paper_vectors"}
