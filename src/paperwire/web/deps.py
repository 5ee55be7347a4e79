"""FastAPI dependencies shared by every router, and the template renderer.

Other routers (delivery, …) import ``get_db``, ``current_user``,
``require_user``, ``require_admin``, ``verify_csrf`` and ``render`` from here
so that authentication and CSRF behave the same on every page.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from paperwire.store.community import User, session_user, verify_api_token
from paperwire.store.db import Database
from paperwire.web.card_facts import paper_links
from paperwire.web.charts import sparkline_points
from paperwire.web.security import (
    CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, check_csrf, enforce_limits, limit_keys, make_csrf_token, write_action,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: Autoescape on for every template: titles, abstracts and comments are user text.
#: ``auto_reload=False``: the templates ship with the package, so checking every
#: file's mtime on each render (1.4 % of a loaded search page) buys nothing; a
#: restart picks up an edit.
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                                            auto_reload=False))
_UNSET = object()
#: Fixed messages a redirect can ask for with ``?msg=`` (never echo user text).
FLASHES = {
    "welcome": "Welcome! Your account is ready.",
    "loggedin": "You are logged in.",
    "loggedout": "You are logged out.",
    "password": "Your password was changed.",
    "password-revoked": "Your password was changed. Your API tokens, private feed addresses and other sessions "
                        "were revoked; this browser stays logged in.",
    "welcome-verify": "Welcome! Your account is ready. Check your inbox: we sent a mail to the address you gave; "
                      "nothing is sent to it before you verify it.",
    "welcome-verify-later": "Welcome! Your account is ready. We could not mail the address you gave just now "
                            "(too many mails recently); resend the verification link from your settings later.",
    "submitted": "Thanks! The paper is featured today.",
    "already": "That paper was already featured today.",
    "commented": "Your comment was posted.",
    "hidden": "Done: hidden from the site.",
    "shown": "Done: visible again.",
    "banned": "The user is banned.",
    "unbanned": "The user is no longer banned.",
    "revoked": "The token was revoked.",
}


def _short(text: str | None, limit: int = 280) -> str:
    """Cut an abstract at a word boundary (math delimiters stay balanced)."""
    text = text or ""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count("$") % 2:
        cut = cut[: cut.rfind("$")].rstrip()
    return cut + " …"


def _authors(names: list[str] | None, limit: int = 4, count: int | None = None) -> str:
    names = list(names or [])
    total = max(len(names), count or 0)
    if not names:
        return f"{total} authors" if total else "Unknown authors"
    shown = ", ".join(names[:limit])
    return shown + (f" + {total - limit} more" if total > limit else "")


def _fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%b %-d, %Y")


templates.env.filters["short"] = _short
templates.env.filters["authors"] = _authors
templates.env.filters["fmt_date"] = _fmt_date
templates.env.globals["Markup"] = Markup
templates.env.globals["paper_links"] = paper_links
templates.env.globals["spark_points"] = sparkline_points


def get_db(request: Request) -> Database:
    return request.app.state.db


def current_user(request: Request) -> User | None:
    """The logged-in user (session cookie or ``Authorization: Bearer`` token), or None."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached
    user = None
    db = get_db(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        with db.session() as session:
            user = verify_api_token(session, auth[7:])
        request.state.auth = "token" if user else "invalid-token"
    elif token := request.cookies.get(SESSION_COOKIE):
        with db.session() as session:
            user = session_user(session, token)
        request.state.auth = "session" if user else None
    request.state.user = user
    return user


def require_user(request: Request, user: User | None = Depends(current_user)) -> User:
    """A logged-in, non-banned user (401 / 403 otherwise)."""
    if user is None:
        raise HTTPException(401, "Log in to do that.")
    if user.is_banned:
        raise HTTPException(403, "Your account is banned.")
    return user


def require_admin(user: User = Depends(require_user)) -> User:
    if not user.is_admin:
        raise HTTPException(403, "Only administrators can do that.")
    return user


def limit_writes(request: Request) -> None:
    """App-wide dependency: every write counts against its limit, per account and per address."""
    action = write_action(request.method, request.url.path)
    if action is None:
        return
    user = current_user(request)
    enforce_limits(get_db(request), action, limit_keys(request, f"#{user.id}" if user else None))


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page."""
    return make_csrf_token(request)


async def verify_csrf(request: Request) -> None:
    """Reject state-changing requests without a valid CSRF token (form field or header).

    Requests authenticated by an API token are exempt: browsers never send
    that header by themselves, so they cannot be forged cross-site.
    """
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


def render(request: Request, name: str, status_code: int = 200, **ctx: Any):
    """Render a template with the current user, CSRF helper and flash message."""
    user = current_user(request)
    context = {
        "request": request,
        "user": user,
        "csrf_token": lambda: make_csrf_token(request),
        "flash": FLASHES.get(request.query_params.get("msg", "")),
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


T = TypeVar("T")


def signed_link_or_400(read: Callable[[str], T], token: str) -> T:
    """What a mailed, signed link carries; a tampered or expired one is a 400 saying so."""
    from paperwire.deliver.tokens import InvalidToken

    try:
        return read(token)
    except InvalidToken as exc:
        raise HTTPException(400, str(exc).capitalize() + ".") from exc
