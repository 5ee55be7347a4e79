"""Batching records from any reader into the store.

A reader yields :class:`PaperRecord` objects, or :class:`InvalidRecord` for
a record it could not read (so that ``--skip-invalid`` can go on). Each batch
is one transaction: an invalid record stops the import before its batch is
written, naming the file and line. Progress is saved per committed batch, so
an interrupted import of a huge file resumes where it stopped; because the
upsert is idempotent, re-running a finished import is harmless too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.store.db import Database
from paperwire.store.models import ImportProgress
from paperwire.store.papers import UpsertResult, upsert_papers, utcnow

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
    report = ImportReport()
    start = _resume_point(db, resume_key)
    report.skipped_resumed = start
    position = 0
    batch: list[PaperRecord] = []

    def flush() -> None:
        with db.session() as session:
            result = upsert_papers(session, batch)
            if resume_key:
                _save_progress(session, resume_key, position, finished=False)
        if on_changed and result.changed_ids:
            on_changed(result.changed_ids)
        result.changed_ids = []  # counts only: a 2.8M-record import must not grow
        report.result.add(result)
        batch.clear()
        if on_progress:
            on_progress(report.read, report.result)

    for item in items:
        position += 1
        if position <= start:
            continue
        if isinstance(item, InvalidRecord):
            report.invalid += 1
            report.errors.append(str(item))
            if not skip_invalid:
                raise ImportFailed(item, report)
            continue
        report.read += 1
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch or position > start:
        flush()
    if resume_key:
        with db.session() as session:
            _save_progress(session, resume_key, position, finished=True)
    return report


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


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of a text file, transparently gunzipping ``.gz``."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        yield from enumerate(handle, start=1)


def read_text(path: Path) -> str:
    """A whole (small) source file as text: gzip by its magic bytes, UTF-8 with or without BOM.

    Raises :class:`InvalidRecord` naming the file for a damaged gzip or text
    that is not UTF-8, so readers report it like any other bad record.
    """
    import gzip
    import zlib

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidRecord(f"{path}:1", f"damaged gzip file ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidRecord(f"{path}:{line}", "not UTF-8 text") from None


def unfinished_imports(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(ImportProgress.key).where(ImportProgress.finished.is_(False))))
