"""Moderation: administrators hide papers and comments and ban users."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from paperwire.store.community import User, get_user, set_banned, set_comment_hidden
from paperwire.store.db import Database
from paperwire.store.papers import get_paper
from paperwire.web.deps import get_db, render, require_admin, verify_csrf
from paperwire.web.presenters import invalidate
from paperwire.web.views.papers import safe_next

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_admin)])


@router.get("", response_class=HTMLResponse)
def admin_page(request: Request, db: Database = Depends(get_db)) -> Response:
    from paperwire.worker.status import status_report

    with db.session() as session:
        users = list(session.scalars(select(User).order_by(User.created_at.desc()).limit(200)))
    return render(request, "admin.html", users=users, status=status_report(db))


@router.post("/papers/{uid:path}/hide", dependencies=[Depends(verify_csrf)])
def hide_paper(request: Request, uid: str, hidden: bool = Form(True), db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        paper = get_paper(session, uid)
        if paper is None:
            raise HTTPException(404, f"No paper with id {uid!r}.")
        paper.hidden = hidden
        target = f"/papers/{paper.uid}"
    invalidate(request)
    return RedirectResponse(f"{target}?msg={'hidden' if hidden else 'shown'}", status_code=303)


@router.post("/comments/{comment_id}/hide", dependencies=[Depends(verify_csrf)])
def hide_comment(
    request: Request, comment_id: int, hidden: bool = Form(True), next: str = Form("/"),
    db: Database = Depends(get_db),
) -> Response:
    with db.session() as session:
        if set_comment_hidden(session, comment_id, hidden) is None:
            raise HTTPException(404, "No such comment.")
    invalidate(request)
    target = safe_next(next, "/")
    return RedirectResponse(f"{target}{'&' if '?' in target else '?'}msg={'hidden' if hidden else 'shown'}", status_code=303)


@router.post("/users/{username}/ban", dependencies=[Depends(verify_csrf)])
def ban_user(
    request: Request, username: str, banned: bool = Form(True), admin: User = Depends(require_admin),
    db: Database = Depends(get_db),
) -> Response:
    with db.session() as session:
        person = get_user(session, username)
        if person is None:
            raise HTTPException(404, f"No user named {username!r}.")
        if person.id == admin.id:
            raise HTTPException(422, "You cannot ban yourself.")
        set_banned(session, person, banned)
    return RedirectResponse(f"/users/{username}?msg={'banned' if banned else 'unbanned'}", status_code=303)
