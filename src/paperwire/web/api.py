"""The JSON API, shaped like Hugging Face's papers API so clients port easily.

Reads are public. Writes need a logged-in user: either
``Authorization: Bearer <personal token>`` (from /settings) or the browser's
session cookie plus an ``X-CSRF-Token`` header. Errors are
``{"error": "...", "detail": ...}`` with a meaningful status code.
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from markupsafe import escape
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from paperwire.ids import arxiv_pdf_url
from paperwire.rank.trending import TrendingEntry, hot, period_bounds, trending
from paperwire.store.community import (
    CommentNode, CommunityError, User, add_comment, comment_count, comment_counts, comment_tree, unvote, upvote_count,
    upvote_counts, vote,
    voted_ids,
)
from paperwire.store.db import Database
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import published_date
from paperwire.web.deps import current_user, get_db
from paperwire.web.hf_format import DailyPaperOut, HfPaper, SearchHitOut, daily_entry, featured_rows, hf_paper
from paperwire.web.presenters import cached_featured_days, invalidate, parse_day, parse_month, parse_week
from paperwire.web.security import CSRF_HEADER, check_csrf
from paperwire.web.submission import SubmitError, submit_paper
from paperwire.web.views.papers import load_paper
from paperwire.web.views.search import coverage_of, run_search, semantic_notices

router = APIRouter(prefix="/api", tags=["papers"])


class ErrorOut(BaseModel):
    error: str
    detail: object | None = None


class Author(BaseModel):
    name: str


class UserRef(BaseModel):
    name: str


class PaperOut(BaseModel):
    id: str = Field(description="arXiv id (or pw-… for papers without one)")
    arxivId: str | None
    title: str
    summary: str
    authors: list[Author]
    categories: list[str]
    publishedAt: datetime | None
    upvotes: int
    numComments: int
    pdfUrl: str | None


class VoteOut(BaseModel):
    upvotes: int
    upvoted: bool


class CommentOut(BaseModel):
    id: int
    author: UserRef
    body: str
    createdAt: datetime
    parentId: int | None
    hidden: bool
    replies: list[CommentOut] = []


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)
    parentId: int | None = None


class SubmitIn(BaseModel):
    id: str = Field(description="arXiv id or arxiv.org URL", min_length=1, max_length=300)


class SubmitOut(BaseModel):
    paper: PaperOut
    created: bool = Field(description="False when the paper was already featured today")


ERRORS = {
    401: {"model": ErrorOut, "description": "Not logged in / bad token"},
    403: {"model": ErrorOut, "description": "CSRF check failed or user banned"},
    404: {"model": ErrorOut, "description": "Unknown paper"},
    422: {"model": ErrorOut, "description": "Invalid parameters"},
}


def paper_out(paper: Paper, upvotes: int, comments: int) -> PaperOut:
    return PaperOut(
        id=paper.uid, arxivId=paper.arxiv_id, title=paper.title, summary=paper.abstract,
        authors=[Author(name=a) for a in paper.authors or []], categories=paper.category_list,
        publishedAt=published_date(paper), upvotes=upvotes, numComments=comments,
        pdfUrl=arxiv_pdf_url(paper.arxiv_id) if paper.arxiv_id else None,
    )


def _daily_out(session: Session, entries: list[TrendingEntry], start: date | None, end: date | None) -> list[DailyPaperOut]:
    """Trending entries as Hugging Face daily entries (upvotes: the trending totals)."""
    rows = featured_rows(session, [e.paper.id for e in entries], start, end)
    return [daily_entry(e.paper, e.upvotes, e.comments, rows.get(e.paper.id)) for e in entries]


def _submitter_condition(name: str):
    """Papers submitted by ``name``: the source's account name or a local user."""
    fp = FeaturedPaper
    local = select(User.id).where(func.lower(User.username) == name.lower())
    return or_(
        func.lower(fp.submitter["user"].as_string()) == name.lower(),
        fp.submitted_by_user_id.in_(local.scalar_subquery()),
        and_(fp.submitter.is_(None), func.lower(fp.submitted_by) == name.lower()),
    )


