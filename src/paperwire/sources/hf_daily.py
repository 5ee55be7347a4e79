"""Reader for Hugging Face's ``/api/daily_papers`` JSON.

The endpoint returns a list of featured entries::

    [{"paper": {"id": "2509.04664", "title": ..., "summary": ...,
                "authors": [{"name": ...}], "publishedAt": "2025-09-04T21:26:31.000Z",
                "upvotes": 42, "submittedOnDailyBy": {"fullname": ..., "user": ...}},
      "publishedAt": "2025-09-08T02:44:20.973Z", "title": ..., "numComments": 3,
      "submittedBy": {"fullname": ..., "name": ...}}, ...]

The top-level ``publishedAt`` is when the paper was featured (``featured_on``);
``paper.publishedAt`` is when it appeared on arXiv (``submitted``). Responses
are small, so the file is parsed whole; a file of one entry per line (JSON
lines) is accepted too. Origins name the array index ("file.json:item 3") or
the line ("file.jsonl:3").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.importer import iter_lines
from paperwire.sources.textfile import read_text


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp ("...Z" included) as naive UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _text(value) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _int(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    raise ValueError(f"expected a number, got {value!r}")


def _person(value) -> str | None:
    """Display name of a ``submittedBy`` object (full name, else user name)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("fullname", "name", "user"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key].strip()
    return None


def record_from_entry(entry: dict, origin: str) -> PaperRecord:
    """One daily-papers entry as a :class:`PaperRecord` (raises ValueError)."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected a JSON object, got {type(entry).__name__}")
    paper = entry.get("paper") if isinstance(entry.get("paper"), dict) else entry
    title = _text(paper.get("title")) or _text(entry.get("title"))
    if not title:
        raise ValueError("entry has no title")
    arxiv_id = None
    if isinstance(paper.get("id"), str):
        try:
            arxiv_id = parse_arxiv_id(paper["id"])[0]
        except InvalidArxivId:
            arxiv_id = None  # a paper hosted only on the Hub: the store derives an id
    featured_at = entry.get("publishedAt") if paper is not entry else None
    featured_at = featured_at or paper.get("submittedOnDailyAt")
    published = paper.get("publishedAt")
    authors = [_text(a.get("name") if isinstance(a, dict) else a) for a in paper.get("authors") or []]
    return PaperRecord(
        title=title,
        abstract=_text(paper.get("summary")) or _text(entry.get("summary")),
        arxiv_id=arxiv_id,
        authors=[a for a in authors if a],
        submitted=parse_timestamp(published) if isinstance(published, str) and published else None,
        source="hf-daily",
        featured_on=parse_timestamp(featured_at).date() if isinstance(featured_at, str) and featured_at else None,
        upvotes=_int(paper.get("upvotes", entry.get("upvotes"))),
        num_comments=_int(entry.get("numComments", paper.get("numComments"))),
        submitted_by=_person(entry.get("submittedBy"))
        or _person(entry.get("submittedOnDailyBy"))
        or _person(paper.get("submittedOnDailyBy")),
        origin=origin,
    )


def _convert(entry, origin: str) -> PaperRecord | InvalidRecord:
    try:
        return record_from_entry(entry, origin)
    except (ValueError, TypeError, AttributeError) as exc:
        return InvalidRecord(origin, str(exc))


def read_hf_daily(path: Path, **_options) -> Iterator[PaperRecord | InvalidRecord]:
    """Entries of a saved ``/api/daily_papers`` response (``.json``, JSON lines, ``.gz``)."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            yield InvalidRecord(f"{path}:{exc.lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})")
            return
        yield from _read_lines(path)
        return
    if isinstance(data, dict):  # one entry, or a wrapper object around the list
        data = next((data[k] for k in ("dailyPapers", "papers") if isinstance(data.get(k), list)), [data])
    if not isinstance(data, list):
        yield InvalidRecord(f"{path}:1", f"expected a JSON list of daily papers, got {type(data).__name__}")
        return
    for index, entry in enumerate(data):
        yield _convert(entry, f"{path}:item {index}")


def _read_lines(path: Path) -> Iterator[PaperRecord | InvalidRecord]:
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        try:
            entry = json.loads(line)
        except ValueError as exc:
            yield InvalidRecord(origin, f"not valid JSON ({exc})")
            continue
        yield _convert(entry, origin)

