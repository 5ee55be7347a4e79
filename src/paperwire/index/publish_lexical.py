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
then its web processes search the newest generation they have.

Kept in step cheaply: a new generation is normally *incremental* — the
previous generation's directory hard-linked file by file (tantivy never
rewrites a segment file, only ``meta.json``) plus one writer commit that
re-indexes the papers written since the previous watermark (their
``imported_at``, less :data:`WATERMARK_SLACK`) and drops hidden ones. That
costs milliseconds for a handful of papers at any corpus size, so web
writes can publish right after their commit (:mod:`paperwire.index.lexical_sync`).
When the result disagrees with the database (a paper deleted or merged
away, an unhide, a long transaction that committed an older timestamp),
the document count differs from the visible papers' count and the worker
builds a full generation instead (about 2-3 s per 10,000 papers on one core
here); meanwhile readers drop deleted and hidden papers at query time.
Generations stay immutable once published, which is what makes concurrent
readers in other processes safe.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import tantivy
from sqlalchemy import delete, func, select

from paperwire.index.lexical_tantivy import SCHEMA, SCHEMA_NAME, create_index, document, open_index
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.generations import (
    LEXICAL, IndexGeneration, begin_generation, latest_generation, papers_marker, publish_generation, retire_generations,
    retire_other_models,
)
from paperwire.store.locks import job_lock
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

KEEP_GENERATIONS = 2
#: Papers read from the database per batch while building.
BATCH = 5000
#: Writer memory budget (tantivy splits segments beyond it).
WRITER_HEAP = 200_000_000
#: An incremental generation re-indexes papers written this long before the
#: previous watermark too: a transaction that committed late with an earlier
#: ``imported_at`` is still picked up (re-indexing a paper twice is harmless).
WATERMARK_SLACK = timedelta(minutes=5)
#: Files of a tantivy directory that change on commit (copied, not hard-linked).
_MUTABLE = {"meta.json", ".managed.json"}
#: With ``full=False`` a full build is still made when the catalogue has at
#: most this many visible papers (well under a second): a fresh site's first
#: submissions, a small catalogue's deletes and merges stay in step at once.
SMALL_CATALOGUE = 5_000
_COLUMNS = (Paper.id, Paper.title, Paper.abstract, Paper.authors_text, Paper.categories, Paper.submitted_at)


@dataclass
class LexicalPublishReport:
    generation: int | None = None
    papers: int = 0
    built: bool = False
    seconds: float = 0.0
    busy: bool = False
    #: True when the generation extended the previous one (only changed papers written).
    incremental: bool = False
    #: True when only a full build would bring the index in step and the caller forbade one.
    needs_full: bool = False

    def summary(self) -> str:
        if self.busy:
            return "lexical index: another process is building it"
        if not self.built:
            return f"lexical index: generation {self.generation} is current ({self.papers} papers)"
        how = "extended" if self.incremental else "built"
        return (f"lexical index: generation {self.generation} {how} and published "
                f"({self.papers} papers, {self.seconds:.1f} s)")


def directory_name(generation: int) -> str:
    return f"lexical-g{generation}"


def publish_lexical_index(db: Database, *, force: bool = False, full: bool = True) -> LexicalPublishReport:
    """Publish a new generation if the papers changed since the last one.

    Incremental when the previous generation is on this host and the result
    matches the database; otherwise a full build, unless ``full=False`` (web
    processes: no full build in a request, except of a catalogue of at most
    :data:`SMALL_CATALOGUE` papers), which then only reports ``needs_full``
    and leaves it to the worker. ``force`` builds a full
    generation even when nothing changed (``paperwire index rebuild``).
    """
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
            base = None if force else _local_base(session, data_dir)
        here = info is not None and info[1] and (data_dir / info[1] / "meta.json").is_file()
        if info and info[2] == marker and not force:
            if here:
                report.generation, report.papers = info[0], info[3]
                return report
            # Another host published it; build this host's copy of the same generation
            # (extending the newest one this host has, when it has one).
            started = time.perf_counter()
            most = None if full else SMALL_CATALOGUE
            papers = _extend(db, data_dir, base[0], info[1], base[1], most=most) if base else None
            report.incremental = papers is not None
            if papers is None and not full and not _small(db):
                report.needs_full, report.generation = True, info[0]
                return report
            report.papers = papers if papers is not None else _build(db, data_dir, info[1])
            report.generation, report.built, report.seconds = info[0], True, time.perf_counter() - started
            _remove_unlisted(db, data_dir)
            return report
        started = time.perf_counter()
        with db.session() as session:
            generation = begin_generation(session, LEXICAL, SCHEMA_NAME, marker, utcnow())
        name = directory_name(generation)
        most = None if full else SMALL_CATALOGUE
        papers = _extend(db, data_dir, base[0], name, base[1], most=most) if base else None
        report.incremental = papers is not None
        if papers is None:
            if not full and not _small(db):
                with db.session() as session:  # the reserved number is dropped: nothing was built
                    session.execute(delete(IndexGeneration).where(IndexGeneration.id == generation))
                report.needs_full, report.generation = True, info[0] if info else None
                return report
            papers = _build(db, data_dir, name)
        report.seconds = time.perf_counter() - started
        with db.session() as session:
            publish_generation(session, generation, path=name, size=papers, seconds=report.seconds)
        _remove_old(db, data_dir)
        report.generation, report.papers, report.built = generation, papers, True
        return report


