"""The paper page: metadata, abstract with math, votes, threaded comments,
similar papers and a BibTeX citation."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select

from paperwire.ids import arxiv_abs_url, arxiv_pdf_url
from paperwire.index.similar import similar_papers
from paperwire.index.vectors import PaperNotIndexedYet, SemanticUnavailable, semantic_coverage
from paperwire.store.community import (
    CommunityError, User, add_comment, comment_count, comment_tree, unvote, upvote_count, vote, voted_ids,
)
from paperwire.store.db import Database
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import get_paper, published_date
from paperwire.web.deps import current_user, get_db, render, verify_csrf
from paperwire.web.card_facts import local_votes, split
from paperwire.web.paper_markdown import paper_markdown
from paperwire.web.presenters import bibtex, invalidate

router = APIRouter(include_in_schema=False)


def load_paper(db: Database, uid: str, user: User | None) -> Paper:
    """The paper, or 404 (hidden papers are visible to admins only)."""
    with db.session() as session:
        paper = get_paper(session, uid)
    if paper is None or (paper.hidden and not (user and user.is_admin)):
        raise HTTPException(404, f"No paper with id {uid!r}.")
    return paper


def safe_next(value: str | None, default: str) -> str:
    """Only same-site relative paths are followed after a form post."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def _similar(db: Database, uid: str) -> tuple[list, str | None]:
    """(similar papers, what to say about them: not embedded yet, or partial coverage)."""
    try:
        hits = similar_papers(db, uid, limit=5)
    except PaperNotIndexedYet:
        return [], "Similar papers appear once this paper is embedded (the worker does it in the background)."
    except SemanticUnavailable:
        return [], "Similar papers appear once the semantic index is built."
    except Exception:  # noqa: BLE001 — a missing index must not break the paper page
        return [], None
    return hits, (semantic_coverage(db).notice() if hits else None)


@router.post("/papers/{uid:path}/vote", dependencies=[Depends(verify_csrf)])
def vote_paper(
    request: Request, uid: str, action: str = Form("up"), next: str | None = Form(None),
    db: Database = Depends(get_db),
) -> Response:
    user = current_user(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    if user is None:
        if wants_json:
            raise HTTPException(401, "Log in to vote.")
        return RedirectResponse(f"/login?next={quote(safe_next(next, '/'))}", status_code=303)
    if user.is_banned:
        raise HTTPException(403, "Your account is banned.")
    if action not in ("up", "down"):
        raise HTTPException(422, "action must be 'up' or 'down'.")
    paper = load_paper(db, uid, user)
    with db.session() as session:
        paper = session.merge(paper)
        vote(session, user, paper) if action == "up" else unvote(session, user, paper)
    with db.session() as session:
        count = upvote_count(session, paper)
    invalidate(request)
    if wants_json:
        return JSONResponse({"upvotes": count, "voted": action == "up"})
    return RedirectResponse(safe_next(next, f"/papers/{paper.uid}"), status_code=303)


@router.post("/papers/{uid:path}/comments", dependencies=[Depends(verify_csrf)])
def post_comment(
    request: Request, uid: str, body: str = Form(""), parent_id: int | None = Form(None),
    db: Database = Depends(get_db),
) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/login?next={quote('/papers/' + uid)}", status_code=303)
    if user.is_banned:
        raise HTTPException(403, "Your account is banned.")
    paper = load_paper(db, uid, user)
    try:
        with db.session() as session:
            comment = add_comment(session, user, session.merge(paper), body, parent_id)
    except CommunityError as exc:
        return paper_page(request, uid, db, error=str(exc), draft=body, status_code=422)
    invalidate(request)
    return RedirectResponse(f"/papers/{paper.uid}?msg=commented#c{comment.id}", status_code=303)


@router.get("/papers/{uid:path}/cite.bib", response_class=PlainTextResponse)
def cite(request: Request, uid: str, db: Database = Depends(get_db)) -> PlainTextResponse:
    paper = load_paper(db, uid, current_user(request))
    return PlainTextResponse(bibtex(paper) + "\n", media_type="application/x-bibtex; charset=utf-8")


@router.get("/papers/{uid:path}.md", response_class=PlainTextResponse)
def paper_md(request: Request, uid: str, db: Database = Depends(get_db)) -> PlainTextResponse:
    """The paper as Markdown (huggingface_hub's ``read_paper``)."""
    paper = load_paper(db, uid, current_user(request))
    with db.session() as session:
        paper = session.merge(paper)
        text = paper_markdown(paper, upvotes=upvote_count(session, paper), comments=comment_count(session, paper),
                              site_url=str(request.base_url).rstrip("/"))
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get("/papers/{uid:path}", response_class=HTMLResponse)
def paper_view(request: Request, uid: str, db: Database = Depends(get_db)) -> Response:
    return paper_page(request, uid, db)


def paper_page(
    request: Request, uid: str, db: Database, error: str | None = None, draft: str = "", status_code: int = 200,
) -> Response:
    user = current_user(request)
    paper = load_paper(db, uid, user)
    with db.session() as session:
        paper = session.merge(paper)
        upvotes = upvote_count(session, paper)
        comments = comment_tree(session, paper, include_hidden=bool(user and user.is_admin))
        n_comments = comment_count(session, paper)
        voted = paper.id in voted_ids(session, user, [paper.id])
        upvote_split = split(paper, upvotes, local_votes(session, [paper.id]).get(paper.id, 0))
        featured = session.execute(
            select(FeaturedPaper.day, FeaturedPaper.submitted_by)
            .where(FeaturedPaper.paper_id == paper.id).order_by(FeaturedPaper.day)
        ).all()
    published = published_date(paper)
    similar, similar_note = _similar(db, paper.uid)
    return render(
        request, "paper.html", status_code=status_code, paper=paper, upvotes=upvotes, comments=comments,
        n_comments=n_comments, voted=voted, upvote_split=upvote_split, featured=featured, published=published,
        abs_url=arxiv_abs_url(paper.arxiv_id) if paper.arxiv_id else None,
        pdf_url=arxiv_pdf_url(paper.arxiv_id) if paper.arxiv_id else None,
        bibtex=bibtex(paper), similar=similar, similar_note=similar_note, error=error, draft=draft,
    )
