"""Fetching the papers users asked for that the database does not have yet.

A library import (BibTeX, RIS, CSL-JSON, id lists) queues unknown arXiv ids;
``paperwire harvest queue`` (and the worker) fetch them from the arXiv API in
chunks, store them, and save each one into the library of the user who
asked, so the import completes by itself once the network is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from paperwire.sources.arxiv_api import fetch_arxiv_ids
from paperwire.sources.http import HarvestError
from paperwire.store.db import Database
from paperwire.store.library import HarvestQueue, mark_harvested, pending_harvest, save_paper
from paperwire.store.papers import get_paper, upsert_papers

CHUNK = 100


@dataclass
class QueueReport:
    fetched: int = 0
    missing: int = 0
    left: int = 0

    def as_dict(self) -> dict:
        return {"fetched": self.fetched, "missing": self.missing, "left": self.left}

    def summary(self) -> str:
        return f"{self.fetched} queued papers fetched, {self.missing} unknown to arXiv, {self.left} still queued"


def process_harvest_queue(
    db: Database, *, base_url: str, delay: float, on_changed: Callable[[list[int]], None] | None = None,
    max_chunks: int = 100,
) -> QueueReport:
    """Fetch queued ids chunk by chunk; a network error leaves the rest queued."""
    report = QueueReport()
    for _ in range(max_chunks):
        with db.session() as session:
            ids = pending_harvest(session, limit=CHUNK)
        if not ids:
            break
        try:
            records = fetch_arxiv_ids(ids, base_url=base_url, delay=delay)
        except HarvestError:
            break
        found = {r.arxiv_id for r in records}
        with db.session() as session:
            result = upsert_papers(session, [*records])
            requesters = dict(session.execute(
                select(HarvestQueue.arxiv_id, HarvestQueue.requested_by).where(HarvestQueue.arxiv_id.in_(found))
            ).all())
            for arxiv_id, user_id in requesters.items():
                paper = get_paper(session, arxiv_id)
                if user_id is not None and paper is not None:
                    save_paper(session, user_id, paper.id)
            mark_harvested(session, sorted(found), "done")
            mark_harvested(session, [i for i in ids if i not in found], "failed")
        if on_changed and result.changed_ids:
            on_changed(result.changed_ids)
        report.fetched += len(found)
        report.missing += len(ids) - len(found)
    with db.session() as session:
        report.left = len(pending_harvest(session, limit=1_000_000))
    return report
