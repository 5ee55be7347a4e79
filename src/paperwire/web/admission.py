"""Admission control: a web process handles a bounded number of requests at once.

Why: without a bound, an overloaded process accepts every request into its
thread pool (40 threads) while only a pool's worth of database connections
exists. Requests then queue for a connection until SQLAlchemy gives up and the
client sees a 500 after half a minute, while the process keeps working on
requests whose clients left long ago (seen at 1M papers: hybrid search pages
under 50 clients answered 485 of 500 requests with 500s). Admitting at most
``Settings.request_limit()`` at a time keeps every admitted request's wait for
a connection short; the rest wait a few seconds for a turn and otherwise get
a quick 503 with ``Retry-After``. The busy answer never touches the database.
"""

from __future__ import annotations

import asyncio
import html

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 2
BUSY_MESSAGE = "The server is busy right now. Please try again in a moment."
#: Paths served without asking for a turn: they never touch the database.
_EXEMPT_PREFIXES = ("/static/", "/healthz")


class AdmissionGate:
    """At most ``limit`` requests inside; the next ones wait up to ``wait_seconds`` for a turn."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        #: Requests inside now, and requests turned away so far (for tests and operators).
        self.in_flight = 0
        self.turned_away = 0
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a test client starts a new loop per use.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop, self.in_flight = asyncio.Semaphore(self.limit), loop, 0
        return self._slots

    async def enter(self) -> bool:
        """Wait for a turn; False when none came within ``wait_seconds``."""
        slots = self._semaphore()
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_seconds)
        except TimeoutError:
            self.turned_away += 1
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1
        assert self._slots is not None
        self._slots.release()


def is_exempt(path: str) -> bool:
    return path.startswith(_EXEMPT_PREFIXES)


def is_machine_client(request: Request) -> bool:
    """Machine clients (API, feed readers) get JSON errors, busy answers included."""
    return request.url.path.startswith(("/api/", "/feeds/"))


def busy_response(request: Request) -> Response:
    """503 with Retry-After, JSON for machine clients; built without the database."""
    headers = {"retry-after": str(RETRY_AFTER_SECONDS)}
    if is_machine_client(request):
        return JSONResponse({"error": BUSY_MESSAGE, "detail": None}, status_code=503, headers=headers)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>Busy · paperwire</title><h1>Busy</h1><p>{html.escape(BUSY_MESSAGE)}</p>"
        '<p><a href="/">paperwire home</a></p></html>'
    )
    return HTMLResponse(page, status_code=503, headers=headers)
