"""The record every importer produces and the store consumes.

Keeping it a plain dataclass (no database, no HTTP) is what lets ``sources``
and ``store`` evolve independently: an importer only has to fill one of these.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class PaperVersion:
    version: int
    created: datetime | None = None


@dataclass(slots=True)
class PaperRecord:
    """One paper as read from a source.

    ``arxiv_id`` is canonical (no version suffix) or ``None`` when the source
    does not know it; the store then derives an id from the title.
    ``featured_on`` marks the day a Daily-Papers page (or a user) featured the
    paper; ``upvotes`` are the community votes the source reported.
    """

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    categories: list[str] = field(default_factory=list)
    submitted: datetime | None = None
    updated: datetime | None = None
    versions: list[PaperVersion] = field(default_factory=list)
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    license: str | None = None
    source: str = "unknown"
    featured_on: date | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    submitted_by: str | None = None
    #: Structured names, parallel to ``authors``: {"name", "family", "given",
    #: "suffix", "hf_user", "status"} (only "name" is required).
    author_names: list[dict] | None = None
    organization: dict | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_summary_source: str | None = None
    ai_keywords: list[str] | None = None
    discussion_id: str | None = None
    #: Featured-day details: the submitter account, when it was featured,
    #: whether the authors take part in the discussion.
    submitter: dict | None = None
    featured_at: datetime | None = None
    is_author_participating: bool | None = None
    #: Where the record was read ("file.jsonl:12"), for error messages.
    origin: str | None = None

    @property
    def latest_version(self) -> int | None:
        return max((v.version for v in self.versions), default=None)

    def content_hash(self) -> str:
        """Hash of the text that search and embeddings depend on."""
        return content_hash(self.title, self.abstract, self.authors)


def content_hash(title: str, abstract: str, authors: list[str]) -> str:
    """What :meth:`PaperRecord.content_hash` hashes, for a stored row's values."""
    text = "\x1f".join([title, abstract, ", ".join(authors)])
    return hashlib.sha1(text.encode()).hexdigest()


class InvalidRecord(ValueError):
    """A source record that cannot be imported; the message names file and line."""

    def __init__(self, origin: str, reason: str):
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


#: Bounds for what a source may claim. Votes, comments and stars beyond
#: ``MAX_COUNT`` are clamped (an attacker's 2**70 would overflow the column),
#: negative ones become 0; long text is cut with an ellipsis.
MAX_COUNT = 1_000_000_000
MAX_VERSION = 10_000
MAX_TITLE = 1_000
MAX_ABSTRACT = 50_000
MAX_FIELD = 5_000
MAX_NAME = 500
MAX_AUTHORS = 10_000
#: Characters no stored text keeps: C0/C1 controls (NUL, ESC, ...), DEL, lone
#: surrogates (from JSON "\ud800"; not encodable) and the XML non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: Single-line fields turn tabs and line breaks into spaces.
_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
_TEXT_FIELDS = ("doi", "journal_ref", "license", "submitted_by", "github_repo", "project_page",
                "ai_summary_source", "discussion_id")
_MULTILINE_FIELDS = ("comments", "ai_summary")
_COUNT_FIELDS = ("upvotes", "num_comments", "github_stars", "author_count")


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def is_plain_text(value: str) -> bool:
    """Whether ``value`` is printable ASCII (space included, no tab or newline): nothing to clean.

    ``bytes.translate`` deletes the printable bytes in one C loop; it is
    several times faster than ``str.isprintable`` or a regular expression,
    which matters when every abstract of a 2.8M-record import passes here.
    """
    return value.isascii() and not value.encode("ascii").translate(None, _PRINTABLE_ASCII)


def clean_text(value: str, limit: int = MAX_FIELD, *, multiline: bool = False) -> str:
    """``value`` without control characters, in Unicode NFC, at most ``limit`` characters.

    Newlines and tabs stay only in ``multiline`` text; elsewhere they become
    spaces. Every importer's text passes here once (see ``normalise_record``).
    """
    if is_plain_text(value):  # the common case, checked in C: nothing to remove
        return value if len(value) <= limit else value[: limit - 1].rstrip() + "\u2026"
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    if not multiline and _BREAKS.search(value):
        value = _BREAKS.sub(" ", value)
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "\u2026"
    return value


def clamp_count(value: int | None) -> int | None:
    """A count a source reported, within 0..``MAX_COUNT`` (``None`` stays unknown)."""
    if value is None:
        return None
    return min(max(int(value), 0), MAX_COUNT)


def _is_plain_names(value) -> bool:
    """Whether ``value`` is a list of flat str-to-str dicts already safe to store.

    The shape every Kaggle and OAI record has in ``author_names``: checking the
    joined text once (in C) spares a function call per key and value.
    """
    if type(value) is not list or len(value) > MAX_AUTHORS:
        return False
    try:
        strings = [text for entry in value for pair in entry.items() for text in pair]
        joined = "".join(strings)  # TypeError unless every key and value is a str
    except (AttributeError, TypeError):
        return False
    if value and max(map(len, value)) > 50 or strings and max(map(len, strings)) > MAX_NAME:
        return False
    return all(type(entry) is dict for entry in value) and is_plain_text(joined)


def _clean_json(value, depth: int = 0):
    """Strings inside the structured fields (author names, organisation, submitter)."""
    if depth == 0 and _is_plain_names(value):
        return value
    if isinstance(value, str):
        return clean_text(value, MAX_FIELD)
    if depth > 4:
        return None
    if isinstance(value, dict):
        return {clean_text(str(k), MAX_NAME): _clean_json(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [_clean_json(v, depth + 1) for v in value[:MAX_AUTHORS]]
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return clamp_count(value)
    return clean_text(str(value), MAX_FIELD)


def _clean_names(names: list[str], most: int) -> list[str]:
    """At most ``most`` cleaned, non-blank names (one check in C for the usual plain list)."""
    names = names[:most]
    if (is_plain_text("".join(names)) and all(type(n) is str and n.strip() and len(n) <= MAX_NAME for n in names)):
        return names
    return [name for name in (clean_text(n, MAX_NAME) for n in names) if name.strip()]


def normalise_record(record: PaperRecord) -> PaperRecord:
    """Text and numbers of ``record`` made safe to store, in place; returns it.

    The single write path (``store.papers.upsert_papers``) calls this for every
    record, so no importer can store NUL, ESC or other control characters
    (which break feeds and terminals), un-normalised Unicode, unbounded text or
    counts that overflow a column.
    """
    record.title = clean_text(record.title or "", MAX_TITLE)
    record.abstract = clean_text(record.abstract or "", MAX_ABSTRACT, multiline=True)
    record.authors = _clean_names(record.authors, MAX_AUTHORS)
    record.categories = _clean_names(record.categories, 100)
    for name in _TEXT_FIELDS:
        value = getattr(record, name)
        if value is not None:
            setattr(record, name, clean_text(str(value), MAX_FIELD) or None)
    for name in _MULTILINE_FIELDS:
        value = getattr(record, name)
        if value is not None:
            setattr(record, name, clean_text(str(value), MAX_ABSTRACT, multiline=True) or None)
    for name in _COUNT_FIELDS:
        setattr(record, name, clamp_count(getattr(record, name)))
    record.versions = [v for v in record.versions if 0 < v.version <= MAX_VERSION]
    if record.ai_keywords is not None:
        record.ai_keywords = [clean_text(k, MAX_NAME) for k in record.ai_keywords[:100] if isinstance(k, str)]
    for name in ("author_names", "organization", "submitter"):
        value = getattr(record, name)
        if value is not None:
            setattr(record, name, _clean_json(value))
    return record
