"""The arXiv API (Atom feeds): a file reader, a newest-first harvester, and
lookup by id for "submit a paper".

An entry's id carries only its latest version (``…/abs/2310.12345v2``) with
the ``updated`` date; ``published`` is the v1 date. The harvester asks for
``sortBy=submittedDate&sortOrder=descending`` and stops at the first entry
older than the start date, so a daily run fetches a page or two. Each page is
one transaction; the start date advances only after a complete run, because
an interrupted newest-first run has a gap below what it stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from paperwire.ids import InvalidArxivId, is_arxiv_id, parse_arxiv_id
from paperwire.records import InvalidRecord, PaperRecord, PaperVersion
from paperwire.sources.harvest_state import HarvestReport, load_state, save_state
from paperwire.sources.http import HarvestError, PoliteClient, parse_xml, xml_text
from paperwire.sources.importer import ChangedCallback, Item, import_items
from paperwire.sources.textfile import read_xml_bytes
from paperwire.store.db import Database
from paperwire.store.locks import busy_message, job_lock

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
#: Ids of entries the API uses to report an error instead of a paper.
ERROR_ID_PREFIX = "http://arxiv.org/api/errors"
SOURCE = "arxiv-api"


class ApiErrorEntry(InvalidRecord):
    """An entry by which the API reports an error (bad query, malformed id)."""


def _timestamp(text: str | None) -> datetime | None:
    """Naive UTC datetime from an Atom timestamp (``2023-10-18T17:59:59Z``)."""
    if not text:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_entry(entry, origin: str) -> Item:
    """One Atom ``<entry>`` as a record (or the reason it is unusable)."""
    raw_id = xml_text(entry, f"{ATOM}id") or ""
    if raw_id.startswith(ERROR_ID_PREFIX):
        return ApiErrorEntry(origin, f"arXiv API error: {xml_text(entry, f'{ATOM}summary') or raw_id}")
    try:
        arxiv_id, version = parse_arxiv_id(raw_id)
    except InvalidArxivId:
        return InvalidRecord(origin, f"entry id {raw_id!r} is not an arXiv id")
    title = xml_text(entry, f"{ATOM}title")
    if not title:
        return InvalidRecord(origin, f"entry {arxiv_id} has no title")
    try:
        published = _timestamp(xml_text(entry, f"{ATOM}published"))
        updated = _timestamp(xml_text(entry, f"{ATOM}updated"))
    except ValueError as exc:
        return InvalidRecord(origin, f"entry {arxiv_id}: bad date ({exc})")
    versions = [PaperVersion(1, published)]
    if version and version > 1:
        versions.append(PaperVersion(version, updated))
    primary = entry.find(f"{ARXIV}primary_category")
    categories = [primary.get("term")] if primary is not None and primary.get("term") else []
    for category in entry.findall(f"{ATOM}category"):
        term = category.get("term")
        if term and term not in categories:
            categories.append(term)
    authors = [name for a in entry.findall(f"{ATOM}author") if (name := xml_text(a, f"{ATOM}name"))]
    return PaperRecord(
        title=title,
        abstract=xml_text(entry, f"{ATOM}summary") or "",
        arxiv_id=arxiv_id,
        authors=authors,
        categories=categories,
        submitted=published,
        updated=updated,
        versions=versions,
        doi=xml_text(entry, f"{ARXIV}doi"),
        journal_ref=xml_text(entry, f"{ARXIV}journal_ref"),
        comments=xml_text(entry, f"{ARXIV}comment"),
        source=SOURCE,
        origin=origin,
    )


def parse_atom(xml_bytes: bytes, origin: str) -> tuple[list[Item], int]:
    """Records of one API response and its ``opensearch:totalResults``.

    Raises :class:`ValueError` (naming ``origin``) for malformed XML or a
    document that is not an Atom feed.
    """
    root = parse_xml(xml_bytes, origin)
    if root.tag != f"{ATOM}feed":
        raise ValueError(f"{origin}: not an arXiv API Atom feed (root element {root.tag!r})")
    total_text = xml_text(root, f"{OPENSEARCH}totalResults")
    try:
        total = int(total_text) if total_text else 0
    except ValueError:
        raise ValueError(f"{origin}: bad opensearch:totalResults {total_text!r}") from None
    items = [parse_entry(e, f"{origin}:{e.sourceline}") for e in root.findall(f"{ATOM}entry")]
    return items, total


def read_atom_file(path: Path) -> Iterator[Item]:
    """Records of a saved API response (parsed at once so bad XML fails early)."""
    path = Path(path)
    items, _total = parse_atom(read_xml_bytes(path), str(path))
    return iter(items)


def _raise_api_errors(items: list[Item]) -> None:
    for item in items:
        if isinstance(item, ApiErrorEntry):
            raise HarvestError(str(item))


def harvest_arxiv(
    db: Database,
    *,
    query: str,
    from_date: date | None,
    base_url: str,
    delay: float,
    max_results: int = 0,
    page_size: int = 100,
    log: Callable[[str], None] = print,
    on_changed: ChangedCallback | None = None,
    client: PoliteClient | None = None,
    empty_page_retries: int = 3,
) -> HarvestReport:
    """Fetch ``query`` newest first down to ``from_date`` (default: last run).

    A page that comes back empty before ``totalResults`` is asked for again
    (up to ``empty_page_retries`` times, at the polite delay) and then fails
    the harvest, so the stored date never moves past papers not fetched.
    """
    if page_size < 1 or max_results < 0:
        raise ValueError("page_size must be positive and max_results not negative")
    key = f"arxiv:{base_url}:{query}"
    with job_lock(db, f"harvest:{key}") as acquired:
        if not acquired:  # a second run would fetch and write the same pages concurrently
            raise HarvestError(busy_message(db, f"harvest:{key}", f"harvest of {query!r} from {base_url}"), code="busy")
        since = from_date or load_state(db, key).last_from
        report = HarvestReport(from_date=since)
        if since is None and not max_results:
            log("No --from date and no earlier harvest: fetching everything the query matches.")
        own_client = client is None
        client = client or PoliteClient(delay=delay, log=log)
        newest: datetime | None = None
        start = 0
        empty_pages = 0
        try:
            while True:
                size = page_size if not max_results else min(page_size, max_results - report.records)
                params = {
                    "search_query": query, "start": start, "max_results": size,
                    "sortBy": "submittedDate", "sortOrder": "descending",
                }
                # The API reports a bad query as HTTP 400 with an error entry.
                response = client.get(base_url, params, ok_statuses=frozenset({400}))
                try:
                    items, total = parse_atom(response.content, f"{base_url}?start={start}")
                except ValueError as exc:
                    raise HarvestError(str(exc), url=str(response.request.url), status=response.status_code) from exc
                _raise_api_errors(items)
                if response.status_code == 400:
                    url = str(response.request.url)
                    raise HarvestError(f"{url} answered HTTP 400", url=url, status=400)
                report.pages += 1
                if not items and start < total:
                    # arXiv sometimes answers a page with no entries before the end
                    # of the list; that is a transient fault, never the end.
                    empty_pages += 1
                    if empty_pages > empty_page_retries:
                        raise HarvestError(
                            f"{base_url}: page at start={start} came back with no entries "
                            f"{empty_pages} times although the query has {total} results",
                            url=str(response.request.url),
                        )
                    log(f"page at start={start} came back empty ({empty_pages}/{empty_page_retries}); asking again")
                    continue
                empty_pages = 0
                if not items:
                    break
                records = [i for i in items if isinstance(i, PaperRecord)]
                for bad in (i for i in items if not isinstance(i, PaperRecord)):
                    log(f"skipped: {bad}")
                fresh = [r for r in records if since is None or r.submitted is None or r.submitted.date() >= since]
                if fresh:
                    report.add_import(import_items(db, fresh, batch_size=len(fresh), on_changed=on_changed))
                    dates = [r.submitted for r in fresh if r.submitted]
                    if dates and (newest is None or max(dates) > newest):
                        newest = max(dates)
                start += len(items)
                log(f"page {report.pages}: {len(fresh)} records (+{report.inserted} new so far)")
                reached_old = len(fresh) < len(records)
                if reached_old or start >= total or (max_results and report.records >= max_results):
                    break
        finally:
            if own_client:
                client.close()
        save_state(db, key, records=report.records, last_from=newest.date() if newest else since)
        return report


def fetch_arxiv_ids(
    ids: list[str], *, base_url: str, delay: float = 0, client: PoliteClient | None = None
) -> list[PaperRecord]:
    """Current metadata of the given papers (unknown or malformed ids are left out).

    Meant for a web request, so it retries once, briefly. Raises
    :class:`HarvestError` when arXiv cannot be reached.
    """
    wanted: list[str] = []
    for text in ids:
        if is_arxiv_id(text):
            canonical = parse_arxiv_id(text)[0]
            if canonical not in wanted:
                wanted.append(canonical)
    if not wanted:
        return []
    own_client = client is None
    client = client or PoliteClient(delay=delay, retries=1, backoff=0.5, max_wait=5.0, timeout=15.0)
    try:
        # The API answers 400 with an error entry for ids it finds malformed.
        response = client.get(
            base_url, {"id_list": ",".join(wanted), "max_results": len(wanted)}, ok_statuses=frozenset({400})
        )
    finally:
        if own_client:
            client.close()
    try:
        items, _total = parse_atom(response.content, base_url)
    except ValueError as exc:
        raise HarvestError(str(exc), url=base_url) from exc
    return [i for i in items if isinstance(i, PaperRecord) and i.arxiv_id in wanted]
