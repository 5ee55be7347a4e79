"""Running due jobs: each once, under its lock, with its outcome recorded.

A round walks the job catalogue; for each job it tries the job's lock
without waiting (another worker holding it is running it right now), then
re-reads the job's row *inside* the lock and runs the job only if it is
still due — so two workers started together run every job once. The
outcome (records, summary, the full traceback of a failure) and the next
due time go to ``job_runs``; a failing job is retried at its next interval
and never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.jobs import is_due, job_run, mark_finished, mark_started
from paperwire.store.locks import JobBusy, job_lock
from paperwire.store.papers import utcnow
from paperwire.worker.jobs import Job, scheduled_jobs

log = logging.getLogger("paperwire.worker")


@dataclass
class RoundEntry:
    job: str
    #: "ok", "error", "busy" (another worker has it) or "not due".
    outcome: str
    records: int | None = None
    detail: str = ""
    seconds: float = 0.0


def lock_name(job: str) -> str:
    """The job lock's name (long harvest queries are hashed to fit the lock table)."""
    name = f"job:{job}"
    return name if len(name) <= 180 else f"job:{hashlib.sha1(job.encode()).hexdigest()}"


def run_job(db: Database, job: Job, *, now: datetime | None = None, force: bool = False) -> RoundEntry:
    """Run ``job`` if it is due (or ``force``) and nobody else is running it."""
    settings = get_settings()
    with job_lock(db, lock_name(job.name)) as acquired:
        if not acquired:
            return RoundEntry(job.name, "busy")
        started_at = now or utcnow()
        with db.session() as session:
            if not force and not is_due(job_run(session, job.name), started_at):
                return RoundEntry(job.name, "not due")
            mark_started(session, job.name, started_at)
        started = time.perf_counter()
        error = None
        try:
            result = job.run(db)
            entry = RoundEntry(job.name, "ok", result.records, result.detail)
        except JobBusy as exc:  # e.g. `paperwire embed` running by hand: not a failure
            entry = RoundEntry(job.name, "busy", None, str(exc))
        except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
            error = traceback.format_exc()
            entry = RoundEntry(job.name, "error", None, f"{type(exc).__name__}: {exc}")
        entry.seconds = time.perf_counter() - started
        finished = utcnow() if now is None else now
        with db.session() as session:
            mark_finished(session, job.name, now=finished,
                          next_run=started_at + timedelta(seconds=settings.job_interval(job.kind)),
                          records=entry.records, detail=entry.detail[:2000], error=error)
    extra = {"job": job.name, "outcome": entry.outcome, "records": entry.records, "seconds": round(entry.seconds, 3)}
    if entry.outcome == "error":
        log.error("job %s failed: %s", job.name, entry.detail, extra={**extra, "traceback": error})
    else:
        log.info("job %s %s: %s", job.name, entry.outcome, entry.detail, extra=extra)
    return entry


def run_due(db: Database, *, now: datetime | None = None, jobs: list[Job] | None = None,
            only: str | None = None, force: bool = False) -> list[RoundEntry]:
    """One round: every due job of the catalogue (or those whose name starts with ``only``)."""
    catalogue = jobs if jobs is not None else scheduled_jobs(get_settings())
    return [run_job(db, job, now=now, force=force) for job in catalogue if only is None or job.name.startswith(only)]


def run_worker(db: Database, *, once: bool = False, poll_seconds: float | None = None,
               stop: threading.Event | None = None) -> None:
    """Rounds until SIGTERM/SIGINT (or ``stop``); ``once`` does a single round."""
    settings = get_settings()
    poll = settings.worker_poll_seconds if poll_seconds is None else poll_seconds
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    names = ", ".join(job.name for job in scheduled_jobs(settings))
    log.info("paperwire worker started (checking every %g s): %s", poll, names)
    try:
        while not stop.is_set():
            try:
                run_due(db)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
                log.exception("error during a round (will retry)")
            if once:
                break
            stop.wait(poll)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("paperwire worker stopped")
