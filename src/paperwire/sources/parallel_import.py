"""Importing one large JSON-lines file with several worker processes.

Why processes: an import is CPU-bound Python (parsing, cleaning, building
rows) with the database's share a fraction of it, so one process uses one
core. ``import_in_parallel`` starts ``workers`` processes; worker *i* reads
the lines whose number is *i* modulo *n* (:func:`~paperwire.sources.kaggle.read_kaggle`'s
``shard``) and writes them through the same :func:`~paperwire.sources.importer.import_items`
as a serial import. So each worker's batches are all-or-nothing, and each
worker saves its own progress (the file's resume key plus ``shard i/n``):
re-running with the same ``--workers`` resumes every worker where it
stopped; another worker count starts over, which the idempotent upsert makes
harmless. Concurrent workers are concurrent imports, which were already
safe: on SQLite each takes the write lock when its batch transaction begins
(``BEGIN IMMEDIATE``), after preparing the batch outside it; on PostgreSQL
they COPY side by side.

Only the Kaggle format is line-sharded; other formats import serially.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import traceback
from dataclasses import dataclass
from pathlib import Path

from paperwire.records import InvalidRecord
from paperwire.sources.importer import (
    ChangedCallback, ImportFailed, ImportReport, ProgressCallback, import_items,
)
from paperwire.store.papers import UpsertResult

#: Formats whose reader can take a line shard.
SHARDABLE = ("kaggle",)


def shard_key(resume_key: str | None, index: int, count: int) -> str | None:
    """The progress key of one worker's share of the file."""
    return None if resume_key is None else f"{resume_key}|shard {index + 1}/{count}"


@dataclass(frozen=True)
class _Job:
    url: str
    path: str
    fmt: str
    index: int
    count: int
    batch_size: int
    skip_invalid: bool
    resume_key: str | None
    report_changed: bool


class _Stopped(Exception):
    """The parent asked the workers to stop (another worker failed)."""


def _worker(job: _Job, events, stop) -> None:
    """One worker process: import this share, reporting each committed batch."""
    from paperwire.sources.formats import read_path
    from paperwire.store.db import open_database

    report = None
    try:
        db = open_database(job.url, migrate_schema=False, immediate_writes=True)
        items = read_path(Path(job.path), job.fmt, shard=(job.index, job.count))

        def progress(read: int, result: UpsertResult) -> None:
            events.put(("progress", job.index, read, _counts(result)))
            if stop.is_set():
                raise _Stopped

        def changed(ids: list[int]) -> None:
            events.put(("changed", job.index, ids))

        report = import_items(db, items, batch_size=job.batch_size, skip_invalid=job.skip_invalid,
                              resume_key=shard_key(job.resume_key, job.index, job.count),
                              on_progress=progress, on_changed=changed if job.report_changed else None)
        events.put(("done", job.index, _report_state(report)))
    except ImportFailed as exc:
        events.put(("invalid", job.index, (exc.error.origin, exc.error.reason), _report_state(exc.report)))
    except _Stopped:
        events.put(("stopped", job.index, None))
    except BaseException:  # noqa: BLE001 - the parent re-raises it with the worker's traceback
        events.put(("crashed", job.index, traceback.format_exc()))


def _counts(result: UpsertResult) -> tuple[int, int, int, int]:
    return result.inserted, result.updated, result.unchanged, result.featured


def _report_state(report: ImportReport) -> dict:
    return {"read": report.read, "invalid": report.invalid, "skipped_resumed": report.skipped_resumed,
            "counts": _counts(report.result), "errors": report.errors[:20]}


class WorkerCrashed(RuntimeError):
    """A worker process failed for another reason than an invalid record."""


def import_in_parallel(
    url: str, path: Path, fmt: str, *, workers: int, batch_size: int, skip_invalid: bool = False,
    resume_key: str | None = None, on_progress: ProgressCallback | None = None,
    on_changed: ChangedCallback | None = None,
) -> ImportReport:
    """Import ``path`` with ``workers`` processes (see the module docstring); one report for all.

    Raises :class:`~paperwire.sources.importer.ImportFailed` for the first
    invalid record a worker meets (without ``skip_invalid``): the others stop
    after their current batch, every committed batch is kept, and a re-run
    resumes. The caller migrates the schema first.
    """
    if fmt not in SHARDABLE:
        raise ValueError(f"the {fmt} format cannot be split between workers")
    context = multiprocessing.get_context("spawn")  # no inherited engines, locks or threads
    events, stop = context.Queue(), context.Event()
    processes = [
        context.Process(target=_worker, name=f"paperwire-import-{i + 1}", daemon=True, args=(
            _Job(url, str(path), fmt, i, workers, batch_size, skip_invalid, resume_key, on_changed is not None),
            events, stop))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    progress: dict[int, tuple[int, tuple[int, int, int, int]]] = {}
    finals: dict[int, dict] = {}
    failure: tuple[str, str] | None = None
    crash: str | None = None
    try:
        while len(finals) < workers:
            try:
                event = events.get(timeout=1.0)
            except queue_module.Empty:
                dead = [p for i, p in enumerate(processes) if i not in finals and not p.is_alive()]
                if dead and events.empty():
                    raise WorkerCrashed(f"import worker {dead[0].name} exited with code {dead[0].exitcode}") from None
                continue
            kind, index = event[0], event[1]
            if kind == "progress":
                progress[index] = (event[2], event[3])
                if on_progress:
                    read = sum(r for r, _ in progress.values())
                    on_progress(read, _sum_counts([c for _, c in progress.values()]))
            elif kind == "changed":
                if on_changed:
                    on_changed(event[2])
            elif kind == "done":
                finals[index] = event[2]
            elif kind == "invalid":
                finals[index] = event[3]
                failure = failure or event[2]
                stop.set()
            elif kind in ("stopped", "crashed"):  # what its committed batches reported
                read, counts = progress.get(index, (0, (0, 0, 0, 0)))
                finals[index] = {"read": read, "invalid": 0, "skipped_resumed": 0, "counts": counts, "errors": []}
                if kind == "crashed":
                    crash = crash or event[2]
                    stop.set()
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
    report = _merged(finals)
    if crash:
        raise WorkerCrashed(f"an import worker failed; committed batches are kept:\n{crash}")
    if failure:
        raise ImportFailed(InvalidRecord(*failure), report)
    return report


def _sum_counts(counts: list[tuple[int, int, int, int]]) -> UpsertResult:
    result = UpsertResult()
    for inserted, updated, unchanged, featured in counts:
        result.add(UpsertResult(inserted=inserted, updated=updated, unchanged=unchanged, featured=featured))
    return result


def _merged(finals: dict[int, dict]) -> ImportReport:
    report = ImportReport()
    report.result = _sum_counts([state["counts"] for state in finals.values()])
    for state in finals.values():
        report.read += state["read"]
        report.invalid += state["invalid"]
        report.skipped_resumed += state["skipped_resumed"]
        report.errors.extend(state["errors"])
    return report
