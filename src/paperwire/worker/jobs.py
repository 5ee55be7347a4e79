"""The worker's job catalogue, built from the settings.

Each job is a name, a kind (whose interval comes from
``Settings.job_interval``) and a function doing one round of its work and
returning a :class:`JobResult`. Harvests do not embed: papers are stored at
full speed and the ``embed`` job backfills whatever is missing or stale,
which is also what makes a process killed mid-import lose nothing — the
next ``embed`` round finds the papers without vectors. The ``index`` job
publishes a new vector-index generation whenever the stored vectors
changed, so no request ever builds one; the ``topics`` job likewise rebuilds
the topic index only when the papers' fingerprint changed, and the ``map`` job
places new papers on the map of papers (``rank/map_publish.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from paperwire.settings import Settings
from paperwire.store.db import Database
from paperwire.store.papers import utcnow

log = logging.getLogger("paperwire.worker")


@dataclass
class JobResult:
    #: Records the round handled (papers harvested, vectors written, mails sent …).
    records: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    kind: str
    run: Callable[[Database], JobResult]
    #: The harvest-state row a harvest keeps (how far behind upstream it is).
    state_key: str | None = None


def _say(job: str) -> Callable[[str], None]:
    return lambda message: log.info(message, extra={"job": job})


def _harvest_oai(set_spec: str, settings: Settings) -> Callable[[Database], JobResult]:
    def run(db: Database) -> JobResult:
        from paperwire.sources.oai_pmh import harvest_oai

        report = harvest_oai(db, from_date=None, set_spec=set_spec, metadata_prefix=settings.harvest_oai_prefix,
                             base_url=settings.oai_base_url, delay=settings.harvest_delay,
                             log=_say(f"harvest:oai:{set_spec}"))
        return JobResult(report.records, report.summary())
    return run


def _harvest_arxiv(query: str, settings: Settings) -> Callable[[Database], JobResult]:
    def run(db: Database) -> JobResult:
        from paperwire.sources.arxiv_api import harvest_arxiv

        report = harvest_arxiv(db, query=query, from_date=None, base_url=settings.arxiv_api_url,
                               delay=settings.harvest_delay, log=_say(f"harvest:arxiv:{query}"))
        return JobResult(report.records, report.summary())
    return run


def _harvest_hf(settings: Settings) -> Callable[[Database], JobResult]:
    def run(db: Database) -> JobResult:
        from paperwire.sources.hf_harvest import harvest_hf

        report = harvest_hf(db, base_url=settings.hf_base_url, delay=settings.harvest_delay,
                            first_days=settings.hf_first_harvest_days, log=_say("harvest:hf:daily"))
        return JobResult(report.records, report.summary())
    return run


def _harvest_queue(settings: Settings) -> Callable[[Database], JobResult]:
    def run(db: Database) -> JobResult:
        from paperwire.sources.harvest_queue import process_harvest_queue

        report = process_harvest_queue(db, base_url=settings.arxiv_api_url, delay=settings.harvest_delay)
        return JobResult(report.fetched, report.summary())
    return run


def _embed(db: Database) -> JobResult:
    from paperwire.index.backfill import backfill

    report = backfill(db)  # missing or stale vectors; publishes when done
    return JobResult(report.embedded, report.summary())


def _publish(db: Database) -> JobResult:
    from paperwire.index.publish import publish_vector_index
    from paperwire.index.publish_lexical import publish_lexical_index

    from paperwire.index.tfidf import publish_tfidf_index

    report = publish_vector_index(db)
    tfidf = publish_tfidf_index(db)
    lexical = publish_lexical_index(db)
    built = (report.vectors if report.built else 0) + (tfidf.papers if tfidf.built else 0)
    return JobResult(built + (lexical.papers if lexical.built else 0),
                     f"{report.summary()}; {tfidf.summary()}; {lexical.summary()}")


def _topics(db: Database) -> JobResult:
    """Rebuild the topic index when the papers' fingerprint moved (see ``rank.topics``)."""
    from paperwire.rank.topics import build_topics

    report = build_topics(db, log=_say("topics"))
    return JobResult(report.papers if report.built else 0, report.summary())


def _map(db: Database) -> JobResult:
    """Place new papers on the map (or lay it out again) once their vectors are stored."""
    from paperwire.rank.map_publish import publish_map

    report = publish_map(db)
    return JobResult(report.placed if not report.full else report.points if report.built else 0, report.summary())


def _deliver(db: Database) -> JobResult:
    from paperwire.deliver.worker import run_once

    reports = run_once(db, log=_say("deliver"))
    sent = sum(getattr(r, "sent", 0) or 0 for r in reports)
    return JobResult(sent, "; ".join(r.summary() for r in reports if getattr(r, "due", 0)) or "nothing due")


def _purge(db: Database) -> JobResult:
    """Expired sessions, old rate-limit attempts and dead lock leases."""
    from paperwire.store.community import RateAttempt, WebSession
    from paperwire.store.locks import job_locks

    now = utcnow()
    with db.session() as session:
        sessions = session.execute(delete(WebSession).where(WebSession.expires_at < now)).rowcount
        attempts = session.execute(delete(RateAttempt).where(RateAttempt.created_at < now - timedelta(days=2))).rowcount
        leases = session.execute(delete(job_locks).where(job_locks.c.expires_at < now - timedelta(hours=1))).rowcount
    total = (sessions or 0) + (attempts or 0) + (leases or 0)
    return JobResult(total, f"{sessions} expired sessions, {attempts} old rate-limit rows, {leases} dead leases purged")


def scheduled_jobs(settings: Settings) -> list[Job]:
    """Every job the worker runs with these settings, in the order a round runs them."""
    from paperwire.sources.hf_harvest import state_key as hf_state_key

    jobs = [
        Job(f"harvest:oai:{s}", "harvest", _harvest_oai(s, settings),
            f"oai:{settings.oai_base_url}:{settings.harvest_oai_prefix}:{s}")
        for s in settings.harvest_oai_sets
    ]
    jobs += [
        Job(f"harvest:arxiv:{q}", "harvest", _harvest_arxiv(q, settings), f"arxiv:{settings.arxiv_api_url}:{q}")
        for q in settings.harvest_arxiv_queries
    ]
    if settings.harvest_hf_daily:
        jobs.append(Job("harvest:hf:daily", "harvest", _harvest_hf(settings), hf_state_key(settings.hf_base_url)))
    jobs += [
        Job("harvest-queue", "harvest-queue", _harvest_queue(settings)),
        Job("embed", "embed", _embed),
        Job("index", "index", _publish),
        Job("topics", "topics", _topics),
        Job("map", "map", _map, state_key=f"map:{settings.embedder}"),
        Job("deliver", "deliver", _deliver),
        Job("purge", "purge", _purge),
    ]
    return jobs
