"""Papers in the JSON shape of huggingface.co's papers API.

The official ``huggingface_hub`` client (``HfApi.list_daily_papers``,
``list_papers``, ``paper_info``) reads these responses unchanged, so the
field names, nesting and timestamp format here copy the real responses
(the saved lists in ``shared/corpus/hf-daily-papers``):

* a daily entry is ``{"paper": {...}, "publishedAt", "title", "summary",
  "numComments", "submittedBy": {"name", "fullname", ...},
  "organization", "isAuthorParticipating"}``;
* ``/api/papers/{id}`` is the ``paper`` object alone (flat);
* every timestamp is ``YYYY-MM-DDTHH:MM:SS.mmmZ`` — the only form the
  client's ``parse_datetime`` accepts.

The top-level ``publishedAt`` of an entry is when it was put on the daily list
(``featured_papers.featured_at``, else midnight of the featured day), which is
what the client reads as ``PaperInfo.submitted_at``. (Hugging Face's 2025
lists put the arXiv time there, rendered in New York time with a ``Z``; that
quirk is not copied.) paperwire's own fields (``arxivId``, ``categories``,
``pdfUrl``) ride along where the client ignores or keeps them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.ids import arxiv_pdf_url
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import published_date

#: Account fields kept from the source and passed on as they were.
_ACCOUNT_FIELDS = ("avatarUrl", "isPro", "isHf", "isHfAdmin", "isMod", "followerCount")


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class HfAccount(_Out):
    """``submittedOnDailyBy`` / an author's ``user``: the account is named ``user``."""

    user: str
    fullname: str | None = None
    type: str | None = None


class HfSubmitter(_Out):
    """Top-level ``submittedBy``: the same account, named ``name``."""

    name: str
    fullname: str | None = None
    type: str | None = None


class HfAuthor(_Out):
    name: str
    hidden: bool = False
    user: HfAccount | None = None
    status: str | None = None


class HfOrganization(_Out):
    name: str
    fullname: str | None = None


class HfPaper(_Out):
    id: str = Field(description="arXiv id (or pw-… for papers without one)")
    authors: list[HfAuthor]
    publishedAt: str | None = Field(None, description="On arXiv, YYYY-MM-DDTHH:MM:SS.mmmZ")
    submittedOnDailyAt: str | None = Field(None, description="Put on the daily list, YYYY-MM-DDTHH:MM:SS.mmmZ")
    title: str
    submittedOnDailyBy: HfAccount | None = None
    summary: str
    upvotes: int = Field(description="Upvotes from the source plus votes cast here")
    discussionId: str | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None
    ai_summary: str | None = Field(None, description="Written by a model at the source (see aiSummarySource)")
    aiSummarySource: str | None = None
    ai_keywords: list[str] | None = None
    organization: HfOrganization | None = None
    numComments: int = 0
    arxivId: str | None = None
    categories: list[str] = []
    pdfUrl: str | None = None


class DailyPaperOut(_Out):
    paper: HfPaper
    publishedAt: str | None = Field(None, description="When the paper was put on the daily list")
    title: str
    summary: str
    numComments: int
    submittedBy: HfSubmitter | None = None
    organization: HfOrganization | None = None
    isAuthorParticipating: bool = False


class SearchHitOut(DailyPaperOut):
    score: float | None = None
    highlightedTitle: str
    highlightedSummary: str


