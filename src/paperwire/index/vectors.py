"""The persisted approximate-nearest-neighbour index and the embedding job.

Vectors live in the database (``store.embeddings``), which is the source of
truth; the usearch HNSW files in the data folder are derived state, built by
:mod:`paperwire.index.publish` (the worker, ``paperwire embed``) as numbered,
published generations and only *loaded* here. On PostgreSQL,
:class:`PgVectorIndex` answers the same protocol with pgvector (an HNSW index
inside the database, no file); its generations mark what it holds.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.index.embeddings import Embedder, get_embedder, paper_text
from paperwire.index.vectors_pg import PgVectorIndex
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.embeddings import count_vectors, save_vectors, stale_paper_ids
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

EMBED_BATCH = 512


class VectorIndex(Protocol):
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def search_among(self, vector: np.ndarray, ids: Sequence[int], k: int) -> list[tuple[int, float]]: ...
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

    def load(self, source: Path | None = None) -> bool:
        """Load this index's file (or ``source``, e.g. the previous generation's)."""
        source = source or self.path
        if not source.exists():
            return False
        with self._lock:
            self._index.load(str(source))
            self.loaded_mtime = source.stat().st_mtime
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

    def search_among(self, vector: np.ndarray, ids: Sequence[int], k: int) -> list[tuple[int, float]]:
        """The ``k`` of ``ids`` closest to ``vector``, exactly (each one compared)."""
        keys = np.asarray(ids, dtype=np.uint64)
        with self._lock:
            if not len(keys) or k <= 0:
                return []
            keys = keys[np.asarray(self._index.contains(keys), dtype=bool)]
            if not len(keys):
                return []
            stored = np.asarray(self._index.get(keys), dtype=np.float32).reshape(len(keys), self.dim)
        return top_cosine(vector, keys, stored, k)

    def clear(self) -> None:
        with self._lock:
            self._index.reset()


def top_cosine(vector: np.ndarray, keys: np.ndarray, stored: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(key, cosine) of the ``k`` rows of ``stored`` most similar to ``vector``, best first, ties by key."""
    query = np.asarray(vector, dtype=np.float32)
    norms = np.linalg.norm(stored, axis=1) * (np.linalg.norm(query) or 1.0)
    scores = (stored @ query) / np.where(norms > 0, norms, 1.0)
    order = np.lexsort((keys, -scores))[:k]
    return [(int(keys[i]), float(scores[i])) for i in order]


@dataclass
class EmbedReport:
    embedded: int = 0
    already_current: int = 0
    index_size: int = 0
    model: str = ""
    #: Wall time of the embedding run and the part of it spent writing vectors.
    seconds: float = 0.0
    write_seconds: float = 0.0

    def summary(self) -> str:
        rate = ""
        if self.embedded and self.seconds > 0:
            rate = (f" in {self.seconds:.1f} s ({self.embedded / self.seconds:,.0f} papers/s, "
                    f"writing {100 * self.write_seconds / self.seconds:.0f}% of the time)")
        return (
            f"{self.embedded} papers embedded with {self.model}{rate}, {self.already_current} already current; "
            f"vector index holds {self.index_size}"
        )


class SemanticUnavailable(RuntimeError):
    """No vector index has been published yet: semantic results cannot be given.

    Callers fall back to lexical results and say so; the worker (or
    ``paperwire embed``) builds and publishes the index.
    """


class PaperNotIndexedYet(SemanticUnavailable):
    """The indexes exist but this paper is in none of them yet (it was stored after
    their last build): its similar papers come once the worker has embedded it."""


