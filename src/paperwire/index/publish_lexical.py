"""Building and publishing the tantivy lexical index (the one place it is built).

Same machinery as the vector index (:mod:`paperwire.index.publish`): under
the job lock ``index:lexical:<schema>``, compare the papers' fingerprint
(:func:`~paperwire.store.generations.papers_marker`) with the newest
published generation; when it differs, write every visible paper into a new
directory ``lexical-g<N>.building``, rename it to ``lexical-g<N>`` and mark
the generation row published. Readers (:mod:`paperwire.index.lexical_engine`)
load only published generations and switch on their next query.

Multi-host deployments: every host runs a worker with its own data folder.
A host whose folder lacks the newest generation (but whose marker is
current) builds that same generation locally instead of publishing a new
one, so hosts converge on one generation number without ping-pong; until
then its web processes answer from the database engine.

Builds are full (about 2-3 s per 10,000 papers on one core here): a
generation is immutable, which is what makes concurrent readers safe.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select

from paperwire.index.lexical_tantivy import SCHEMA_NAME, create_index, document
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.generations import (
    LEXICAL, IndexGeneration, begin_generation, latest_generation, older_generations, papers_marker, publish_generation,
)
from paperwire.store.locks import job_lock
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

KEEP_GENERATIONS = 2
#: Papers read from the database per batch while building.
BATCH = 5000
#: Writer memory budget (tantivy splits segments beyond it).
WRITER_HEAP = 200_000_000


@dataclass
class LexicalPublishReport:
    generation: int | None = None
    papers: int = 0
    built: bool = False
    seconds: float = 0.0
    busy: bool = False

    def summary(self) -> str:
        if self.busy:
            return "lexical index: another process is building it"
        if not self.built:
            return f"lexical index: generation {self.generation} is current ({self.papers} papers)"
        return (f"lexical index: generation {self.generation} built and published "
                f"({self.papers} papers, {self.seconds:.1f} s)")


def directory_name(generation: int) -> str:
    return f"lexical-g{generation}"


def publish_lexical_index(db: Database, *, force: bool = False) -> LexicalPublishReport:
    """Build and publish a new generation if the papers changed since the last one."""
    report = LexicalPublishReport()
    data_dir = get_settings().resolved_data_dir()
    with job_lock(db, f"index:{LEXICAL}:{SCHEMA_NAME}") as acquired:
        if not acquired:
            report.busy = True
            return report
        with db.session() as session:
            marker = papers_marker(session)
            previous = latest_generation(session, LEXICAL, SCHEMA_NAME)
            info = (previous.id, previous.path, previous.marker, previous.vectors) if previous else None
        here = info is not None and info[1] and (data_dir / info[1] / "meta.json").is_file()
        if info and info[2] == marker and not force:
            if here:
                report.generation, report.papers = info[0], info[3]
                return report
            # Another host published it; build this host's copy of the same generation.
            started = time.perf_counter()
            report.papers = _build(db, data_dir, info[1])
            report.generation, report.built, report.seconds = info[0], True, time.perf_counter() - started
            return report
        started = time.perf_counter()
        with db.session() as session:
            generation = begin_generation(session, LEXICAL, SCHEMA_NAME, marker, utcnow())
        name = directory_name(generation)
        papers = _build(db, data_dir, name)
        report.seconds = time.perf_counter() - started
        with db.session() as session:
            publish_generation(session, generation, path=name, size=papers, seconds=report.seconds)
        _remove_old(db, data_dir)
        report.generation, report.papers, report.built = generation, papers, True
        return report


def _build(db: Database, data_dir: Path, name: str) -> int:
    """Write every visible paper into ``data_dir/name`` (atomically renamed into place)."""
    target, building = data_dir / name, data_dir / f"{name}.building"
    shutil.rmtree(building, ignore_errors=True)
    index = create_index(building)
    writer = index.writer(WRITER_HEAP, 1)
    count, last_id = 0, 0
    columns = (Paper.id, Paper.title, Paper.abstract, Paper.authors_text, Paper.categories, Paper.submitted_at)
    while True:  # keyset batches: bounded memory, one short read transaction each
        with db.session() as session:
            rows = session.execute(
                select(*columns).where(Paper.hidden.is_(False), Paper.id > last_id).order_by(Paper.id).limit(BATCH)
            ).all()
        if not rows:
            break
        for row in rows:
            writer.add_document(document(*row))
        count += len(rows)
        last_id = rows[-1][0]
    writer.commit()
    writer.wait_merging_threads()
    del writer, index
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return count


def _remove_old(db: Database, data_dir: Path) -> None:
    with db.session() as session:
        old = older_generations(session, LEXICAL, SCHEMA_NAME, KEEP_GENERATIONS)
        names = [row.path for row in old if row.path]
        if old:
            session.execute(delete(IndexGeneration).where(IndexGeneration.id.in_([row.id for row in old])))
    for name in names:
        shutil.rmtree(data_dir / name, ignore_errors=True)


def lexical_generation_count(db: Database) -> int:
    """Published lexical generations (for status output and tests)."""
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(IndexGeneration).where(
            IndexGeneration.kind == LEXICAL, IndexGeneration.published.is_(True))) or 0


def publish_if_enabled(db: Database) -> LexicalPublishReport | None:
    """Publish when ``PAPERWIRE_LEXICAL_ENGINE=tantivy`` (what imports, the demo and the worker call)."""
    if get_settings().lexical_engine != "tantivy":
        return None
    return publish_lexical_index(db)