def hf_timestamp(value: datetime | date | None) -> str | None:
    """``2025-12-31T01:36:44.468Z`` (UTC, milliseconds), the Hub's one timestamp form."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def featured_rows(
    session: Session, paper_ids: list[int], start: date | None = None, end: date | None = None,
) -> dict[int, FeaturedPaper]:
    """The featured row that describes each paper: the first in ``start..end``,
    or the latest one when no period is given (search, single papers)."""
    if not paper_ids:
        return {}
    query = select(FeaturedPaper).where(FeaturedPaper.paper_id.in_(paper_ids))
    if start is not None and end is not None:
        query = query.where(FeaturedPaper.day.between(start, end)).order_by(FeaturedPaper.day.desc())
    else:
        query = query.order_by(FeaturedPaper.day)
    return {row.paper_id: row for row in session.scalars(query)}  # the last write wins


def _account(row: FeaturedPaper | None) -> dict | None:
    """The submitting account as ``{"user", "fullname", ...}`` (source account, else local user)."""
    if row is None:
        return None
    if row.submitter and row.submitter.get("user"):
        return dict(row.submitter)
    if row.submitted_by:
        return {"user": row.submitted_by, "fullname": row.submitted_by, "type": "user"}
    return None


def _daily_by(account: dict | None) -> HfAccount | None:
    if account is None:
        return None
    extra = {k: account[k] for k in _ACCOUNT_FIELDS if account.get(k) is not None}
    return HfAccount(user=account["user"], fullname=account.get("fullname") or account["user"],
                     type=account.get("type") or "user", **extra)


def _submitted_by(account: dict | None) -> HfSubmitter | None:
    if account is None:
        return None
    extra = {k: account[k] for k in _ACCOUNT_FIELDS if account.get(k) is not None}
    return HfSubmitter(name=account["user"], fullname=account.get("fullname") or account["user"],
                       type=account.get("type") or "user", **extra)


def _authors(paper: Paper) -> list[HfAuthor]:
    if paper.author_names:
        return [
            HfAuthor(name=a["name"], hidden=bool(a.get("hidden", False)), status=a.get("status"),
                     user=HfAccount(user=a["hf_user"], fullname=a["name"], type="user") if a.get("hf_user") else None)
            for a in paper.author_names if a.get("name")
        ]
    return [HfAuthor(name=name) for name in paper.authors or []]


def _organization(paper: Paper) -> HfOrganization | None:
    org = paper.organization
    if not org or not org.get("name"):
        return None
    return HfOrganization(name=org["name"], fullname=org.get("fullname") or org["name"])


def featured_time(row: FeaturedPaper | None) -> datetime | None:
    """When the paper went on the list: the source's time, else midnight of the day."""
    if row is None:
        return None
    return row.featured_at or datetime.combine(row.day, time())


def hf_paper(paper: Paper, upvotes: int, comments: int, row: FeaturedPaper | None) -> HfPaper:
    """The ``paper`` object (also the whole ``/api/papers/{id}`` response)."""
    return HfPaper(
        id=paper.uid, authors=_authors(paper), publishedAt=hf_timestamp(published_date(paper)),
        submittedOnDailyAt=hf_timestamp(featured_time(row)), title=paper.title,
        submittedOnDailyBy=_daily_by(_account(row)), summary=paper.abstract, upvotes=upvotes,
        discussionId=paper.discussion_id, githubRepo=paper.github_repo, githubStars=paper.github_stars,
        projectPage=paper.project_page, ai_summary=paper.ai_summary,
        aiSummarySource=paper.ai_summary_source if paper.ai_summary else None,
        ai_keywords=paper.ai_keywords or None, organization=_organization(paper), numComments=comments,
        arxivId=paper.arxiv_id, categories=paper.category_list,
        pdfUrl=arxiv_pdf_url(paper.arxiv_id) if paper.arxiv_id else None,
    )


def daily_entry(paper: Paper, upvotes: int, comments: int, row: FeaturedPaper | None) -> DailyPaperOut:
    """One entry of ``/api/daily_papers`` (and, with highlights, of search)."""
    return DailyPaperOut(
        paper=hf_paper(paper, upvotes, comments, row), publishedAt=hf_timestamp(featured_time(row)),
        title=paper.title, summary=paper.abstract, numComments=comments,
        submittedBy=_submitted_by(_account(row)), organization=_organization(paper),
        isAuthorParticipating=bool(row and row.is_author_participating),
    )
