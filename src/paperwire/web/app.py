"""The web application factory: routers, static files, middleware, errors.

``paperwire serve`` runs ``uvicorn paperwire.web.app:create_app --factory``.
Errors under ``/api`` and ``/feeds`` are JSON ``{"error": ..., "detail": ...}``;
everywhere else they are a readable HTML page with the same status code. An
unexpected exception is logged and answered with such a 500 page: no
traceback ever reaches the client; overload is a quick 503 with Retry-After
(``web/admission.py``). Every response carries the security headers (CSP,
nosniff, Referrer-Policy, X-Frame-Options), /docs included.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, TimeoutError as PoolTimeoutError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from paperwire.settings import get_settings
from paperwire.store.db import Database, open_database
from paperwire.web.admission import AdmissionGate, busy_response, is_exempt, is_machine_client
from paperwire.web.cache import PageCache
from paperwire.web.deps import limit_writes, render
from paperwire.web.security import CSRF_COOKIE, cookie_secure

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
_REASONS = {400: "Bad request", 401: "Log in required", 403: "Forbidden", 404: "Not found",
            405: "Method not allowed", 422: "Invalid input", 429: "Too many requests", 500: "Server error",
            503: "Busy"}
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def _error_response(request: Request, status: int, message: str, detail=None, headers=None) -> Response:
    if is_machine_client(request):
        response = JSONResponse({"error": message, "detail": detail}, status_code=status)
    else:
        try:
            response = render(request, "error.html", status_code=status, status=status,
                              title=_REASONS.get(status, "Error"), message=message)
        except Exception:  # noqa: BLE001 — the page must not fail the error page (e.g. database down)
            log.exception("error page for %s failed", request.url.path)
            response = HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _install_error_handlers(app: FastAPI) -> None:
    # Plain ``def``: rendering reads the database, so Starlette runs these in its threadpool.
    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else _REASONS.get(exc.status_code, "Error")
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = "There is nothing at this address."
        if exc.status_code == 401 and not is_machine_client(request) and request.method == "GET":
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _error_response(request, exc.status_code, message, None if isinstance(exc.detail, str) else exc.detail,
                               headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError):
        problems = [
            {"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", "")} for err in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(p['loc'][1:]) or 'input'}: {p['msg']}" for p in problems)
        return _error_response(request, 422, f"Invalid input — {summary}", problems)

    # An id or number beyond what the database column holds (/library?c=99999999999999999999999):
    # SQLite's driver raises OverflowError, PostgreSQL "integer out of range". Bad input, not a 500.
    @app.exception_handler(OverflowError)
    async def number_overflow(request: Request, exc: OverflowError):
        return _error_response(request, 422, "Invalid input — a number in the request is out of range")

    # PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) bytes") wherever request text
    # reaches a query (a path id, a login name, a form field); SQLite stores it. Bad input too.
    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError):
        reason = str(exc.orig).lower()
        if "0x00" in reason:
            return _error_response(request, 422, "Invalid input — text must not contain NUL characters")
        if "out of range" in reason:
            return _error_response(request, 422, "Invalid input — a number in the request is out of range")
        raise exc

    # No free database connection within ``db_pool_timeout``: overload, not a fault.
    # The busy answer needs no connection (the error page would ask for one).
    @app.exception_handler(PoolTimeoutError)
    async def no_free_connection(request: Request, exc: PoolTimeoutError):
        log.warning("no free database connection for %s %s", request.method, request.url.path)
        return busy_response(request)


def create_app(db: Database | None = None) -> FastAPI:
    """Build the site and API around ``db`` (default: the configured database)."""
    settings = get_settings()
    settings.signing_key()  # fail now, not on the first signed cookie
    app = FastAPI(
        title="paperwire",
        version="0.1.0",
        description="Research-paper discovery: daily papers, search, votes and comments. "
        "Authenticate with a session cookie (plus X-CSRF-Token for writes) or `Authorization: Bearer <token>`.",
        docs_url=None,  # /docs and /redoc: views/api_docs.py, from vendored files (offline, CSP)
        redoc_url=None,
        dependencies=[Depends(limit_writes)],
    )
    app.state.db = db or open_database(settings.database_url)
    from paperwire.index.lexical_sync import keep_in_step

    keep_in_step(app.state.db)  # web writes reach search right after their commit
    app.state.page_cache = PageCache(ttl=5.0)

    @app.middleware("http")
    async def server_errors(request: Request, call_next):
        """Inside ``security_headers``, so the 500 page gets the headers too."""
        try:
            return await call_next(request)
        except Exception:  # noqa: BLE001 — logged here; the client sees a plain 500 page
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return await run_in_threadpool(_error_response, request, 500,
                                           "Something went wrong on our side. It was logged; please try again later.")

    gate = app.state.admission = AdmissionGate(settings.request_limit(), settings.request_queue_seconds)

    @app.middleware("http")
    async def admission(request: Request, call_next):
        """Between the two above: a busy answer still gets the security headers."""
        if is_exempt(request.url.path):
            return await call_next(request)
        if not await gate.enter():
            return busy_response(request)
        try:
            return await call_next(request)
        finally:
            gate.leave()

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        seed = getattr(request.state, "new_csrf_seed", None)
        if seed and not request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="lax",
                                secure=cookie_secure(request), max_age=60 * 60 * 24 * 365)
        response.headers.setdefault("x-content-type-options", "nosniff")
        response.headers.setdefault("referrer-policy", "same-origin")
        response.headers.setdefault("content-security-policy", _CSP)
        response.headers.setdefault("x-frame-options", "DENY")
        return response

    _install_error_handlers(app)
    if settings.forwarded_allow_ips.strip():
        # Outermost: the client address everything else sees (rate limits) is the one a
        # configured proxy vouches for; anyone else's X-Forwarded-For is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    from paperwire.web import api, api_foryou, routes_delivery
    from paperwire.web.views import accounts, admin, api_docs, daily, foryou, library, onboarding, papers, search, submit, users
    from paperwire.web.views import account_email
    from paperwire.web.views import topics, trends

    app.include_router(api.router)
    app.include_router(api_foryou.router)
    from paperwire.web import api_topics

    app.include_router(api_topics.router)
    for module in (daily, papers, search, submit, accounts, users, admin, foryou, library, onboarding, api_docs):
        app.include_router(module.router)
    app.include_router(routes_delivery.router)
    app.include_router(account_email.router)
    app.include_router(topics.router)
    app.include_router(trends.router)
    from paperwire.web.views import map as map_view

    app.include_router(map_view.router)
    app.include_router(map_view.api_router)
    from paperwire.web.views import demo_mailbox

    app.include_router(demo_mailbox.router)  # 404 unless $PAPERWIRE_DEMO_MAILBOX is set (paperwire demo)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    return app


__all__ = ["create_app", "HTTPException"]