def _papers_featured(condition, start: date | None, end: date | None):
    """A condition on ``Paper``: featured (in ``start..end`` when given) with ``condition``."""
    query = select(FeaturedPaper.paper_id).where(condition)
    if start is not None:
        query = query.where(FeaturedPaper.day.between(start, end))
    return Paper.id.in_(query)


def api_writer(request: Request) -> User:
    """The user making a write: bearer token, or session cookie + CSRF header."""
    user = current_user(request)
    if user is None:
        if getattr(request.state, "auth", None) == "invalid-token":
            raise HTTPException(401, "Invalid or revoked API token.")
        raise HTTPException(401, "Authentication required: send 'Authorization: Bearer <token>' or log in.")
    if user.is_banned:
        raise HTTPException(403, "This account is banned.")
    if request.state.auth == "session":
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return user


@router.get("/daily_papers", response_model=list[DailyPaperOut], response_model_exclude_none=True, responses=ERRORS)
def daily_papers(
    request: Request,
    date_: str | None = Query(None, alias="date", description="YYYY-MM-DD (default: latest featured day)"),
    week: str | None = Query(None, description="ISO week YYYY-Www"),
    month: str | None = Query(None, description="YYYY-MM"),
    sort: str = Query("publishedAt", pattern="^(publishedAt|trending)$", description=(
        "publishedAt: the period's list, most upvoted first, ties in listed order (as huggingface.co); "
        "trending: time-decayed score (see /api/hot)")),
    submitter: str | None = Query(None, max_length=200, description="Only papers submitted by this account"),
    limit: int = Query(50, ge=1, le=100),
    p: int = Query(0, ge=0, le=100_000, description="Page number (0-based)"),
    db: Database = Depends(get_db),
) -> list[DailyPaperOut]:
    """Papers featured on a day, week or month, in Hugging Face's shape."""
    given = [v for v in (date_, week, month) if v]
    if len(given) > 1:
        raise HTTPException(422, "Give only one of date, week or month.")
    if week:
        period, day = "week", parse_week(week)
    elif month:
        period, day = "month", parse_month(month)
    elif date_:
        period, day = "day", parse_day(date_)
    elif sort == "trending" or submitter:
        period, day = None, None  # everything featured, like huggingface.co/papers/trending
    else:
        days = cached_featured_days(request)
        if not days:
            return []
        period, day = "day", days[-1]
    start, end = period_bounds(period, day) if period else (None, None)
    where = _papers_featured(_submitter_condition(submitter), start, end) if submitter else None
    with db.session() as session:
        if sort == "trending":
            if period and where is None:
                where = _papers_featured(true(), start, end)
            entries = hot(session, limit=limit, offset=p * limit, where=where)
        elif period:
            entries = trending(session, period=period, day=day, limit=limit, offset=p * limit, where=where)
        else:  # a submitter's papers over all days, most recently featured first
            entries = _latest_featured(session, where, limit=limit, offset=p * limit)
        return _daily_out(session, entries, start, end)


def _latest_featured(session: Session, where, *, limit: int, offset: int) -> list[TrendingEntry]:
    """Featured papers matching ``where``, newest featured day first (for ``submitter`` alone)."""
    days = (
        select(FeaturedPaper.paper_id, func.max(FeaturedPaper.day).label("day"))
        .group_by(FeaturedPaper.paper_id).subquery()
    )
    papers = session.scalars(
        select(Paper).join(days, days.c.paper_id == Paper.id).where(Paper.hidden.is_(False), where)
        .order_by(days.c.day.desc(), Paper.id.desc()).limit(limit).offset(offset)
    ).all()
    ids = [paper.id for paper in papers]
    upvotes, comments = upvote_counts(session, ids), comment_counts(session, ids, imported=True)
    return [
        TrendingEntry(paper=paper, upvotes=upvotes[paper.id], comments=comments[paper.id], day=None, submitted_by=None)
        for paper in papers
    ]


