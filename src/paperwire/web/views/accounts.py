"""Sign up, log in and log out (rate-limited, CSRF-protected forms)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.store.community import CommunityError, authenticate, create_user, end_session, start_session
from paperwire.store.db import Database
from paperwire.web.deps import get_db, render, verify_csrf
from paperwire.web.security import SESSION_COOKIE, cookie_secure, enforce_rate_limit
from paperwire.web.views.papers import safe_next

router = APIRouter(include_in_schema=False)
SESSION_DAYS = 30


def _logged_in(request: Request, db: Database, user, target: str) -> Response:
    with db.session() as session:
        token = start_session(session, user, days=SESSION_DAYS)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=cookie_secure(request),
                        max_age=SESSION_DAYS * 86400)
    return response


def _with_msg(target: str, msg: str) -> str:
    return target + ("&" if "?" in target else "?") + f"msg={msg}"


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, next: str = Query("/")) -> Response:
    return render(request, "signup.html", next=safe_next(next, "/"), error=None, username="", email="")


@router.post("/signup", dependencies=[Depends(verify_csrf)])
def signup(
    request: Request, username: str = Form(""), password: str = Form(""), email: str = Form(""),
    next: str = Form("/"), db: Database = Depends(get_db),
) -> Response:
    enforce_rate_limit(db, request, "signup")
    try:
        with db.session() as session:
            user = create_user(session, username, password, email=email or None)
    except CommunityError as exc:
        return render(request, "signup.html", status_code=422, next=safe_next(next, "/"), error=str(exc),
                      username=username, email=email)
    # A new account has nothing to recommend from: offer onboarding unless the visitor was headed somewhere.
    target = safe_next(next, "/")
    return _logged_in(request, db, user, _with_msg("/onboarding" if target == "/" else target, "welcome"))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = Query("/")) -> Response:
    return render(request, "login.html", next=safe_next(next, "/"), error=None, username="")


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
    db: Database = Depends(get_db),
) -> Response:
    enforce_rate_limit(db, request, "login")
    with db.session() as session:
        user = authenticate(session, username, password)
    if user is None:
        return render(request, "login.html", status_code=401, next=safe_next(next, "/"),
                      error="Wrong username or password.", username=username)
    return _logged_in(request, db, user, _with_msg(safe_next(next, "/"), "loggedin"))


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, db: Database = Depends(get_db)) -> Response:
    if token := request.cookies.get(SESSION_COOKIE):
        with db.session() as session:
            end_session(session, token)
    response = RedirectResponse("/?msg=loggedout", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def login_url(path: str) -> str:
    return f"/login?next={quote(path)}"
