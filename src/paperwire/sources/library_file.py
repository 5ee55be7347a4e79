"""Reading a reference library someone exports from elsewhere: BibTeX, RIS,
CSL-JSON (Zotero's "Better CSL JSON" / citeproc export) or a plain list of
arXiv ids/URLs, one per line.

Each reference becomes a :class:`LibraryEntry` (arXiv id, DOI, title — any
may be missing). :func:`match_entries` finds them in the catalogue by arXiv
id, then DOI, then normalised title (:func:`paperwire.ids.title_key`); arXiv
ids the catalogue does not have are returned separately so the caller can
queue them for harvest. Parsing is lenient about what it skips (a reference
with nothing usable) but reports a file it cannot read at all with a clear
:class:`LibraryFileError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.ids import InvalidArxivId, canonical_arxiv_id, is_arxiv_id, title_key
from paperwire.store.models import Paper

FORMATS = ("bibtex", "ris", "csljson", "ids")
MAX_BYTES = 5 * 2**20
MAX_ENTRIES = 5000
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:\s]\s*)((?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)",
    re.IGNORECASE,
)
_DOI_ARXIV = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


class LibraryFileError(ValueError):
    """A library file that cannot be read; the message says why."""


@dataclass
class LibraryEntry:
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None


@dataclass
class MatchResult:
    #: Catalogue ids of matched papers, in file order, each once.
    paper_ids: list[int] = field(default_factory=list)
    #: arXiv ids not in the catalogue (to queue for harvest).
    missing_arxiv_ids: list[str] = field(default_factory=list)
    #: References with no arXiv id that matched nothing.
    unmatched: list[LibraryEntry] = field(default_factory=list)


def _scalar_text(value) -> str | None:
    """A CSL-JSON field as text: strings and numbers only (lists, objects, booleans are not ids or titles)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _arxiv(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if doi := _DOI_ARXIV.match(value):
        value = doi.group(1)
    try:
        return canonical_arxiv_id(value)
    except InvalidArxivId:
        found = _ARXIV_IN_TEXT.search(value)
        return canonical_arxiv_id(found.group(1)) if found else None


def _doi(value: str | None) -> str | None:
    if not value:
        return None
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.IGNORECASE)
    return value.lower() if value.startswith("10.") else None


def _entry(arxiv: str | None, doi: str | None, title: str | None, extra: str = "") -> LibraryEntry | None:
    doi_clean = _doi(doi)
    arxiv_id = _arxiv(arxiv) or _arxiv(doi) or (_arxiv(extra) if extra else None)
    title = " ".join(re.sub(r"[{}]", "", title or "").split()) or None
    if not (arxiv_id or doi_clean or title):
        return None
    return LibraryEntry(arxiv_id=arxiv_id, doi=doi_clean, title=title)


# --- BibTeX ------------------------------------------------------------------

def _bibtex_fields(body: str) -> dict[str, str]:
    """Fields of one entry body; values in braces (nested) or quotes or bare."""
    fields: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        match = re.compile(r"\s*,?\s*([A-Za-z][\w\-]*)\s*=\s*").match(body, i)
        if not match:
            break
        name, i = match.group(1).lower(), match.end()
        if i < n and body[i] == "{":
            depth, start = 0, i
            while i < n:
                if body[i] == "{":
                    depth += 1
                elif body[i] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            fields[name], i = body[start + 1:i], i + 1
        elif i < n and body[i] == '"':
            end = body.find('"', i + 1)
            end = n if end < 0 else end
            fields[name], i = body[i + 1:end], end + 1
        else:
            bare = re.compile(r"[^,}\s]+").match(body, i)
            fields[name], i = (bare.group(0), bare.end()) if bare else ("", i + 1)
    return fields


_BIB_TOKEN = re.compile(r"@\s*([A-Za-z]+)\s*[{(]|[{}]")


def _bibtex_bodies(text: str) -> Iterator[tuple[str, str]]:
    """(entry type, body) of each top-level ``@type{...}``, in one linear pass.

    Scanning from every ``@`` to its closing brace was quadratic: a file of
    unclosed ``@a{`` took minutes. An ``@`` inside an entry is just text.
    """
    depth, kind, start = 0, "", 0
    for token in _BIB_TOKEN.finditer(text):
        if token.group(1) is not None and depth == 0:
            kind, start, depth = token.group(1).lower(), token.end(), 1
        elif token.group(0).endswith("{"):
            depth += 1 if depth else 0
        elif token.group(0) == "}" and depth:
            depth -= 1
            if depth == 0:
                yield kind, text[start:token.start()]
    if depth:
        yield kind, text[start:]


def parse_bibtex(text: str) -> list[LibraryEntry]:
    entries = []
    for seen, (kind, body) in enumerate(_bibtex_bodies(text)):
        if seen > 2 * MAX_ENTRIES:
            raise LibraryFileError(f"too many entries (limit {MAX_ENTRIES})")
        if kind in ("comment", "string", "preamble"):
            continue
        body = body.split(",", 1)[1] if "," in body else ""
        f = _bibtex_fields(body)
        arxiv = f.get("eprint") if (f.get("archiveprefix", "arxiv").lower() == "arxiv" or "eprint" in f) else None
        entry = _entry(arxiv or f.get("arxivid") or f.get("arxiv"), f.get("doi"), f.get("title"),
                       " ".join(f.get(k, "") for k in ("url", "journal", "note", "howpublished")))
        if entry:
            entries.append(entry)
    return entries


# --- RIS ---------------------------------------------------------------------