def _local_base(session, data_dir: Path) -> tuple[str, datetime] | None:
    """(directory, watermark) of the newest published generation present in this host's folder."""
    rows = session.execute(
        select(IndexGeneration.path, IndexGeneration.marker)
        .where(IndexGeneration.kind == LEXICAL, IndexGeneration.model == SCHEMA_NAME, IndexGeneration.published.is_(True))
        .order_by(IndexGeneration.id.desc()).limit(KEEP_GENERATIONS + 1)
    ).all()
    for path, marker in rows:
        since = _watermark(marker)
        if path and since is not None and (data_dir / path / "meta.json").is_file():
            return path, since
    return None


def _small(db: Database) -> bool:
    with db.session() as session:
        visible = session.scalar(select(func.count()).select_from(Paper).where(Paper.hidden.is_(False))) or 0
    return visible <= SMALL_CATALOGUE


def _watermark(marker: str) -> datetime | None:
    """The newest ``imported_at`` a marker recorded (see ``papers_marker``), less the slack."""
    parts = marker.split(":", 1)[1].rsplit(":", 2) if marker.count(":") >= 3 else []
    try:
        return datetime.fromisoformat(parts[0]) - WATERMARK_SLACK if parts else None
    except ValueError:
        return None


def _link_copy(source: Path, target: Path) -> None:
    """``target`` = ``source`` with immutable segment files hard-linked (copied where links fail)."""
    target.mkdir(parents=True)
    for item in source.iterdir():
        if not item.is_file() or item.name.startswith(".tantivy-"):
            continue  # lock files belong to the writer that made them
        if item.name in _MUTABLE:
            shutil.copy2(item, target / item.name)
            continue
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)


def _extend(db: Database, data_dir: Path, previous: str, name: str, since: datetime, *,
            most: int | None = None) -> int | None:
    """A copy of generation ``previous`` with papers written since ``since`` re-indexed and
    hidden papers dropped; None (nothing left behind) when it would not match the database,
    or when more than ``most`` papers changed (a request leaves a big catch-up to the worker)."""
    if most is not None:
        with db.session() as session:
            if (session.scalar(select(func.count()).select_from(Paper).where(Paper.imported_at >= since)) or 0) > most:
                return None
    target, building = data_dir / name, data_dir / f"{name}.building"
    shutil.rmtree(building, ignore_errors=True)
    _link_copy(data_dir / previous, building)
    index = open_index(building)
    writer = index.writer(WRITER_HEAP, 1)
    with db.session() as session:
        changed = session.execute(select(*_COLUMNS, Paper.hidden).where(Paper.imported_at >= since)).all()
        hidden = list(session.scalars(select(Paper.id).where(Paper.hidden.is_(True))))
        visible = session.scalar(select(func.count()).select_from(Paper).where(Paper.hidden.is_(False))) or 0
    stale = [row[0] for row in changed] + hidden
    if stale:
        writer.delete_documents_by_query(tantivy.Query.term_set_query(SCHEMA, "id", stale))
    for row in changed:
        if not row[-1]:
            writer.add_document(document(*row[:-1]))
    writer.commit()
    writer.wait_merging_threads()
    del writer
    index.reload()
    count = index.searcher().num_docs
    del index
    if count != visible:
        shutil.rmtree(building, ignore_errors=True)
        return None
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return count


def _build(db: Database, data_dir: Path, name: str) -> int:
    """Write every visible paper into ``data_dir/name`` (atomically renamed into place)."""
    target, building = data_dir / name, data_dir / f"{name}.building"
    shutil.rmtree(building, ignore_errors=True)
    index = create_index(building)
    writer = index.writer(WRITER_HEAP, 1)
    count, last_id = 0, 0
    columns = _COLUMNS
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
    """Retire all but the newest generations of this schema, and every generation of an
    older schema (no reader of this version opens them: ``lexical_engine`` asks for its own)."""
    with db.session() as session:
        retired = retire_generations(session, LEXICAL, SCHEMA_NAME, KEEP_GENERATIONS)
        retired += retire_other_models(session, LEXICAL, SCHEMA_NAME)
        names = [path for _, path in retired if path]
    for name in names:
        shutil.rmtree(data_dir / name, ignore_errors=True)


def _remove_unlisted(db: Database, data_dir: Path) -> None:
    """Drop this host's copies of generations the publishing host has retired."""
    with db.session() as session:
        listed = set(session.scalars(select(IndexGeneration.path).where(IndexGeneration.kind == LEXICAL)))
    for item in data_dir.glob("lexical-g*"):
        if item.is_dir() and item.name not in listed and not item.name.endswith(".building"):
            shutil.rmtree(item, ignore_errors=True)


def lexical_generation_count(db: Database) -> int:
    """Published lexical generations (for status output and tests)."""
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(IndexGeneration).where(
            IndexGeneration.kind == LEXICAL, IndexGeneration.published.is_(True))) or 0
