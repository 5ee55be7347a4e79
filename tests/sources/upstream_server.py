"""A real local stand-in for arXiv's API and OAI-PMH endpoints, for tests.

It listens on 127.0.0.1 (free port) in a background thread and answers in the
upstream formats: ``/api/query`` (Atom, ``search_query`` or ``id_list``,
paged with ``start``/``max_results``, newest first) and ``/oai``
(``ListRecords`` in ``arXiv``/``arXivRaw``, paged with resumption tokens),
and Hugging Face's ``/api/daily_papers?date=YYYY-MM-DD``, replaying saved
lists byte for byte from ``hf_daily_dir`` (``D.json``; a day without a file
is ``[]``, as Hugging Face answers for a day nobody featured anything).
Title searches (``search_query=ti:"..."``) can be given canned Atom bodies
with ``atom_responses`` (a callable from the query to bytes or None).
Faults can be queued (503 + Retry-After, 500, dropped connection, an OAI
error, broken XML) and every request is recorded.

Usage::

    with UpstreamServer([FakePaper("2401.00001", "Title", ...)], page_size=2) as server:
        fetch_arxiv_ids(["2401.00001"], base_url=server.api_url)
        server.requests  # what the server saw
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr


@dataclass
class FakePaper:
    """One paper the fake arXiv knows (latest version ``version``)."""

    arxiv_id: str
    title: str
    abstract: str = "An abstract."
    #: Authors as (forenames, keyname).
    authors: list[tuple[str, str]] = field(default_factory=lambda: [("Ada", "Lovelace")])
    categories: list[str] = field(default_factory=lambda: ["cs.LG"])
    published: datetime = datetime(2024, 1, 2, 10, 0, 0)
    updated: datetime | None = None
    version: int = 1
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    license: str | None = None
    #: OAI datestamp (last metadata change); defaults to the last version's day.
    datestamp: date | None = None
    deleted: bool = False

    @property
    def stamp(self) -> date:
        return self.datestamp or (self.updated or self.published).date()

    def author_names(self) -> list[str]:
        return [f"{first} {last}".strip() for first, last in self.authors]


@dataclass
class Fault:
    """Answer the matching request wrongly ``times`` times.

    kind: ``"503"`` (with ``Retry-After``), ``"500"``, ``"drop"`` (close the
    connection without an answer), ``"oai-error"`` (``<error code=…>``),
    ``"api-error"`` (HTTP 400 with the arXiv API's error entry carrying
    ``message``), ``"malformed"`` (broken XML), ``"empty-page"`` (an arXiv API
    page with the right ``totalResults`` but no entries, as arXiv sometimes
    answers), ``"truncated-json"`` (a JSON body cut off mid-way).
    """

    kind: str
    when: Callable[[RecordedRequest], bool] = lambda request: True
    times: int = 1
    retry_after: str = "1"
    code: str = "badArgument"
    message: str = "start must be an integer"


@dataclass
class RecordedRequest:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class UpstreamServer:
    """Fake arXiv API + OAI-PMH server (see the module docstring)."""

    def __init__(
        self, papers: list[FakePaper] | None = None, *, page_size: int = 2,
        hf_daily_dir: Path | None = None, atom_responses: Callable[[str], bytes | None] | None = None,
    ):
        self.papers: list[FakePaper] = list(papers or [])
        self.page_size = page_size
        self.hf_daily_dir = hf_daily_dir
        self.atom_responses = atom_responses
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self._tokens: dict[str, tuple[list[FakePaper], str, int]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    # -- lifecycle -------------------------------------------------------
    def start(self) -> UpstreamServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> UpstreamServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/query"

    @property
    def oai_url(self) -> str:
        return self.base_url + "/oai"

    def hf_days_requested(self) -> list[str]:
        """The ``date`` of every ``/api/daily_papers`` request, in order."""
        return [r.params.get("date", "") for r in self.requests_to("/api/daily_papers")]

    def add_fault(self, kind: str, **options) -> Fault:
        fault = Fault(kind, **options)
        self.faults.append(fault)
        return fault

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # -- request handling ------------------------------------------------
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                request = RecordedRequest(url.path, params, dict(self.headers.items()))
                status, headers, body = server._respond(request)
                if status == 0:  # dropped connection
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _respond(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self.faults if f.times > 0 and f.when(request)), None)
            if fault is not None:
                fault.times -= 1
                if fault.kind == "empty-page":
                    _status, body = self._api(request.params, entries=False)
                    return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, body
                return self._fault_response(fault)
            if request.path == "/api/query":
                status, body = self._api(request.params)
                return status, {"Content-Type": "application/atom+xml; charset=utf-8"}, body
            if request.path == "/oai":
                return 200, {"Content-Type": "text/xml; charset=utf-8"}, self._oai(request.params)
            if request.path == "/api/daily_papers" and self.hf_daily_dir is not None:
                return self._hf_daily(request.params)
            return 404, {"Content-Type": "text/plain"}, b"not found"

    def _fault_response(self, fault: Fault) -> tuple[int, dict[str, str], bytes]:
        if fault.kind == "503":
            return 503, {"Retry-After": fault.retry_after, "Content-Type": "text/plain"}, b"Service Unavailable"
        if fault.kind == "500":
            return 500, {"Content-Type": "text/plain"}, b"Internal Server Error"
        if fault.kind == "drop":
            return 0, {}, b""
        if fault.kind == "oai-error":
            return 200, {"Content-Type": "text/xml"}, _oai_error(fault.code, f"fault injected: {fault.code}")
        if fault.kind == "api-error":
            return 400, {"Content-Type": "application/atom+xml"}, _atom_feed([], 1, 0, 1, error=fault.message)
        if fault.kind == "malformed":
            return 200, {"Content-Type": "text/xml"}, b"<?xml version='1.0'?><OAI-PMH><ListRecords><record>"
        if fault.kind == "truncated-json":
            return 200, {"Content-Type": "application/json"}, b'[{"paper": {"id": "2501.0'
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    # -- Hugging Face daily papers --------------------------------------
    def _hf_daily(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        json_type = {"Content-Type": "application/json; charset=utf-8"}
        try:
            day = date.fromisoformat(params.get("date", ""))
        except ValueError:
            return 400, json_type, b'{"error": "Invalid date"}'
        saved = self.hf_daily_dir / f"{day.isoformat()}.json"
        return 200, json_type, saved.read_bytes() if saved.is_file() else b"[]"

    # -- arXiv API (Atom) -------------------------------------------------
    def _api(self, params: dict[str, str], *, entries: bool = True) -> tuple[int, bytes]:
        if self.atom_responses is not None and params.get("search_query"):
            canned = self.atom_responses(params["search_query"])
            if canned is not None:
                return 200, canned
        start = int(params.get("start", "0") or 0)
        size = int(params.get("max_results", "10") or 10)
        live = [p for p in self.papers if not p.deleted]
        if params.get("id_list"):
            ids = [i.strip() for i in params["id_list"].split(",")]
            bad = [i for i in ids if not _looks_like_id(i)]
            if bad:
                return 400, _atom_feed([], 1, 0, 1, error=f"incorrect id format for {bad[0]}")
            by_id = {p.arxiv_id: p for p in live}
            matches = [by_id[i] for i in ids if i in by_id]
        else:
            matches = [p for p in live if _matches_query(p, params.get("search_query", ""))]
            matches.sort(key=lambda p: p.published, reverse=True)
        page = matches[start : start + size] if entries else []
        return 200, _atom_feed(page, len(matches), start, size)

    # -- OAI-PMH -----------------------------------------------------------
    def _oai(self, params: dict[str, str]) -> bytes:
        if params.get("verb") != "ListRecords":
            return _oai_error("badVerb", "only ListRecords is implemented here")
        token = params.get("resumptionToken")
        if token:
            if token not in self._tokens:
                return _oai_error("badResumptionToken", f"unknown token {token}")
            matches, prefix, offset = self._tokens[token]
        else:
            prefix = params.get("metadataPrefix", "")
            if prefix not in ("arXiv", "arXivRaw"):
                return _oai_error("cannotDisseminateFormat", f"unsupported prefix {prefix!r}")
            since = date.fromisoformat(params["from"]) if params.get("from") else date.min
            set_spec = params.get("set")
            matches = [
                p for p in sorted(self.papers, key=lambda p: (p.stamp, p.arxiv_id))
                if p.stamp >= since and (not set_spec or _in_set(p, set_spec))
            ]
            offset = 0
            if not matches:
                return _oai_error("noRecordsMatch", "no records match the request")
        page = matches[offset : offset + self.page_size]
        following = offset + len(page)
        next_token = ""
        if following < len(matches):
            next_token = f"{len(self._tokens) + 1}|{following}"
            self._tokens[next_token] = (matches, prefix, following)
        records = "".join(_oai_record(p, prefix) for p in page)
        token_xml = (
            f'<resumptionToken cursor="{offset}" completeListSize="{len(matches)}">{escape(next_token)}</resumptionToken>'
        )
        return _oai_envelope(f"<ListRecords>{records}{token_xml}</ListRecords>")


def _looks_like_id(text: str) -> bool:
    from paperwire.ids import is_arxiv_id

    return is_arxiv_id(text)


def _matches_query(paper: FakePaper, query: str) -> bool:
    """``cat:cs.*`` / ``cat:cs.LG`` by category, anything else matches all."""
    if query.startswith("cat:"):
        wanted = query[4:]
        if wanted.endswith("*"):
            return any(c.startswith(wanted[:-1]) for c in paper.categories)
        return wanted in paper.categories
    return True


def _in_set(paper: FakePaper, set_spec: str) -> bool:
    """OAI sets: ``cs`` or ``physics:hep-th`` (archive of the categories)."""
    group = set_spec.split(":")[-1]
    return any(c.split(".")[0] == group for c in paper.categories)


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _atom_entry(p: FakePaper) -> str:
    arxiv = 'xmlns:arxiv="http://arxiv.org/schemas/atom"'
    vid = f"{p.arxiv_id}v{p.version}"
    authors = "".join(f"<author><name>{escape(n)}</name></author>" for n in p.author_names())
    extra = ""
    if p.doi:
        extra += f"<arxiv:doi {arxiv}>{escape(p.doi)}</arxiv:doi>"
    if p.comment:
        extra += f"<arxiv:comment {arxiv}>{escape(p.comment)}</arxiv:comment>"
    if p.journal_ref:
        extra += f"<arxiv:journal_ref {arxiv}>{escape(p.journal_ref)}</arxiv:journal_ref>"
    cats = "".join(f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>' for c in p.categories)
    return (
        f"<entry><id>http://arxiv.org/abs/{vid}</id><updated>{_ts(p.updated or p.published)}</updated>"
        f"<published>{_ts(p.published)}</published><title>{escape(p.title)}</title>"
        f"<summary>{escape(p.abstract)}</summary>{authors}{extra}"
        f'<link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"/>'
        f'<arxiv:primary_category {arxiv} term={quoteattr(p.categories[0])} scheme="http://arxiv.org/schemas/atom"/>'
        f"{cats}</entry>"
    )


def _atom_feed(papers: list[FakePaper], total: int, start: int, size: int, *, error: str | None = None) -> bytes:
    ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
    entries = "".join(_atom_entry(p) for p in papers)
    if error:
        entries = (
            f"<entry><id>http://arxiv.org/api/errors#{escape(error.replace(' ', '_'))}</id><title>Error</title>"
            f"<summary>{escape(error)}</summary><updated>2024-01-01T00:00:00-05:00</updated>"
            '<link href="http://arxiv.org/api/errors" rel="alternate" type="text/html"/>'
            "<author><name>arXiv api core</name></author></entry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        '<title type="html">ArXiv Query</title><id>http://arxiv.org/api/fake</id>'
        "<updated>2024-03-06T00:00:00-05:00</updated>"
        f"<opensearch:totalResults {ns}>{total}</opensearch:totalResults>"
        f"<opensearch:startIndex {ns}>{start}</opensearch:startIndex>"
        f"<opensearch:itemsPerPage {ns}>{size}</opensearch:itemsPerPage>{entries}</feed>"
    ).encode()


def _oai_envelope(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
        "<responseDate>2024-03-06T10:00:00Z</responseDate>"
        f'<request verb="ListRecords">http://127.0.0.1/oai</request>{inner}</OAI-PMH>'
    ).encode()


def _oai_error(code: str, message: str) -> bytes:
    return _oai_envelope(f"<error code={quoteattr(code)}>{escape(message)}</error>")


def _optional(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def _oai_record(p: FakePaper, prefix: str) -> str:
    sets = "".join(f"<setSpec>{escape(c.split('.')[0])}</setSpec>" for c in p.categories[:1])
    status = ' status="deleted"' if p.deleted else ""
    header = (
        f"<header{status}><identifier>oai:arXiv.org:{escape(p.arxiv_id)}</identifier>"
        f"<datestamp>{p.stamp.isoformat()}</datestamp>{sets}</header>"
    )
    if p.deleted:
        return f"<record>{header}</record>"
    common = (
        f"<title>{escape(p.title)}</title>{{authors}}<categories>{escape(' '.join(p.categories))}</categories>"
        + _optional("comments", p.comment) + _optional("journal-ref", p.journal_ref)
        + _optional("doi", p.doi) + _optional("license", p.license)
        + f"<abstract>{escape(p.abstract)}</abstract>"
    )
    if prefix == "arXiv":
        authors = "".join(
            f"<author><keyname>{escape(last)}</keyname>" + _optional("forenames", first) + "</author>"
            for first, last in p.authors
        )
        updated = f"<updated>{p.updated.date().isoformat()}</updated>" if p.updated and p.version > 1 else ""
        meta = (
            '<arXiv xmlns="http://arxiv.org/OAI/arXiv/">'
            f"<id>{escape(p.arxiv_id)}</id><created>{p.published.date().isoformat()}</created>{updated}"
            + common.replace("{authors}", f"<authors>{authors}</authors>") + "</arXiv>"
        )
    else:
        versions = ""
        for number in range(1, p.version + 1):
            when = p.published if number == 1 or p.updated is None else p.updated
            versions += (
                f'<version version="v{number}"><date>{when.strftime("%a, %-d %b %Y %H:%M:%S GMT")}</date>'
                "<size>12kb</size></version>"
            )
        meta = (
            '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">'
            f"<id>{escape(p.arxiv_id)}</id><submitter>{escape(p.author_names()[0] if p.authors else '')}</submitter>"
            + versions + common.replace("{authors}", f"<authors>{escape(', '.join(p.author_names()))}</authors>")
            + "</arXivRaw>"
        )
    return f"<record>{header}<metadata>{meta}</metadata></record>"