def parse_ris(text: str) -> list[LibraryEntry]:
    entries, current = [], {}
    for line in text.splitlines():
        match = re.match(r"^([A-Z][A-Z0-9])  - ?(.*)$", line.rstrip())
        if not match:
            continue
        tag, value = match.group(1), match.group(2).strip()
        if tag == "TY":
            current = {}
        elif tag == "ER":
            entry = _entry(current.get("arxiv"), current.get("DO"), current.get("TI") or current.get("T1"),
                           " ".join(current.get(k, "") for k in ("UR", "L1", "N1", "JO", "T2", "M1")))
            if entry:
                entries.append(entry)
            current = {}
        else:
            if tag in ("UR", "N1", "M1") and "arxiv" in value.lower() and "arxiv" not in current:
                current["arxiv"] = value
            current.setdefault(tag, value)
    return entries


# --- CSL-JSON ----------------------------------------------------------------

def parse_csljson(text: str) -> list[LibraryEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LibraryFileError(f"not valid CSL-JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError:
        raise LibraryFileError("not valid CSL-JSON: nested too deeply") from None
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise LibraryFileError("CSL-JSON must be a list of items")
    entries = []
    for item in data:
        if not isinstance(item, dict):
            continue
        field = lambda key: _scalar_text(item.get(key))  # noqa: E731
        publisher = field("publisher") or ""
        arxiv = field("arxiv") or field("arXiv") or (field("number") if "arxiv" in publisher.lower() else None)
        extra = " ".join(field(k) or "" for k in ("URL", "note", "container-title", "archive_location", "id"))
        entry = _entry(arxiv, field("DOI"), field("title"), extra)
        if entry:
            entries.append(entry)
    return entries


# --- id lists ----------------------------------------------------------------

def parse_ids(text: str) -> list[LibraryEntry]:
    entries, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        arxiv = _arxiv(line)
        if arxiv is None:
            bad.append(f"line {number}: {line[:60]!r}")
            continue
        entries.append(LibraryEntry(arxiv_id=arxiv))
    if bad and not entries:
        raise LibraryFileError("no arXiv ids found (" + "; ".join(bad[:3]) + ")")
    return entries


def detect_format(text: str, filename: str = "") -> str:
    name = filename.lower()
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith((".ris",)):
        return "ris"
    if name.endswith(".json"):
        return "csljson"
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "csljson"
    if re.search(r"^TY  - ", text, re.MULTILINE):
        return "ris"
    if re.search(r"@\s*[A-Za-z]+\s*[{(]", text):
        return "bibtex"
    return "ids"


def parse_library(data: bytes | str, filename: str = "", fmt: str | None = None) -> list[LibraryEntry]:
    """Parse a library file (format from ``fmt``, the file name, or the content)."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise LibraryFileError(f"file too large (limit {MAX_BYTES // 2**20} MiB)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    if not text.strip():
        raise LibraryFileError("the file is empty")
    fmt = fmt or detect_format(text, filename)
    parser = {"bibtex": parse_bibtex, "ris": parse_ris, "csljson": parse_csljson, "ids": parse_ids}.get(fmt)
    if parser is None:
        raise LibraryFileError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    entries = parser(text)
    if not entries:
        raise LibraryFileError(f"no references found in this {fmt} file")
    if len(entries) > MAX_ENTRIES:
        raise LibraryFileError(f"too many references ({len(entries)}; limit {MAX_ENTRIES})")
    return entries


def match_entries(session: Session, entries: list[LibraryEntry]) -> MatchResult:
    """Find references in the catalogue: arXiv id, then DOI, then normalised title."""
    arxiv_ids = {e.arxiv_id for e in entries if e.arxiv_id}
    dois = {e.doi for e in entries if e.doi}
    keys = {title_key(e.title) for e in entries if e.title}
    by_arxiv = dict(session.execute(select(Paper.arxiv_id, Paper.id).where(Paper.arxiv_id.in_(arxiv_ids))).all()) if arxiv_ids else {}
    by_doi = dict(session.execute(select(func.lower(Paper.doi), Paper.id).where(func.lower(Paper.doi).in_(dois))).all()) if dois else {}
    by_key = dict(session.execute(select(Paper.title_key, Paper.id).where(Paper.title_key.in_(keys))).all()) if keys else {}
    result = MatchResult()
    for entry in entries:
        pid = (by_arxiv.get(entry.arxiv_id) if entry.arxiv_id else None) \
            or (by_doi.get(entry.doi) if entry.doi else None) \
            or (by_key.get(title_key(entry.title)) if entry.title else None)
        if pid is not None:
            if pid not in result.paper_ids:
                result.paper_ids.append(pid)
        elif entry.arxiv_id and is_arxiv_id(entry.arxiv_id):
            if entry.arxiv_id not in result.missing_arxiv_ids:
                result.missing_arxiv_ids.append(entry.arxiv_id)
        else:
            result.unmatched.append(entry)
    return result


@dataclass
class ImportReport:
    references: int
    saved: int
    already: int
    queued: int
    unmatched: int

    def summary(self) -> str:
        return (f"{self.references} references: {self.saved} saved, {self.already} already in the collection, "
                f"{self.queued} queued for harvest, {self.unmatched} not found")


def import_library(session: Session, user_id: int, data: bytes | str, *, filename: str = "", fmt: str | None = None,
                   collection_id: int | None = None) -> ImportReport:
    """Parse a file, save the matched papers to a collection, queue unknown arXiv ids."""
    from paperwire.store.library import queue_harvest, save_paper

    entries = parse_library(data, filename, fmt)
    matched = match_entries(session, entries)
    saved = sum(save_paper(session, user_id, pid, collection_id) for pid in matched.paper_ids)
    queued = queue_harvest(session, matched.missing_arxiv_ids, user_id)
    return ImportReport(len(entries), saved, len(matched.paper_ids) - saved, queued, len(matched.unmatched))
