"""Submitting a paper by arXiv id or URL, shared by the page and the API.

A paper already in the catalogue needs no network; otherwise its metadata
comes from the arXiv API (``sources.arxiv_api``). A submitted paper is
featured on the day it is submitted (UTC), credited to the submitter.

Lookups of unknown ids are polite and cannot be used to hammer arXiv through
us: at most one every ``PAPERWIRE_HARVEST_DELAY`` seconds for the whole site
(others get a 429 with Retry-After), and an id arXiv does not know is
remembered for a day instead of being asked again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.sources.arxiv_api import fetch_arxiv_ids
from paperwire.sources.http import HarvestError
from paperwire.store.community import User, rate_wait, record_attempt
from paperwire.store.db import Database
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import get_paper, upsert_papers, utcnow


class SubmitError(Exception):
    """Why a submission failed, with the HTTP status that describes it."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


@dataclass
class Submitted:
    paper: Paper
    created: bool  # False when the paper was already featured today


#: How long an id arXiv said it does not know is answered from memory.
MISS_MEMORY = timedelta(days=1)
_LOOKUP_KEY = "arxiv-lookup"


def _miss_key(arxiv_id: str) -> str:
    return f"arxiv-miss:{arxiv_id}"


def _pace_lookup(db: Database, arxiv_id: str) -> None:
    """Refuse a lookup that was answered "unknown" lately, or that comes too soon after the last one."""
    delay = get_settings().harvest_delay
    with db.session() as session:
        if rate_wait(session, _miss_key(arxiv_id), limit=1, window=MISS_MEMORY, record=False) > 0:
            raise SubmitError(404, f"arXiv has no paper with id {arxiv_id}.")
        wait = rate_wait(session, _LOOKUP_KEY, limit=1, window=timedelta(seconds=delay)) if delay > 0 else 0
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise SubmitError(429, f"We ask arXiv about new papers at most once every {delay:g} seconds; "
                          f"try again in {seconds} seconds.", retry_after=seconds)


def _fetch(db: Database, arxiv_id: str) -> PaperRecord:
    settings = get_settings()
    _pace_lookup(db, arxiv_id)
    try:
        records = fetch_arxiv_ids([arxiv_id], base_url=settings.arxiv_api_url, delay=0)
    except HarvestError as exc:
        raise SubmitError(
            503, f"arXiv could not be reached to look up {arxiv_id} (is this server offline?). Try again later."
        ) from exc
    for record in records:
        if record.arxiv_id == arxiv_id:
            return record
    with db.session() as session:
        record_attempt(session, _miss_key(arxiv_id))
    raise SubmitError(404, f"arXiv has no paper with id {arxiv_id}.")


def submit_paper(db: Database, user: User, text: str) -> Submitted:
    """Feature the paper named by ``text`` today on behalf of ``user``."""
    try:
        arxiv_id = parse_arxiv_id(text)[0]
    except InvalidArxivId:
        raise SubmitError(422, "Enter an arXiv id like 2310.12345 or an arxiv.org link.") from None
    today = utcnow().date()
    with db.session() as session:
        paper = get_paper(session, arxiv_id)
        if paper is not None:
            if paper.hidden:
                raise SubmitError(403, "This paper was removed by the moderators.")
            already = session.scalar(
                select(FeaturedPaper).where(FeaturedPaper.paper_id == paper.id, FeaturedPaper.day == today)
            )
            if already is not None:
                return Submitted(paper, created=False)
            record = PaperRecord(title=paper.title, arxiv_id=paper.arxiv_id, source="submission")
    if paper is None:
        record = _fetch(db, arxiv_id)
    record.featured_on = today
    record.upvotes = 0
    record.num_comments = 0
    record.submitted_by = user.username
    with db.session() as session:
        upsert_papers(session, [record])
        paper = get_paper(session, arxiv_id)
        row = session.scalar(
            select(FeaturedPaper).where(FeaturedPaper.paper_id == paper.id, FeaturedPaper.day == today)
        )
        row.submitted_by_user_id = user.id
    return Submitted(paper, created=True)