def _comments(session: Session, paper: Paper) -> int:
    """Comments from the source (largest featured count) plus visible comments here."""
    imported = session.scalar(select(func.max(FeaturedPaper.imported_comments)).where(FeaturedPaper.paper_id == paper.id))
    return (imported or 0) + comment_count(session, paper)


@router.get("/hot", response_model=list[DailyPaperOut], response_model_exclude_none=True, responses=ERRORS)
def hot_papers(
    limit: int = Query(50, ge=1, le=100), p: int = Query(0, ge=0, le=10_000), db: Database = Depends(get_db)
) -> list[DailyPaperOut]:
    """All-time ranking: (upvotes + 1) / (age_hours + 2)^1.5, age from the first featured day."""
    with db.session() as session:
        return _daily_out(session, hot(session, limit=limit, offset=p * limit), None, None)


@router.get("/papers/search", response_model=list[SearchHitOut], response_model_exclude_none=True, responses=ERRORS)
def search_papers(
    request: Request,
    response: Response,
    q: str | None = Query(None, max_length=500, description=(
        "Query language: words, \"phrases\", -not, author:, cat:, after:, before: "
        "(none: the trending featured papers)")),
    mode: str = Query("hybrid", pattern="^(hybrid|lexical|semantic)$"),
    sort: str = Query("relevance", pattern="^(relevance|date)$"),
    limit: int = Query(20, ge=1, le=100),
    p: int = Query(0, ge=0, le=1000),
    db: Database = Depends(get_db),
) -> list[SearchHitOut]:
    """Search papers (hidden papers are left out); without ``q``, the trending list.

    Semantic and hybrid answers carry ``X-Paperwire-Semantic-Coverage: EMBEDDED/PAPERS``
    (papers in the published vector index / papers stored) and, while part of the
    corpus is not embedded yet or no index is published, ``X-Paperwire-Notice``."""
    if not (q or "").strip():
        with db.session() as session:
            entries = hot(session, limit=limit, offset=p * limit)
            return [
                SearchHitOut(**e.model_dump(exclude_none=True), highlightedTitle=str(escape(e.title)),
                             highlightedSummary=str(escape(e.summary)))
                for e in _daily_out(session, entries, None, None)
            ]
    try:
        results = run_search(db, q, mode=mode, limit=limit, offset=p * limit, sort=sort)
    except LookupError as exc:
        raise HTTPException(503, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    coverage = coverage_of(db, results)  # said in headers: the body stays a plain list (Hugging Face's shape)
    if coverage is not None:
        response.headers["X-Paperwire-Semantic-Coverage"] = coverage.header()
    if notices := semantic_notices(results, coverage):
        response.headers["X-Paperwire-Notice"] = notices[0]
    hits = [h for h in results.hits if not h.paper.hidden]
    with db.session() as session:
        ids = [h.paper.id for h in hits]
        rows = featured_rows(session, ids)
        upvotes, comments = upvote_counts(session, ids), comment_counts(session, ids, imported=True)
        out = []
        for h in hits:  # counts for the whole page in three queries, not four per hit
            paper = session.merge(h.paper, load=False)
            entry = daily_entry(paper, upvotes[paper.id], comments[paper.id], rows.get(paper.id))
            out.append(SearchHitOut(**entry.model_dump(exclude_none=True), score=h.score,
                                    highlightedTitle=str(h.title_html), highlightedSummary=str(h.snippet_html)))
    return out


@router.get("/papers/{paper_id:path}/comments", response_model=list[CommentOut], responses=ERRORS)
def list_comments(request: Request, paper_id: str, db: Database = Depends(get_db)) -> list[CommentOut]:
    """Threaded comments, oldest first (bodies of hidden comments are withheld)."""
    paper = load_paper(db, paper_id, current_user(request))
    with db.session() as session:
        tree = comment_tree(session, paper)

    def convert(node: CommentNode) -> CommentOut:
        c = node.comment
        return CommentOut(id=c.id, author=UserRef(name=node.author), body="" if c.hidden else c.body,
                          createdAt=c.created_at, parentId=c.parent_id, hidden=c.hidden,
                          replies=[convert(child) for child in node.children])

    return [convert(n) for n in tree]


@router.post("/papers/{paper_id:path}/comments", response_model=CommentOut, status_code=201, responses=ERRORS)
def create_comment(
    request: Request, paper_id: str, payload: CommentIn, user: User = Depends(api_writer),
    db: Database = Depends(get_db),
) -> CommentOut:
    """Comment on a paper (``parentId`` to reply)."""
    paper = load_paper(db, paper_id, user)
    try:
        with db.session() as session:
            c = add_comment(session, user, session.merge(paper), payload.body, payload.parentId)
    except CommunityError as exc:
        raise HTTPException(422, str(exc)) from exc
    invalidate(request)
    return CommentOut(id=c.id, author=UserRef(name=user.username), body=c.body, createdAt=c.created_at,
                      parentId=c.parent_id, hidden=False)


def _vote(request: Request, paper_id: str, user: User, db: Database, up: bool) -> VoteOut:
    paper = load_paper(db, paper_id, user)
    with db.session() as session:
        paper = session.merge(paper)
        vote(session, user, paper) if up else unvote(session, user, paper)
    with db.session() as session:
        count = upvote_count(session, paper)
        voted = paper.id in voted_ids(session, user, [paper.id])
    invalidate(request)
    return VoteOut(upvotes=count, upvoted=voted)


@router.post("/papers/{paper_id:path}/upvote", response_model=VoteOut, responses=ERRORS)
def upvote(request: Request, paper_id: str, user: User = Depends(api_writer), db: Database = Depends(get_db)) -> VoteOut:
    """Upvote a paper (idempotent)."""
    return _vote(request, paper_id, user, db, True)


@router.delete("/papers/{paper_id:path}/upvote", response_model=VoteOut, responses=ERRORS)
def remove_upvote(
    request: Request, paper_id: str, user: User = Depends(api_writer), db: Database = Depends(get_db)
) -> VoteOut:
    """Remove your upvote (idempotent)."""
    return _vote(request, paper_id, user, db, False)


@router.post("/papers/submit", response_model=SubmitOut, status_code=201, responses={
    **ERRORS, 503: {"model": ErrorOut, "description": "arXiv unreachable"}})
def submit(request: Request, payload: SubmitIn, user: User = Depends(api_writer), db: Database = Depends(get_db)) -> SubmitOut:
    """Feature a paper today by arXiv id or URL (fetched from arXiv if unknown here)."""
    try:
        result = submit_paper(db, user, payload.id)
    except SubmitError as exc:
        raise HTTPException(exc.status, exc.message, headers=exc.headers) from exc
    invalidate(request)
    with db.session() as session:
        paper = session.merge(result.paper)
        out = paper_out(paper, upvote_count(session, paper), comment_count(session, paper))
    return SubmitOut(paper=out, created=result.created)


@router.get("/papers/{paper_id:path}", response_model=HfPaper, response_model_exclude_none=True, responses=ERRORS)
def get_paper_api(request: Request, paper_id: str, db: Database = Depends(get_db)) -> HfPaper:
    """One paper (Hugging Face's flat paper object) with its upvote and comment counts."""
    paper = load_paper(db, paper_id, current_user(request))
    with db.session() as session:
        paper = session.merge(paper)
        row = featured_rows(session, [paper.id]).get(paper.id)
        return hf_paper(paper, upvote_count(session, paper), _comments(session, paper), row)
