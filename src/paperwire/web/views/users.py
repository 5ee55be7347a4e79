"""User pages (submitted and upvoted papers) and the settings page
(password, personal API tokens, and the delivery section when installed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.deliver.subscriptions import revoke_feed_tokens
from paperwire.store.community import (
    CommunityError, User, authenticate, get_user, issue_api_token, revoke_api_token, set_password,
    submitted_papers, upvoted_papers, user_tokens, voted_ids,
)
from paperwire.store.db import Database
from paperwire.web.deps import current_user, get_db, render, require_user, verify_csrf
from paperwire.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/users/{username}", response_class=HTMLResponse)
def user_page(
    request: Request, username: str, tab: str = Query("submitted"), p: int = Query(0, ge=0, le=10_000),
    db: Database = Depends(get_db),
) -> Response:
    tab = tab if tab in ("submitted", "upvoted") else "submitted"
    with db.session() as session:
        person = get_user(session, username)
        if person is None:
            raise HTTPException(404, f"No user named {username!r}.")
        listing = submitted_papers if tab == "submitted" else upvoted_papers
        papers = listing(session, person, limit=PAGE_SIZE, offset=p * PAGE_SIZE)
        voted = voted_ids(session, current_user(request), [paper.id for paper in papers])
    return render(request, "user.html", person=person, tab=tab, papers=papers, voted=voted, page=p,
                  has_next=len(papers) == PAGE_SIZE)


def settings_response(request: Request, db: Database, user: User, status_code: int = 200, **extra) -> Response:
    """The settings page (``extra``: ``error``, ``new_token``, ``email_notice``, ``email_value``)."""
    with db.session() as session:
        tokens = user_tokens(session, user)
    ctx = {"tokens": tokens, "new_token": None, "error": None, **extra}
    return render(request, "settings.html", status_code=status_code, **ctx)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    return settings_response(request, db, user)


@router.post("/settings/password", dependencies=[Depends(verify_csrf)])
def change_password(
    request: Request, current: str = Form(""), new: str = Form(""),
    user: User = Depends(require_user), db: Database = Depends(get_db),
) -> Response:
    with db.session() as session:
        if authenticate(session, user.username, current) is None:
            return settings_response(request, db, user, 422, error="Your current password is not correct.")
        # Whoever knew the old password may hold a token or a session: revoke them all but this browser's.
        keep = request.cookies.get(SESSION_COOKIE) if getattr(request.state, "auth", None) == "session" else None
        try:
            set_password(session, session.merge(user), new, keep_session=keep)
        except CommunityError as exc:
            return settings_response(request, db, user, 422, error=str(exc))
        revoke_feed_tokens(session, user.id)
    return RedirectResponse("/settings?msg=password-revoked", status_code=303)


@router.post("/settings/tokens", dependencies=[Depends(verify_csrf)])
def create_token(
    request: Request, name: str = Form("token"), user: User = Depends(require_user), db: Database = Depends(get_db),
) -> Response:
    with db.session() as session:
        _, token = issue_api_token(session, user, name)
    return settings_response(request, db, user, new_token=token)


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_token(
    request: Request, token_id: int, user: User = Depends(require_user), db: Database = Depends(get_db),
) -> Response:
    with db.session() as session:
        if not revoke_api_token(session, user, token_id):
            raise HTTPException(404, "No such token.")
    return RedirectResponse("/settings?msg=revoked", status_code=303)
