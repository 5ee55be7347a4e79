"""Cross-cutting web security: CSRF tokens, the session cookie, rate limits.

CSRF uses a signed double submit: every browser gets a random ``pw_csrf``
cookie (HttpOnly, SameSite=Lax); forms carry ``HMAC(secret, cookie)``. A
forged cross-site form cannot read the cookie and so cannot compute the
token. Requests authenticated by an API bearer token need no CSRF token (a
browser never adds that header on its own).

Login sessions are server-side rows (see ``store.community``); the cookie
only carries a random secret, so logging out or changing the password ends
the session for real. Rate limits are counted in the database so they hold
across worker processes; every write is limited per account and per client
address (``PAPERWIRE_RATE_LIMIT_*``), and the client address is the
connecting one unless a configured proxy vouches for another.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets

from fastapi import HTTPException, Request

from paperwire.settings import get_settings
from paperwire.store.community import rate_wait, record_attempt
from paperwire.store.db import Database

CSRF_COOKIE = "pw_csrf"
SESSION_COOKIE = "pw_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

#: Writes that keep limits of their own: login counts failures only (see
#: ``enforce_login_limit``); subscribe has per-address limits; logout and
#: RFC 8058 one-click unsubscribe (sent by mail providers) are not worth limiting.
OWN_LIMITS = ("/login", "/logout", "/subscribe", "/unsubscribe/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sign(seed: str) -> str:
    key = get_settings().signing_key().encode()
    return hmac.new(key, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> str:
    """The browser's CSRF cookie value (a new one is set on the response if missing)."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(24)
        request.state.new_csrf_seed = seed
    return seed


def make_csrf_token(request: Request) -> str:
    request.state.csrf_used = True
    return _sign(csrf_seed(request))


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise 403 unless ``submitted`` matches the browser's CSRF cookie."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not submitted or not hmac.compare_digest(_sign(seed), submitted):
        raise HTTPException(403, "CSRF check failed: reload the page and try again.")


def client_key(request: Request) -> str:
    """The client's address: the connecting one, or what a *configured* proxy said
    (``PAPERWIRE_FORWARDED_ALLOW_IPS``; applied by the app's proxy middleware)."""
    return request.client.host if request.client else "unknown"


def write_action(method: str, path: str) -> str | None:
    """Which limit a request counts against (None: a read, or a write with its own limit)."""
    if method in SAFE_METHODS or path.startswith(OWN_LIMITS):
        return None
    if path == "/signup":
        return "signup"
    if path.endswith("/comments"):
        return "comment"
    if path.endswith(("/vote", "/upvote")):
        return "vote"
    if path in ("/submit", "/api/papers/submit"):
        return "submit"
    return "write"


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{-(-seconds // 60)} minutes"


def too_many(what: str, wait: float) -> HTTPException:
    """The 429 every limiter raises: a readable message and ``Retry-After``."""
    seconds = max(1, math.ceil(wait))
    return HTTPException(429, f"Too many {what}; try again in {_wait_text(seconds)}.",
                         headers={"Retry-After": str(seconds)})


_WHAT = {"login": "login attempts", "signup": "sign-ups", "comment": "comments", "vote": "votes",
         "submit": "submissions", "write": "changes"}


def enforce_limits(db: Database, action: str, keys: list[str], *, record: bool = True) -> None:
    """Raise 429 when any of ``keys`` (an account, an address) used up ``action``'s limit.

    Checked for all keys first and recorded only when none is over, so a
    refused request costs nobody an attempt.
    """
    limit, window = get_settings().rate_limit(action)
    scoped = [f"{action}:{key}" for key in keys]
    with db.session() as session:
        wait = max(rate_wait(session, key, limit=limit, window=window, record=False) for key in scoped)
        if wait > 0:
            raise too_many(_WHAT.get(action, "requests"), wait)
        if record:
            for key in scoped:
                record_attempt(session, key)


def limit_keys(request: Request, account: str | None) -> list[str]:
    keys = [f"ip:{client_key(request)}"]
    if account:
        keys.append(f"user:{account}")
    return keys


def enforce_login_limit(db: Database, request: Request, username: str) -> None:
    """Before checking a password: 429 if this address or this account failed too often."""
    enforce_limits(db, "login", limit_keys(request, username.strip().lower()), record=False)


def record_login_failure(db: Database, request: Request, username: str) -> None:
    """Only failures count, so a user who logs in often is never locked out by it."""
    with db.session() as session:
        for key in limit_keys(request, username.strip().lower()):
            record_attempt(session, f"login:{key}")


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"
