"""arXiv's OAI-PMH interface: ``ListRecords`` in the ``arXiv`` and ``arXivRaw``
metadata formats, as a file reader (``GetRecord`` responses too) and as a
resumable harvester.

``arXiv`` has structured authors and created/updated dates; ``arXivRaw`` has
the full version history (each version's date) and authors as one string.
The harvester follows resumption tokens page by page, one transaction per
page, and stores the token after each page: a run that dies half-way is
continued by the next run from the stored token instead of starting over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.names import name_parts
from paperwire.records import InvalidRecord, PaperRecord, PaperVersion
from paperwire.sources.harvest_state import HarvestReport, load_state, save_state
from paperwire.sources.http import HarvestError, PoliteClient, parse_xml, xml_text
from paperwire.sources.importer import ChangedCallback, Item, import_items
from paperwire.sources.textfile import read_xml_bytes
from paperwire.store.db import Database
from paperwire.store.locks import busy_message, job_lock
from paperwire.store.papers import utcnow

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
METADATA_PREFIXES = ("arXiv", "arXivRaw")
SOURCE = "oai"


@dataclass
class ListRecordsPage:
    """One ``ListRecords`` response; unpacks as (records, token, complete size)."""

    records: list[Item]
    resumption_token: str | None
    complete_list_size: int | None
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter((self.records, self.resumption_token, self.complete_list_size))


def _day(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _arxiv_record(meta, origin: str) -> PaperRecord:
    """A record in the ``arXiv`` format (structured authors, created/updated)."""
    authors, author_names = [], []
    for author in meta.findall(f"{ARXIV}authors/{ARXIV}author"):
        given, family, suffix = (xml_text(author, f"{ARXIV}{name}") for name in ("forenames", "keyname", "suffix"))
        name = " ".join(p for p in (given, family, suffix) if p)
        if name:
            authors.append(name)
            author_names.append(name_parts(family, given, suffix))
    created = _day(xml_text(meta, f"{ARXIV}created"))
    updated = _day(xml_text(meta, f"{ARXIV}updated"))
    return PaperRecord(
        title=xml_text(meta, f"{ARXIV}title") or "",
        abstract=xml_text(meta, f"{ARXIV}abstract") or "",
        authors=authors,
        author_names=author_names or None,
        categories=(xml_text(meta, f"{ARXIV}categories") or "").split(),
        submitted=created,
        updated=updated or created,
        # Without <updated> the paper has only v1; otherwise the number is unknown.
        versions=[PaperVersion(1, created)] if created and not updated else [],
        doi=xml_text(meta, f"{ARXIV}doi"),
        journal_ref=xml_text(meta, f"{ARXIV}journal-ref"),
        comments=xml_text(meta, f"{ARXIV}comments"),
        license=xml_text(meta, f"{ARXIV}license"),
        arxiv_id=xml_text(meta, f"{ARXIV}id"),
        source=SOURCE,
        origin=origin,
    )


_PARENS = re.compile(r"\([^()]*\)")
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


def split_authors(text: str) -> list[str]:
    """``"A. Smith (MIT), B. Jones and C. Brown"`` → three names, affiliations dropped."""
    previous = None
    while previous != text:  # nested parentheses
        previous, text = text, _PARENS.sub(" ", text)
    names = (" ".join(part.split()) for part in _AUTHOR_SPLIT.split(text))
    return [name for name in names if name]


def _raw_record(meta, origin: str) -> PaperRecord:
    """A record in the ``arXivRaw`` format (every version with its date)."""
    versions = []
    for element in meta.findall(f"{ARXIV_RAW}version"):
        label = (element.get("version") or "").lstrip("v")
        if not label.isdigit():
            raise ValueError(f"bad version label {element.get('version')!r}")
        when = xml_text(element, f"{ARXIV_RAW}date")
        created = parsedate_to_datetime(when).replace(tzinfo=None) if when else None
        versions.append(PaperVersion(int(label), created))
    versions.sort(key=lambda v: v.version)
    return PaperRecord(
        title=xml_text(meta, f"{ARXIV_RAW}title") or "",
        abstract=xml_text(meta, f"{ARXIV_RAW}abstract") or "",
        authors=split_authors(xml_text(meta, f"{ARXIV_RAW}authors") or ""),
        categories=(xml_text(meta, f"{ARXIV_RAW}categories") or "").split(),
        submitted=versions[0].created if versions else None,
        updated=versions[-1].created if versions else None,
        versions=versions,
        doi=xml_text(meta, f"{ARXIV_RAW}doi"),
        journal_ref=xml_text(meta, f"{ARXIV_RAW}journal-ref"),
        comments=xml_text(meta, f"{ARXIV_RAW}comments"),
        license=xml_text(meta, f"{ARXIV_RAW}license"),
        arxiv_id=xml_text(meta, f"{ARXIV_RAW}id"),
        source=SOURCE,
        origin=origin,
    )


def parse_record(record, origin: str) -> Item | None:
    """One ``<record>``: a paper, an invalid record, or ``None`` if deleted."""
    header = record.find(f"{OAI}header")
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = record.find(f"{OAI}metadata")
    meta = metadata[0] if metadata is not None and len(metadata) else None
    if meta is None:
        return InvalidRecord(origin, "record has no metadata")
    try:
        if meta.tag == f"{ARXIV}arXiv":
            paper = _arxiv_record(meta, origin)
        elif meta.tag == f"{ARXIV_RAW}arXivRaw":
            paper = _raw_record(meta, origin)
        else:
            return InvalidRecord(origin, f"unsupported metadata format {meta.tag!r} (use arXiv or arXivRaw)")
        paper.arxiv_id = parse_arxiv_id(paper.arxiv_id or "")[0]
    except InvalidArxivId as exc:
        return InvalidRecord(origin, str(exc))
    except (ValueError, TypeError) as exc:
        return InvalidRecord(origin, f"bad date or version: {exc}")
    if not paper.title:
        return InvalidRecord(origin, f"record {paper.arxiv_id} has no title")
    return paper


def parse_list_records(xml_bytes: bytes, origin: str) -> ListRecordsPage:
    """Records, resumption token (``None`` at the end) and list size of a response.

    ``noRecordsMatch`` is an empty page; any other OAI error raises
    :class:`HarvestError`; malformed XML raises :class:`ValueError`.
    """
    root = parse_xml(xml_bytes, origin)
    if root.tag != f"{OAI}OAI-PMH":
        raise ValueError(f"{origin}: not an OAI-PMH response (root element {root.tag!r})")
    for error in root.findall(f"{OAI}error"):
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return ListRecordsPage([], None, 0)
        message = " ".join((error.text or "").split())
        raise HarvestError(f"{origin}: OAI-PMH error {code}: {message}", code=code)
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        listing = root.find(f"{OAI}GetRecord")  # one record, same <record> element
    if listing is None:
        raise ValueError(f"{origin}: OAI-PMH response without ListRecords or GetRecord")
    page = ListRecordsPage([], None, None)
    for record in listing.findall(f"{OAI}record"):
        item = parse_record(record, f"{origin}:{record.sourceline}")
        if item is None:
            page.deleted += 1
        else:
            page.records.append(item)
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        page.resumption_token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page


def read_oai_file(path: Path) -> Iterator[Item]:
    """Records of a saved ``ListRecords`` or ``GetRecord`` response (deleted records skipped)."""
    path = Path(path)
    try:
        page = parse_list_records(read_xml_bytes(path), str(path))
    except HarvestError as exc:
        raise ValueError(str(exc)) from exc
    return iter(page.records)


def harvest_oai(
    db: Database,
    *,
    from_date: date | None,
    set_spec: str | None,
    metadata_prefix: str,
    base_url: str,
    delay: float,
    log: Callable[[str], None] = print,
    on_changed: ChangedCallback | None = None,
    client: PoliteClient | None = None,
) -> HarvestReport:
    """Harvest ``ListRecords`` since ``from_date`` (default: the last complete run).

    An interrupted earlier run is continued from its stored resumption token,
    unless an explicit ``from_date`` asks for a fresh list.
    """
    if metadata_prefix not in METADATA_PREFIXES:
        raise ValueError(f"metadata prefix must be one of {', '.join(METADATA_PREFIXES)}, not {metadata_prefix!r}")
    key = f"oai:{base_url}:{metadata_prefix}:{set_spec or ''}"
    with job_lock(db, f"harvest:{key}") as acquired:
        if not acquired:  # a second run would follow the same resumption tokens concurrently
            what = f"harvest of set {set_spec or '(all)'!r} ({metadata_prefix}) from {base_url}"
            raise HarvestError(busy_message(db, f"harvest:{key}", what), code="busy")
        state = load_state(db, key)
        token = state.token if from_date is None else None
        # A resumed list keeps the ``from`` it was started with (it is needed
        # again if the token has expired and the list must be asked anew).
        since = from_date or (state.token_from if token else None) or state.last_from
        report = HarvestReport(from_date=since)
        started = (state.token_started if token else None) or utcnow().date()
        report.resumed = token is not None
        if token:
            log(f"Resuming the interrupted harvest from token {token!r}")
        first_params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        if report.from_date:
            first_params["from"] = report.from_date.isoformat()
        if set_spec:
            first_params["set"] = set_spec
        own_client = client is None
        client = client or PoliteClient(delay=delay, log=log)
        try:
            while True:
                params = {"verb": "ListRecords", "resumptionToken": token} if token else first_params
                response = client.get(base_url, params)
                origin = f"{base_url} (page {report.pages + 1})"
                try:
                    page = parse_list_records(response.content, origin)
                except ValueError as exc:
                    raise HarvestError(str(exc), url=str(response.request.url)) from exc
                except HarvestError as exc:
                    if not (exc.code == "badResumptionToken" and report.resumed and report.pages == 0):
                        raise
                    # Tokens expire; start the list again (re-importing is idempotent).
                    since = report.from_date or "the beginning"
                    log(f"The stored resumption token has expired; starting again from {since}")
                    token, started, report.resumed = None, utcnow().date(), False
                    continue
                report.pages += 1
                report.deleted_skipped += page.deleted
                records = [r for r in page.records if isinstance(r, PaperRecord)]
                for bad in (r for r in page.records if not isinstance(r, PaperRecord)):
                    log(f"skipped: {bad}")
                if records:
                    report.add_import(import_items(db, records, batch_size=len(records), on_changed=on_changed))
                token = page.resumption_token
                # After every page: the token to continue from (or none: finished).
                save_state(
                    db, key, records=len(records), token=token, token_started=started,
                    token_from=report.from_date, last_from=None if token else started,
                )
                total = f" of {page.complete_list_size}" if page.complete_list_size else ""
                log(f"page {report.pages}: {len(records)} records ({report.records}{total} so far)")
                if not token:
                    break
        finally:
            if own_client:
                client.close()
        return report
