"""Building and publishing the vector index: the one place it is built.

The worker's ``index-publish`` job (and ``paperwire embed`` / imports from the
CLI, when they finish) call :func:`publish_vector_index`. It compares the
stored vectors' fingerprint with the newest published generation, and when
they differ builds the next generation under a job lock and publishes it
as a new :class:`~paperwire.store.generations.IndexGeneration` row:

- SQLite: a new usearch file ``vectors-<model>-g<N>.usearch`` in the data
  folder, written beside the old one and renamed into place, so readers
  never see a half-written file. When the previous generation's file is
  there, only the vectors written since it (plus a minute of overlap for
  writers that committed late) are upserted into a copy of it; a count that
  does not match afterwards (deleted papers) means a full rebuild.
- PostgreSQL: the HNSW index lives in the database and follows every write;
  publishing repairs ``paper_vectors`` after a crash (``sync``) and records
  the generation, so web processes and caches follow the same numbers.

Old generations are removed once two newer ones are published (a process
that still has one loaded keeps it in memory until it notices the new one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from paperwire.index.vectors import UsearchIndex, semantic_index
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.embeddings import Embedding, count_vectors, iter_all_vectors
from paperwire.store.generations import (
    VECTORS, begin_generation, embeddings_marker, latest_generation, publish_generation, retire_generations,
)
from paperwire.store.locks import job_lock
from paperwire.store.papers import utcnow

#: Generations kept on disk (the newest and the one before it).
KEEP_GENERATIONS = 2
#: Vectors written this long before the previous build are upserted again.
OVERLAP = timedelta(minutes=1)


@dataclass
class PublishReport:
    model: str
    generation: int | None = None
    vectors: int = 0
    built: bool = False
    incremental: bool = False
    seconds: float = 0.0
    busy: bool = False

    def summary(self) -> str:
        if self.busy:
            return f"vector index of {self.model}: another process is building it"
        if not self.built:
            return f"vector index of {self.model}: generation {self.generation} is current ({self.vectors} vectors)"
        how = "updated" if self.incremental else "built"
        return (f"vector index of {self.model}: generation {self.generation} {how} and published "
                f"({self.vectors} vectors, {self.seconds:.1f} s)")


def file_name(model: str, generation: int) -> str:
    safe = model.replace("/", "_").replace(":", "_")
    return f"vectors-{safe}-g{generation}.usearch"


def _newest_write(marker: str) -> datetime | None:
    """The newest-write part of a marker (``count:ISO time:id sum``)."""
    parts = marker.split(":", 1)[1].rsplit(":", 1)[0] if marker.count(":") >= 2 else "-"
    try:
        return datetime.fromisoformat(parts)
    except ValueError:
        return None


def publish_vector_index(db: Database, *, force: bool = False) -> PublishReport:
    """Build and publish a new generation if the stored vectors changed since the last one."""
    index = semantic_index(db)
    model, dim = index.embedder.name, index.embedder.dim
    report = PublishReport(model=model)
    with job_lock(db, f"index:{VECTORS}:{model}") as acquired:
        if not acquired:
            report.busy = True
            return report
        with db.session() as session:
            marker = embeddings_marker(session, model)
            previous = latest_generation(session, VECTORS, model)
            previous_info = (previous.id, previous.path, previous.marker, previous.vectors) if previous else None
        data_dir = None if db.dialect == "postgresql" else get_settings().resolved_data_dir()
        if previous_info and previous_info[2] == marker and not force and (
            data_dir is None or (data_dir / (previous_info[1] or "")).is_file()
        ):
            report.generation, report.vectors = previous_info[0], previous_info[3]
            return report
        started = time.perf_counter()
        with db.session() as session:
            generation = begin_generation(session, VECTORS, model, marker, utcnow())
        if data_dir is None:
            index._pg.sync()
            with db.session() as session:
                size = count_vectors(session, model)
            name = None
        else:
            name = file_name(model, generation)
            size, report.incremental = _build_file(
                db, model, dim, data_dir / name, previous=(data_dir / previous_info[1]) if previous_info and previous_info[1] else None,
                since=_newest_write(previous_info[2]) if previous_info and not force else None,
            )
        report.seconds = time.perf_counter() - started
        with db.session() as session:
            publish_generation(session, generation, path=name, size=size, seconds=report.seconds)
        _remove_old(db, model, data_dir)
        report.generation, report.vectors, report.built = generation, size, True
        index.refresh()
        return report


def _build_file(db: Database, model: str, dim: int, path: Path, *, previous: Path | None,
                since: datetime | None) -> tuple[int, bool]:
    """Write the index file; returns (vectors, whether it was an incremental update)."""
    with db.session() as session:
        expected = count_vectors(session, model)
    if previous is not None and since is not None and previous.is_file():
        target = UsearchIndex(path, dim)
        if target.load(previous):
            with db.session() as session:
                rows = session.execute(
                    select(Embedding.paper_id, Embedding.vector)
                    .where(Embedding.model == model, Embedding.created_at >= since - OVERLAP)
                    .order_by(Embedding.paper_id)
                ).all()
            if rows:
                import numpy as np

                target.upsert([r[0] for r in rows], np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows]))
            if len(target) == expected:
                target.save()
                return len(target), True
    target = UsearchIndex(path, dim)
    with db.session() as session:
        for ids, matrix in iter_all_vectors(session, model):
            target.upsert(ids, matrix)
    target.save()
    return len(target), False


def _remove_old(db: Database, model: str, data_dir: Path | None) -> None:
    with db.session() as session:
        names = [path for _, path in retire_generations(session, VECTORS, model, KEEP_GENERATIONS) if path]
    if data_dir is not None:
        for name in names:
            (data_dir / name).unlink(missing_ok=True)
        # A build killed before its rename leaves its temporary file behind.
        for leftover in data_dir.glob(file_name(model, 0).replace("-g0.usearch", "-g*.tmp")):
            leftover.unlink(missing_ok=True)
