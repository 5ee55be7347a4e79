"""The "For you" page and the save / not-interested buttons on every card.

The buttons are plain forms (they work without JavaScript) that redirect
back to ``next``; with ``Accept: application/json`` they answer JSON.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paperwire.deliver.subscriptions import active_feed_token
from paperwire.index.vectors import semantic_coverage
from paperwire.rank.recommend import recommend, trending_for_me
from paperwire.store.community import upvote_counts, voted_ids
from paperwire.store.db import Database
from paperwire.store.library import dismiss, saved_ids, save_paper, undismiss, unsave_paper, user_signals
from paperwire.web.deps import current_user, get_db, render, require_user, verify_csrf
from paperwire.web.presenters import fit_label, invalidate, trend_label
from paperwire.web.views.papers import load_paper, safe_next

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
ACTIONS = ("save", "unsave", "dismiss", "undismiss")


@router.get("/for-you", response_class=HTMLResponse)
def for_you_page(
    request: Request, view: str = Query("foryou"), p: int = Query(0, ge=0, le=50),
    user=Depends(require_user), db: Database = Depends(get_db),
) -> Response:
    view = view if view in ("foryou", "trending") else "foryou"
    more = False
    with db.session() as session:
        signals = user_signals(session, user.id)
        if view == "trending":
            rows = trending_for_me(session, user.id, limit=PAGE_SIZE)
            items = [{"paper": r.paper, "score": r.score, "reasons": [], "upvotes": r.upvotes,
                      "detail": trend_label(r.trend, r.personal)} for r in rows]
        else:
            recs = recommend(session, user.id, limit=PAGE_SIZE + 1, offset=p * PAGE_SIZE)
            more = len(recs) > PAGE_SIZE
            upvotes = upvote_counts(session, [r.paper.id for r in recs[:PAGE_SIZE]])
            items = [{"paper": r.paper, "score": r.score, "reasons": r.reasons, "source": r.source,
                      "detail": "" if r.source == "popular" else fit_label(r.score),  # popular: its reason says so
                      "upvotes": upvotes[r.paper.id]} for r in recs[:PAGE_SIZE]]
        ids = [i["paper"].id for i in items]
        voted = voted_ids(session, user, ids)
        saved = saved_ids(session, user.id, ids)
        token = active_feed_token(session, user.id)  # only its hash is stored: the page can say it exists
    coverage = None if signals.is_empty else semantic_coverage(db).notice()  # recommendations stand on the vectors
    return render(request, "foryou.html", items=items, view=view, page=p, has_next=more, voted=voted, saved_ids=saved,
                  cold=signals.is_empty, offset=p * PAGE_SIZE, feed_since=token.created_at if token else None,
                  coverage=coverage)


def _act(request: Request, uid: str, action: str, next_url: str | None, db: Database) -> Response:
    user = current_user(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    if user is None:
        if wants_json:
            raise HTTPException(401, "Log in to do that.")
        return RedirectResponse(f"/login?next={quote(safe_next(next_url, '/'))}", status_code=303)
    if user.is_banned:
        raise HTTPException(403, "Your account is banned.")
    paper = load_paper(db, uid, user)
    with db.session() as session:
        {"save": lambda: save_paper(session, user.id, paper.id), "unsave": lambda: unsave_paper(session, user.id, paper.id),
         "dismiss": lambda: dismiss(session, user.id, paper.id),
         "undismiss": lambda: undismiss(session, user.id, paper.id)}[action]()
    invalidate(request)
    if wants_json:
        return JSONResponse({"action": action, "id": paper.uid})
    return RedirectResponse(safe_next(next_url, f"/papers/{paper.uid}"), status_code=303)


@router.post("/papers/{uid:path}/library", dependencies=[Depends(verify_csrf)])
def library_action(
    request: Request, uid: str, action: str = Form(...), next: str | None = Form(None),
    db: Database = Depends(get_db),
) -> Response:
    """One endpoint for the card buttons: save, unsave, dismiss, undismiss."""
    if action not in ACTIONS:
        raise HTTPException(422, f"action must be one of: {', '.join(ACTIONS)}.")
    return _act(request, uid, action, next, db)
