"""What the worker has done and what is pending, for ``paperwire status`` and /admin."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.generations import VECTORS, embeddings_marker, latest_generation
from paperwire.store.jobs import all_job_runs
from paperwire.store.models import HarvestState, Paper
from paperwire.store.papers import utcnow
from paperwire.worker.jobs import scheduled_jobs


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _lag_days(state: HarvestState | None, today: date) -> int | None:
    """Days between today and where a harvest last ended (None: not a harvest, or never finished)."""
    return (today - state.last_from).days if state is not None and state.last_from else None


def status_report(db: Database, *, now: datetime | None = None) -> dict:
    """Every scheduled job (and any job that ran before) with its last outcome, plus embeddings."""
    from paperwire.index.embeddings import get_embedder
    from paperwire.store.embeddings import count_stale, count_vectors

    now = now or utcnow()
    settings = get_settings()
    catalogue = {job.name: job for job in scheduled_jobs(settings)}
    scheduled = set(catalogue)
    model = get_embedder(settings.embedder).name
    with db.session() as session:
        runs = all_job_runs(session)
        states = {row.key: row for row in session.scalars(select(HarvestState))}
        papers = session.scalar(select(func.count()).select_from(Paper)) or 0
        vectors = count_vectors(session, model)
        published = latest_generation(session, VECTORS, model)
        marker = embeddings_marker(session, model)
        jobs = []
        for name in sorted(scheduled | set(runs)):
            row = runs.get(name)
            jobs.append({
                "job": name,
                "scheduled": name in scheduled,
                "last_started": _iso(row.last_started_at) if row else None,
                "last_finished": _iso(row.last_finished_at) if row else None,
                "outcome": row.last_outcome if row else None,
                "records": row.last_records if row else None,
                "detail": row.last_detail if row else None,
                "runs": row.runs if row else 0,
                "failures": row.failures if row else 0,
                "last_error": (row.last_error.strip().splitlines()[-1] if row and row.last_error else None),
                "last_error_at": _iso(row.last_error_at) if row else None,
                "next_run": (_iso(row.next_run_at) if row and row.next_run_at else "now") if name in scheduled else None,
                "lag_days": _lag_days(states.get(catalogue[name].state_key or "") if name in catalogue else None,
                                      now.date()),
            })
        embeddings = {
            "model": model,
            "papers": papers,
            "vectors": vectors,
            "papers_missing_embeddings": max(papers - vectors, 0),
            #: Papers the ``embed`` job still has to do: missing or outdated vectors.
            "backlog": count_stale(session, model),
            "published_generation": published.id if published else None,
            "published_vectors": published.vectors if published else 0,
            "published_at": _iso(published.built_at) if published else None,
            "index_stale": published is None or published.marker != marker,
        }
    return {"checked_at": _iso(now), "jobs": jobs, "embeddings": embeddings}