class SemanticIndex:
    """An embedder, the stored vectors it writes, and the published index it reads.

    Writing (``embed_ids``) only stores vectors in the database. Reading
    (``nearest``) uses the newest *published* generation
    (:mod:`paperwire.index.publish` builds them): a request never builds an
    index, and a process notices a newer generation with one small query.
    """

    def __init__(self, db: Database, embedder: Embedder, data_dir: Path | None):
        self.db = db
        self.embedder = embedder
        self.data_dir = data_dir
        self.vectors: UsearchIndex | PgVectorIndex | None = None
        #: The published generation ``vectors`` holds (None: nothing loaded yet).
        self.generation: int | None = None
        self.generation_size = 0
        #: (generation, highest paper id, paper count) last seen by ``coverage``.
        self._papers_seen: tuple[int | None, int, int] | None = None
        self._lock = threading.Lock()
        if db.dialect == "postgresql":
            self._pg = PgVectorIndex(db, embedder.name, embedder.dim)
        elif data_dir is None:
            raise ValueError("SQLite needs a data folder for the vector index files")

    # -- writing vectors ------------------------------------------------------
    def embed_ids(self, paper_ids: Sequence[int] | None, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
        """Embed papers whose vector is missing or outdated (all papers if ids is None).

        Vectors go to the database only; the published index follows when
        the next generation is built.
        """
        report = EmbedReport(model=self.embedder.name)
        started = time.perf_counter()
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
                writing = time.perf_counter()
                save_vectors(session, self.embedder.name, [(r.id, r.content_hash) for r in rows], matrix, utcnow())
            self.store_in_database_index([r.id for r in rows], matrix)
            report.write_seconds += time.perf_counter() - writing
            report.embedded += len(rows)
            if on_progress:
                on_progress(report.embedded, len(todo))
        report.seconds = time.perf_counter() - started
        if total_considered is not None:
            report.already_current = total_considered - report.embedded
        with self.db.session() as session:
            report.index_size = count_vectors(session, self.embedder.name)
        return report

    def store_in_database_index(self, ids: Sequence[int], matrix: np.ndarray) -> None:
        """PostgreSQL: keep pgvector's copy next to the stored vectors (a crash in
        between is repaired by the next publish); SQLite: nothing to do."""
        if self.db.dialect == "postgresql":
            self._pg.upsert(ids, matrix)

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
        """Re-embed every paper (the next published generation holds only the new vectors)."""
        from sqlalchemy import delete

        from paperwire.store.embeddings import Embedding

        with self.db.session() as session:
            session.execute(delete(Embedding).where(Embedding.model == self.embedder.name))
        return self.embed_ids(None, on_progress)

    # -- reading the published index ----------------------------------------
    def refresh(self, session: Session | None = None) -> int | None:
        """Load the newest published generation if it is not loaded yet; returns its number.

        Asks in ``session`` when the caller has one (a search: one session per request).
        """
        from paperwire.store.generations import VECTORS, latest_generation

        if session is None:
            with self.db.read_session() as own:
                return self.refresh(own)
        newest = latest_generation(session, VECTORS, self.embedder.name)
        found = (newest.id, newest.path, newest.vectors) if newest is not None else None
        if found is None or found[0] == self.generation:
            return self.generation
        generation, name, size = found
        with self._lock:
            if generation == self.generation:
                return generation
            if self.db.dialect == "postgresql":
                loaded: UsearchIndex | PgVectorIndex = self._pg
            else:
                loaded = UsearchIndex(self.data_dir / name, self.embedder.dim)
                if not loaded.load():  # removed under us: keep serving what we have
                    return self.generation
            self.vectors, self.generation, self.generation_size = loaded, generation, size
        return generation

    def coverage(self, session: Session | None = None) -> "Coverage":
        """Published vectors against papers stored, for the pages' coverage notice.

        A full ``count(*)`` costs 40-100 ms at 1M papers on SQLite, too much per
        search, so the count is kept here and advanced by counting only the ids
        above the highest one seen (a primary-key range scan). That is exact
        because papers are never deleted (merges update rows); it is recounted
        in full whenever another generation is loaded all the same.
        """
        with self.db.reading(session) as session:
            top = session.scalar(select(func.max(Paper.id))) or 0
            seen = self._papers_seen
            if seen is None or seen[0] != self.generation or top < seen[1]:
                count = session.scalar(select(func.count()).select_from(Paper)) or 0
            elif top == seen[1]:
                count = seen[2]
            else:
                count = seen[2] + (session.scalar(
                    select(func.count()).select_from(Paper).where(Paper.id > seen[1])) or 0)
        self._papers_seen = (self.generation, top, count)
        embedded = self.generation_size if self.generation is not None else 0
        return Coverage(embedded=min(embedded, count), papers=count)

    def query_vector(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def nearest(self, vector: np.ndarray, k: int, *, session: Session | None = None) -> list[tuple[int, float]]:
        """Nearest papers in the published index (raises :class:`SemanticUnavailable`)."""
        return self._published(session).search(vector, k)

    def nearest_among(self, vector: np.ndarray, ids: Sequence[int], k: int, *,
                      session: Session | None = None) -> list[tuple[int, float]]:
        """The ``k`` of ``ids`` nearest to ``vector`` in the published index, compared exactly."""
        return self._published(session).search_among(vector, ids, k)

    def _published(self, session: Session | None) -> VectorIndex:
        """The newest published vectors (raises :class:`SemanticUnavailable` before the first)."""
        if self.refresh(session) is None or self.vectors is None:
            raise SemanticUnavailable(
                "the semantic index has not been built yet (run `paperwire worker` or `paperwire embed`)"
            )
        return self.vectors


_CACHE: dict[tuple[str, str, str], SemanticIndex] = {}
_CACHE_LOCK = threading.Lock()


def semantic_index(db: Database) -> SemanticIndex:
    """The process-wide semantic index of ``db`` with the configured embedder.

    Owner: this module, one entry per (database, embedder, data folder).
    Invalidation: none needed — each entry follows the published generations
    itself (:meth:`SemanticIndex.refresh`).
    """
    settings = get_settings()
    url = db.engine.url.render_as_string(hide_password=False)
    key = (url, settings.embedder, str(settings.resolved_data_dir()))
    with _CACHE_LOCK:
        index = _CACHE.get(key)
        if index is None:
            embedder = get_embedder(settings.embedder)
            data_dir = None if db.dialect == "postgresql" else settings.resolved_data_dir()
            index = SemanticIndex(db, embedder, data_dir)
            _CACHE[key] = index
        index.db = db
        return index


def embed_paper_ids(db: Database, paper_ids: Sequence[int]) -> EmbedReport:
    """Embed the given papers if needed (called by imports and harvests)."""
    return semantic_index(db).embed_ids(list(paper_ids))


def embed_all(db: Database, *, rebuild: bool = False, on_progress: Callable[[int, int], None] | None = None) -> EmbedReport:
    """Embed what is missing or stale (everything with ``rebuild``); publishing the
    index is :func:`paperwire.index.publish.publish_vector_index`'s job."""
    index = semantic_index(db)
    return index.rebuild(on_progress) if rebuild else index.embed_ids(None, on_progress)


@dataclass(frozen=True)
class Coverage:
    """How much of the corpus the published vector index holds.

    Imports do not embed (the worker backfills), so for a while after an
    import semantic results, similar papers and "For you" see only part of
    the corpus; pages say so with :meth:`notice` instead of passing that off
    as the whole answer.
    """

    embedded: int
    papers: int

    @property
    def complete(self) -> bool:
        return self.embedded >= self.papers

    def notice(self) -> str | None:
        """The sentence pages show while part of the corpus is not embedded (None when all is)."""
        if self.complete:
            return None
        return (f"Semantic results cover {self.embedded:,} of {self.papers:,} papers; "
                "the rest are being embedded.")

    def header(self) -> str:
        """``embedded/papers``, for the API's ``X-Paperwire-Semantic-Coverage`` header."""
        return f"{self.embedded}/{self.papers}"


def semantic_coverage(db: Database, session: Session | None = None) -> Coverage:
    """Published vectors against papers stored (nothing is built; see ``SemanticIndex.coverage``)."""
    index = semantic_index(db)
    index.refresh(session)
    return index.coverage(session)


def index_info(db: Database) -> dict:
    """What is stored and what is published, for ``paperwire stats`` and ``status``."""
    index = semantic_index(db)
    index.refresh()
    with db.session() as session:
        stored = count_vectors(session, index.embedder.name)
        papers = session.scalar(select(func.count()).select_from(Paper)) or 0
    return {
        "model": index.embedder.name, "dim": index.embedder.dim, "vectors": stored,
        "papers_without_vectors": max(papers - stored, 0),
        "published_generation": index.generation, "published_vectors": index.generation_size,
        "path": (str(index.vectors.path) if index.vectors is not None and index.vectors.path
                 else ("postgresql:paper_vectors" if db.dialect == "postgresql" else None)),
    }
