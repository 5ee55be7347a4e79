"""Submitting a paper by arXiv id or URL, shared by the page and the API.

A paper already in the catalogue needs no network; otherwise its metadata
comes from the arXiv API (``sources.arxiv_api``). A submitted paper is
featured on the day it is submitted (UTC), credited to the submitter.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.sources.arxiv_api import fetch_arxiv_ids
from paperwire.sources.http import HarvestError
from paperwire.store.community import User
from paperwire.store.db import Database
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import get_paper, upsert_papers, utcnow


class SubmitError(Exception):
    """Why a submission failed, with the HTTP status that describes it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Submitted:
    paper: Paper
    created: bool  # False when the paper was already featured today


def _fetch(arxiv_id: str) -> PaperRecord:
    settings = get_settings()
    try:
        records = fetch_arxiv_ids([arxiv_id], base_url=settings.arxiv_api_url, delay=0)
    except HarvestError as exc:
        raise SubmitError(
            503, f"arXiv could not be reached to look up {arxiv_id} (is this server offline?). Try again later."
        ) from exc
    for record in records:
        if record.arxiv_id == arxiv_id:
            return record
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
        record = _fetch(arxiv_id)
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
