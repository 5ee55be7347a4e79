"""Reader for the Kaggle arXiv metadata snapshot (JSON lines, optionally gzipped).

The full snapshot holds about 2.8 million records, so the per-line work is
kept to one orjson parse plus plain string operations: dates are split by
hand instead of going through ``email.utils`` or ``strptime``, and no regular
expression runs except the one that validates the arXiv id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import orjson

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.names import name_parts
from paperwire.records import InvalidRecord, PaperRecord, PaperVersion
from paperwire.sources.textfile import iter_lines

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}


def parse_rfc_date(text: str) -> datetime:
    """``Mon, 2 Apr 2007 19:18:42 GMT`` as a naive UTC datetime (fast path first)."""
    parts = text.split()
    try:
        day, month, year, clock = parts[1], parts[2], parts[3], parts[4]
        hour, minute, second = clock.split(":")
        if len(parts) == 6 and parts[5] == "GMT":
            return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    except (IndexError, KeyError, ValueError):
        pass
    value = parsedate_to_datetime(text)  # raises ValueError/TypeError on nonsense
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _clean(text: str | None) -> str | None:
    """Collapse newlines and runs of spaces; ``None`` for empty text."""
    if not text:
        return None
    return " ".join(text.split()) or None


def _authors(record: dict) -> tuple[list[str], list[dict] | None]:
    """Ordered author names, with their parts (from ``authors_parsed`` when present)."""
    parsed = record.get("authors_parsed")
    if parsed:
        names, parts = [], []
        for entry in parsed:
            # [last, first, suffix, affiliation...] -> "First Last Suffix"
            last, first, suffix = (list(entry[:3]) + ["", "", ""])[:3]
            if last or first or suffix:
                part = name_parts(last, first, suffix)
                if part["name"]:
                    names.append(part["name"])
                    parts.append(part)
        if names:
            return names, parts
    return split_author_string(record.get("authors") or ""), None


def split_author_string(text: str) -> list[str]:
    """Split ``"A. One, B. Two and C. Three"`` into names."""
    names = []
    for chunk in " ".join(text.split()).replace(" and ", ", ").split(","):
        chunk = chunk.strip()
        if chunk:
            names.append(chunk)
    return names


def _versions(raw: list | None) -> list[PaperVersion]:
    versions = []
    for item in raw or ():
        label = str(item.get("version", "")).lstrip("v")
        created = item.get("created")
        versions.append(PaperVersion(int(label), parse_rfc_date(created) if created else None))
    return versions


def record_from_json(data: dict, origin: str) -> PaperRecord:
    """One Kaggle JSON object as a :class:`PaperRecord` (raises ValueError/KeyError)."""
    raw_id = data.get("id")
    title = _clean(data.get("title"))
    if not raw_id or not isinstance(raw_id, str):
        raise ValueError("record has no 'id'")
    if not title:
        raise ValueError(f"record {raw_id} has no 'title'")
    arxiv_id, id_version = parse_arxiv_id(raw_id)
    versions = _versions(data.get("versions"))
    if not versions and id_version:
        versions = [PaperVersion(id_version)]
    submitted = updated = None
    if versions:
        versions.sort(key=lambda v: v.version)
        submitted = versions[0].created if versions[0].version == 1 else None
        updated = versions[-1].created
    if updated is None and data.get("update_date"):
        updated = datetime.fromisoformat(data["update_date"])
    categories = (data.get("categories") or "").split()
    authors, author_names = _authors(data)
    return PaperRecord(
        title=title,
        abstract=_clean(data.get("abstract")) or "",
        arxiv_id=arxiv_id,
        authors=authors,
        author_names=author_names,
        categories=categories,
        submitted=submitted,
        updated=updated,
        versions=versions,
        doi=(data.get("doi") or "").strip() or None,
        journal_ref=_clean(data.get("journal-ref")),
        comments=_clean(data.get("comments")),
        license=(data.get("license") or "").strip() or None,
        source="kaggle",
        origin=origin,
    )


def read_kaggle(path: Path, *, shard: tuple[int, int] | None = None, **_options) -> Iterator[PaperRecord | InvalidRecord]:
    """Stream the records of a Kaggle snapshot file (``.jsonl`` or ``.jsonl.gz``).

    Blank lines are skipped. A line that is not a JSON object, lacks ``id`` or
    ``title``, or has an id/date that does not parse becomes an
    :class:`InvalidRecord` naming ``file:line``; reading goes on after it.
    ``shard=(i, n)`` reads only the lines whose number is ``i`` modulo ``n``
    (parallel imports: each worker parses its own share, decompressing and
    splitting lines is cheap next to parsing them).
    """
    index, count = shard if shard else (0, 1)
    for number, line in iter_lines(path):
        if count > 1 and number % count != index:
            continue
        if not line or line.isspace():
            continue
        origin = f"{path}:{number}"
        try:
            yield record_from_json(orjson.loads(line), origin)
        except _RECORD_ERRORS:
            # orjson and the standard library differ at the edges (NaN, lone
            # surrogates, integers past 64 bits, which orjson reads as floats and
            # every field then rejects): json.loads decides, as before.
            yield _exact_record(line, origin)


_RECORD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def _exact_record(line: str, origin: str) -> PaperRecord | InvalidRecord:
    """The record (or the error naming ``file:line``) as ``json.loads`` reads the line."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return InvalidRecord(origin, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(data, dict):
        return InvalidRecord(origin, f"expected a JSON object, got {type(data).__name__}")
    try:
        return record_from_json(data, origin)
    except InvalidArxivId as exc:
        return InvalidRecord(origin, str(exc))
    except _RECORD_ERRORS as exc:
        return InvalidRecord(origin, f"bad record: {exc}")
