"""Batching records from any reader into the store.

A reader yields :class:`PaperRecord` objects, or :class:`InvalidRecord` for
a record it could not read (so that ``--skip-invalid`` can go on); a file that
cannot be read on (bad gzip, not UTF-8, an overlong line: ``SourceError``
from the shared opener in ``sources.textfile``) stops the import either way. Each batch
is one transaction: an invalid record stops the import before its batch is
written, naming the file and line. Progress is saved per committed batch, so
an interrupted import of a huge file resumes where it stopped; because the
upsert is idempotent, re-running a finished import is harmless too.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from paperwire.records import MAX_TITLE, InvalidRecord, PaperRecord, clean_text
from paperwire.store.db import Database
from paperwire.store.models import ImportProgress
from paperwire.store.papers import UpsertResult, prepare_batch, upsert_papers, utcnow
from paperwire.sources.textfile import SourceError

Item = PaperRecord | InvalidRecord
#: Called after every committed batch with (records read so far, result so far).
ProgressCallback = Callable[[int, UpsertResult], None]
#: Called after every committed batch with the ids of new or changed papers.
ChangedCallback = Callable[[list[int]], None]


class ImportFailed(Exception):
    """An import stopped at an invalid record; earlier batches were kept."""

    def __init__(self, error: InvalidRecord, report: ImportReport):
        super().__init__(str(error))
        self.error = error
        self.report = report


@dataclass
class ImportReport:
    read: int = 0
    invalid: int = 0
    skipped_resumed: int = 0
    result: UpsertResult = field(default_factory=UpsertResult)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "inserted": self.result.inserted,
            "updated": self.result.updated,
            "unchanged": self.result.unchanged,
            "featured": self.result.featured,
            "invalid": self.invalid,
            "resumed_after": self.skipped_resumed,
            "errors": self.errors[:20],
        }


def progress_key(path: Path, fmt: str) -> str:
    stat = path.stat()
    return f"{fmt}:{path.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"


def import_items(
    db: Database,
    items: Iterable[Item],
    *,
    batch_size: int = 1000,
    skip_invalid: bool = False,
    resume_key: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_changed: ChangedCallback | None = None,
) -> ImportReport:
    """Write ``items`` to the store in batches (see the module docstring)."""
    with _collector_paused():
        return _import_items(db, items, batch_size, skip_invalid, resume_key, on_progress, on_changed)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the length of an import.

    A 10,000-record batch is some 300,000 live containers (records, row
    dicts, tuples), and every automatic collection walks them: about a third
    of the import's CPU. Nothing in a batch forms reference cycles, so
    reference counting frees each batch as before; what the database layer
    leaves in cycles is collected per batch (young generation, cheap) by
    ``flush``. The previous state is restored at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import_items(db, items, batch_size, skip_invalid, resume_key, on_progress, on_changed) -> ImportReport:
    report = ImportReport()
    start = _resume_point(db, resume_key)
    report.skipped_resumed = start
    position = 0
    batch: list[PaperRecord] = []

    def flush() -> None:
        result = _write_batch(db, batch, resume_key, position)
        db.truncate_wal_if_large()  # between batches: concurrent workers would grow it for ever
        if on_changed and result.changed_ids:
            on_changed(result.changed_ids)
        result.changed_ids = []  # counts only: a 2.8M-record import must not grow
        report.result.add(result)
        batch.clear()
        gc.collect(0)
        if on_progress:
            on_progress(report.read, report.result)

    def reject(error: InvalidRecord, *, fatal: bool = False) -> None:
        report.invalid += 1
        report.errors.append(str(error))
        if fatal or not skip_invalid:
            raise ImportFailed(error, report)

    try:
        for item in items:
            position += 1
            if position <= start:
                continue
            if isinstance(item, InvalidRecord):
                reject(item)
                continue
            # The title as the store will clean it (upsert_papers normalises each record once).
            if not clean_text(item.title or "", MAX_TITLE).strip():
                reject(InvalidRecord(item.origin or f"record {position}", "empty title (after removing control characters)"))
                continue
            report.read += 1
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
    except SourceError as exc:  # the file itself cannot be read on: stop, whatever --skip-invalid says
        reject(InvalidRecord(exc.origin, exc.reason), fatal=True)
    if batch or position > start:
        flush()
    if resume_key:
        with db.session() as session:
            _save_progress(session, resume_key, position, finished=True)
    return report


def _write_batch(db: Database, batch: list[PaperRecord], resume_key: str | None, position: int) -> UpsertResult:
    """One batch in one transaction, retried when a concurrent import won a race.

    Two imports with overlapping ids both read "not there yet" and insert; the
    later one gets a unique violation (or, on SQLite, a stale snapshot:
    "database is locked"). Re-running the batch then sees the other's rows and
    updates them, since the upsert is idempotent.
    """
    prepared = prepare_batch(batch)  # outside the transaction: no lock held for the CPU-heavy part
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            with db.session() as session:
                result = upsert_papers(session, prepared)
                if resume_key:
                    _save_progress(session, resume_key, position, finished=False)
            return result
        except (IntegrityError, OperationalError) as exc:
            if attempt == _WRITE_ATTEMPTS or not _is_write_race(exc):
                raise
            time.sleep(random.uniform(0.02, 0.1) * attempt)
    raise AssertionError("unreachable")


_WRITE_ATTEMPTS = 8
_RACE_MARKERS = ("locked", "busy", "deadlock", "could not serialize")


def _is_write_race(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    text = str(exc.orig if getattr(exc, "orig", None) is not None else exc).lower()
    return any(marker in text for marker in _RACE_MARKERS)


def _resume_point(db: Database, key: str | None) -> int:
    if key is None:
        return 0
    with db.session() as session:
        row = session.get(ImportProgress, key)
        if row is None or row.finished:
            return 0
        return row.lines_done


def _save_progress(session, key: str, position: int, *, finished: bool) -> None:
    row = session.get(ImportProgress, key)
    if row is None:
        row = ImportProgress(key=key, lines_done=0, finished=False, updated_at=utcnow())
        session.add(row)
    row.lines_done = position
    row.finished = finished
    row.updated_at = utcnow()


def unfinished_imports(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(ImportProgress.key).where(ImportProgress.finished.is_(False))))
