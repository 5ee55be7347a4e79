"""A small, polite HTTP client for harvesting arXiv.

arXiv's terms ask for one request every three seconds over one connection,
and its servers answer ``503`` with ``Retry-After`` when a client is too
eager. :class:`PoliteClient` keeps that pace, honours ``Retry-After``, retries
dropped connections and server errors with exponential backoff, and turns
"gave up" into one clear :class:`HarvestError`. Waiting goes through an
injectable ``sleep`` and every wait is capped by ``max_wait``, so tests run in
milliseconds while production waits as long as the server asks (up to the cap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from paperwire import __version__

USER_AGENT = f"paperwire/{__version__} (self-hosted research-paper discovery; python-httpx)"
#: Status codes worth retrying: the server is overloaded or briefly broken.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HarvestError(RuntimeError):
    """A harvest could not go on (network gave up, bad response, OAI error)."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.url = url
        self.status = status
        #: Protocol-level error code (e.g. OAI-PMH ``badResumptionToken``).
        self.code = code


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class PoliteClient:
    """GET with a pause between requests, bounded retries and backoff.

    ``delay``: seconds between the start of consecutive requests.
    ``retries``: extra attempts after the first for one URL.
    ``backoff``: first wait after a failure without ``Retry-After``; doubles.
    ``max_wait``: cap on any single wait (``Retry-After`` included).
    """

    def __init__(
        self,
        *,
        delay: float | None = None,
        retries: int = 4,
        backoff: float = 2.0,
        max_wait: float = 300.0,
        timeout: float = 60.0,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ):
        if delay is None:
            from paperwire.settings import get_settings

            delay = get_settings().harvest_delay
        if delay < 0 or retries < 0 or backoff < 0 or max_wait < 0:
            raise ValueError("delay, retries, backoff and max_wait must not be negative")
        self.delay = delay
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.log = log
        self.requests = 0
        self._last_start: float | None = None
        self._http = httpx.Client(
            timeout=timeout, headers={"User-Agent": user_agent}, follow_redirects=True
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(min(seconds, self.max_wait))

    def _pace(self) -> None:
        """Sleep so that requests start at least ``delay`` seconds apart."""
        if self._last_start is not None and self.delay > 0:
            self._wait(self.delay - (self.clock() - self._last_start))
        self._last_start = self.clock()

    def get(
        self, url: str, params: Mapping[str, str | int] | None = None, *, ok_statuses: frozenset[int] = frozenset()
    ) -> httpx.Response:
        """The response to ``GET url?params`` (2xx, or a status in ``ok_statuses``).

        Raises :class:`HarvestError` for other 4xx answers at once, and after
        ``retries`` failed retries for connection errors and 5xx/429.
        """
        last_problem = ""
        for attempt in range(self.retries + 1):
            self._pace()
            self.requests += 1
            try:
                response = self._http.get(url, params=params)
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                wait = self.backoff * (2**attempt)
            else:
                if response.is_success or response.status_code in ok_statuses:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise HarvestError(
                        f"{response.request.url} answered HTTP {response.status_code}: {_snippet(response)}",
                        url=str(response.request.url), status=response.status_code,
                    )
                last_problem = f"HTTP {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = retry_after if retry_after is not None else self.backoff * (2**attempt)
            if attempt == self.retries:
                break
            if self.log:
                self.log(f"{last_problem} from {url}; retrying in {min(wait, self.max_wait):.0f} s")
            self._wait(wait)
        raise HarvestError(
            f"gave up on {url} after {self.retries + 1} attempts: {last_problem}", url=url
        )


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def parse_xml(data: bytes, origin: str):
    """Parse an XML response or file safely (no entities, no network).

    Raises :class:`ValueError` naming ``origin`` when the XML is malformed, so
    the CLI can say which file or URL was broken.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"{origin}: malformed XML: {exc}") from exc
    if root is None:
        raise ValueError(f"{origin}: empty XML document")
    return root


def xml_text(element, path: str) -> str | None:
    """Whitespace-collapsed text of ``element.find(path)``, or None when empty."""
    found = element.find(path)
    if found is None or found.text is None:
        return None
    text = " ".join(found.text.split())
    return text or None
