"""Sign up, log in and log out (rate-limited, CSRF-protected forms).

Sign-ups count against the app-wide write limit; logins against their own,
which counts failures only, per address and per account name.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.deliver.account_mail import MAIL_DOWN, MailError
from paperwire.deliver.subscriptions import DeliveryError, normalise_email
from paperwire.deliver.verification import request_address
from paperwire.store.community import CommunityError, authenticate, create_user, end_session, start_session
from paperwire.store.db import Database
from paperwire.web.deps import get_db, render, verify_csrf
from paperwire.web.security import SESSION_COOKIE, cookie_secure, enforce_login_limit, record_login_failure
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
    """Create the account; an address given is only *asked for* (verification mail).

    The answer is the same whether or not the address is registered: its
    owner gets a notice mail instead of a link, under the same limits.
    """
    target = safe_next(next, "/")

    def again(status: int, error: str) -> Response:
        return render(request, "signup.html", status_code=status, next=target, error=error, username=username,
                      email=email)

    try:
        address = normalise_email(email) if email.strip() else None
    except DeliveryError as exc:
        return again(422, str(exc))
    try:
        with db.session() as session:
            user = create_user(session, username, password)
            limited = request_address(session, user, address) if address else None
    except CommunityError as exc:
        return again(422, str(exc))
    except MailError:
        return again(503, MAIL_DOWN)
    flash = "welcome" if address is None else "welcome-verify-later" if limited else "welcome-verify"
    # A new account has nothing to recommend from: offer onboarding unless the visitor was headed somewhere.
    return _logged_in(request, db, user, _with_msg("/onboarding" if target == "/" else target, flash))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = Query("/")) -> Response:
    return render(request, "login.html", next=safe_next(next, "/"), error=None, username="")


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
    db: Database = Depends(get_db),
) -> Response:
    enforce_login_limit(db, request, username)
    with db.session() as session:
        user = authenticate(session, username, password)
    if user is None:
        record_login_failure(db, request, username)
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
