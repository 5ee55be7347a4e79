"""What the worker did: one row per scheduled job, read by ``paperwire status``.

The row is also the schedule: ``next_run_at`` says when the job is due, and
a worker that holds the job's lock re-reads it before running, so several
workers side by side run each due job once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.models import Base

#: Longest stored traceback (the tail is kept: that is where the cause is).
MAX_ERROR_CHARS = 8000


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: "running", "ok" or "error".
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_records: Mapped[int | None] = mapped_column(Integer)
    last_detail: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


def job_run(session: Session, name: str) -> JobRun:
    """The job's row, created (due at once) on first use."""
    row = session.get(JobRun, name)
    if row is None:
        row = JobRun(name=name, runs=0, failures=0)
        session.add(row)
        session.flush()
    return row


def is_due(row: JobRun, now: datetime) -> bool:
    return row.next_run_at is None or row.next_run_at <= now


def mark_started(session: Session, name: str, now: datetime) -> None:
    row = job_run(session, name)
    row.last_started_at = now
    row.last_outcome = "running"


def mark_finished(session: Session, name: str, *, now: datetime, next_run: datetime, records: int | None,
                  detail: str | None, error: str | None = None) -> None:
    row = job_run(session, name)
    row.last_finished_at = now
    row.next_run_at = next_run
    row.runs = (row.runs or 0) + 1
    row.last_records = records
    row.last_detail = detail
    if error is None:
        row.last_outcome = "ok"
    else:
        row.last_outcome = "error"
        row.failures = (row.failures or 0) + 1
        row.last_error = error[-MAX_ERROR_CHARS:]
        row.last_error_at = now


def all_job_runs(session: Session) -> dict[str, JobRun]:
    return {row.name: row for row in session.scalars(select(JobRun).order_by(JobRun.name))}
