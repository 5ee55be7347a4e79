"""JSON API of personal recommendations and the library.

``GET /api/foryou`` (and ``/api/foryou/trending``), save / dismiss a paper,
list collections, export a library or collection. Everything here is
personal, so reads need a user too (bearer token or session cookie); writes
with a session cookie need the ``X-CSRF-Token`` header, as in ``web.api``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from paperwire.deliver.export import FORMATS, export
from paperwire.rank.recommend import recommend, trending_for_me
from paperwire.store.community import User, comment_counts, upvote_counts
from paperwire.store.db import Database
from paperwire.store.library import (
    LibraryError, collection_papers, dismiss, get_collection, library_papers, list_collections, save_paper,
    undismiss, unsave_paper,
)
from paperwire.web.api import ERRORS, PaperOut, api_writer, paper_out
from paperwire.web.deps import current_user, get_db
from paperwire.web.presenters import invalidate
from paperwire.web.views.papers import load_paper

router = APIRouter(prefix="/api", tags=["for you"])


class ReasonOut(BaseModel):
    kind: str
    label: str
    uid: str | None = None
    similarity: float | None = None


class ForYouOut(BaseModel):
    paper: PaperOut
    score: float
    source: str
    reasons: list[ReasonOut]


class TrendingForMeOut(BaseModel):
    paper: PaperOut
    score: float
    trend: float
    personal: float


class StateOut(BaseModel):
    saved: bool
    dismissed: bool


class CollectionOut(BaseModel):
    id: int
    name: str
    papers: int


def api_reader(request: Request) -> User:
    """Personal reads need a user (token or session; no CSRF needed for GET)."""
    user = current_user(request)
    if user is None:
        if getattr(request.state, "auth", None) == "invalid-token":
            raise HTTPException(401, "Invalid or revoked API token.")
        raise HTTPException(401, "Authentication required: send 'Authorization: Bearer <token>' or log in.")
    return user


@router.get("/foryou", response_model=list[ForYouOut], responses=ERRORS)
def for_you(
    limit: int = Query(20, ge=1, le=100), p: int = Query(0, ge=0, le=100),
    user: User = Depends(api_reader), db: Database = Depends(get_db),
) -> list[ForYouOut]:
    """Personal recommendations with "why this paper" reasons (popular papers until you have signals)."""
    with db.session() as session:
        recs = recommend(session, user.id, limit=limit, offset=p * limit)
        ids = [r.paper.id for r in recs]
        upvotes, comments = upvote_counts(session, ids), comment_counts(session, ids)
        return [
            ForYouOut(paper=paper_out(r.paper, upvotes[r.paper.id], comments[r.paper.id]),
                      score=round(r.score, 4), source=r.source, reasons=[ReasonOut(**x.as_dict()) for x in r.reasons])
            for r in recs
        ]


@router.get("/foryou/trending", response_model=list[TrendingForMeOut], responses=ERRORS)
def for_you_trending(
    limit: int = Query(20, ge=1, le=100), user: User = Depends(api_reader), db: Database = Depends(get_db),
) -> list[TrendingForMeOut]:
    """Hot papers re-ordered for you: 0.5 × trend percentile + 0.5 × personal probability."""
    with db.session() as session:
        return [
            TrendingForMeOut(paper=paper_out(r.paper, r.upvotes, r.comments), score=round(r.score, 4),
                             trend=round(r.trend, 4), personal=round(r.personal, 4))
            for r in trending_for_me(session, user.id, limit=limit)
        ]


def _state(db: Database, user: User, paper_id: int) -> StateOut:
    from paperwire.store.library import dismissed_ids, saved_ids

    with db.session() as session:
        return StateOut(saved=paper_id in saved_ids(session, user.id, [paper_id]),
                        dismissed=paper_id in dismissed_ids(session, user.id))


@router.post("/papers/{paper_id:path}/save", response_model=StateOut, responses=ERRORS)
def save(request: Request, paper_id: str, collection: int | None = Query(None),
         user: User = Depends(api_writer), db: Database = Depends(get_db)) -> StateOut:
    """Save a paper to your library (the "Saved" collection unless ``collection`` is given)."""
    paper = load_paper(db, paper_id, user)
    try:
        with db.session() as session:
            save_paper(session, user.id, paper.id, collection)
    except LibraryError as exc:
        raise HTTPException(404, str(exc)) from exc
    invalidate(request)
    return _state(db, user, paper.id)


@router.delete("/papers/{paper_id:path}/save", response_model=StateOut, responses=ERRORS)
def unsave(request: Request, paper_id: str, collection: int | None = Query(None),
           user: User = Depends(api_writer), db: Database = Depends(get_db)) -> StateOut:
    """Remove a paper from one collection, or from all of them."""
    paper = load_paper(db, paper_id, user)
    with db.session() as session:
        unsave_paper(session, user.id, paper.id, collection)
    return _state(db, user, paper.id)


@router.post("/papers/{paper_id:path}/dismiss", response_model=StateOut, responses=ERRORS)
def dismiss_paper(request: Request, paper_id: str, user: User = Depends(api_writer),
                  db: Database = Depends(get_db)) -> StateOut:
    """Not interested: never recommended again, and a negative example for your model."""
    paper = load_paper(db, paper_id, user)
    with db.session() as session:
        dismiss(session, user.id, paper.id)
    return _state(db, user, paper.id)


@router.delete("/papers/{paper_id:path}/dismiss", response_model=StateOut, responses=ERRORS)
def undismiss_paper(request: Request, paper_id: str, user: User = Depends(api_writer),
                    db: Database = Depends(get_db)) -> StateOut:
    paper = load_paper(db, paper_id, user)
    with db.session() as session:
        undismiss(session, user.id, paper.id)
    return _state(db, user, paper.id)


@router.get("/library", response_model=list[CollectionOut], responses=ERRORS)
def collections(user: User = Depends(api_reader), db: Database = Depends(get_db)) -> list[CollectionOut]:
    """Your collections and how many papers each holds."""
    with db.session() as session:
        return [CollectionOut(id=c.id, name=c.name, papers=n) for c, n in list_collections(session, user.id)]


def export_response(db: Database, user: User, fmt: str, collection: int | None) -> Response:
    """The library (or one collection) as a download; shared with the HTML page."""
    if fmt not in FORMATS:
        raise HTTPException(422, f"Unknown format {fmt!r}; use one of: {', '.join(FORMATS)}.")
    with db.session() as session:
        if collection is None:
            papers, name = library_papers(session, user.id), "library"
        else:
            found = get_collection(session, user.id, collection)
            if found is None:
                raise HTTPException(404, "No such collection.")
            papers, name = collection_papers(session, found.id), found.name
    body, media, ext = export(papers, fmt)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name.lower()).strip("-") or "library"
    return Response(body, media_type=media,
                    headers={"content-disposition": f'attachment; filename="paperwire-{safe}.{ext}"'})


@router.get("/library/export", responses={**ERRORS, 200: {"content": {"text/plain": {}}}})
def export_library(
    format: str = Query("bibtex", description="bibtex, ris or csljson"),
    collection: int | None = Query(None, description="collection id (default: the whole library)"),
    user: User = Depends(api_reader), db: Database = Depends(get_db),
) -> Response:
    """Export your library or a collection as BibTeX, RIS or CSL-JSON."""
    return export_response(db, user, format, collection)
