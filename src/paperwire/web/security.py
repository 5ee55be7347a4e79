"""Cross-cutting web security: CSRF tokens, the session cookie, rate limits.

CSRF uses a signed double submit: every browser gets a random ``pw_csrf``
cookie (HttpOnly, SameSite=Lax); forms carry ``HMAC(secret, cookie)``. A
forged cross-site form cannot read the cookie and so cannot compute the
token. Requests authenticated by an API bearer token need no CSRF token (a
browser never adds that header on its own).

Login sessions are server-side rows (see ``store.community``); the cookie
only carries a random secret, so logging out or changing the password ends
the session for real. Rate limits are counted in the database so they hold
across worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import HTTPException, Request

from paperwire.settings import get_settings
from paperwire.store.community import rate_limited
from paperwire.store.db import Database

CSRF_COOKIE = "pw_csrf"
SESSION_COOKIE = "pw_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

#: (attempts, window) per client address for each limited action.
LIMITS: dict[str, tuple[int, timedelta]] = {
    "login": (10, timedelta(minutes=5)),
    "signup": (5, timedelta(hours=1)),
}


def _sign(seed: str) -> str:
    key = get_settings().secret_key.encode()
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
    return request.client.host if request.client else "unknown"


def enforce_rate_limit(db: Database, request: Request, action: str) -> None:
    """Raise 429 when the client made too many ``action`` attempts recently."""
    limit, window = LIMITS[action]
    with db.session() as session:
        limited = rate_limited(session, f"{action}:{client_key(request)}", limit=limit, window=window)
    if limited:
        minutes = int(window.total_seconds() // 60)
        raise HTTPException(429, f"Too many {action} attempts; try again in {minutes} minutes.")


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"
