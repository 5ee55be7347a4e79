"""Reader for Hugging Face's ``/api/daily_papers`` JSON, both generations.

The endpoint returns a list of featured entries. The 2025+ format::

    [{"paper": {"id": "2509.04664", "title": ..., "summary": ...,
                "authors": [{"name": ..., "user": {"user": ...}, "status": "claimed_verified"}],
                "publishedAt": "2025-09-04T21:26:31.000Z",         # on arXiv
                "submittedOnDailyAt": "2025-09-08T02:44:20.973Z",  # featured
                "submittedOnDailyBy": {"fullname": ..., "user": ...},
                "upvotes": 42, "discussionId": ..., "githubRepo": ..., "githubStars": 5,
                "projectPage": ..., "ai_summary": ..., "ai_keywords": [...],
                "organization": {"name": ..., "fullname": ...}},
      "publishedAt": "2025-09-04T17:26:31.000Z", "numComments": 3,
      "submittedBy": {"fullname": ..., "name": ...}, "isAuthorParticipating": false}]

**The featured day** is ``paper.submittedOnDailyAt`` — in the new format the
top-level ``publishedAt`` is the arXiv announcement time and would spread
one day's list over earlier days. The 2024 format has no
``submittedOnDailyAt``; there the top-level ``publishedAt`` is the submission
time, and since submissions shortly before midnight UTC belong to the next
day's list, the list's own date wins when it is known (the ``date`` a
harvester asked for, a wrapper's ``"date"``, or a file named ``YYYY-MM-DD``).

Damaged lists (entries that are Python-repr *strings*, the
``{"status", "date", "count", "data"}`` wrapper around them) give an
:class:`InvalidRecord` naming the file and entry, so an import either stops
before writing anything of that list or, with ``--skip-invalid``, skips and
counts. A file of one entry per line (JSON lines) is accepted too. Origins
name the entry ("2025-09-08.json:entry 3") or the line ("file.jsonl:3").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.textfile import iter_lines, read_text

#: Who wrote ``ai_summary`` in these lists, shown next to it on pages.
AI_SUMMARY_SOURCE = "Hugging Face"
_DATED_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
#: Profile fields of a submitting account worth keeping (the rest is noise).
_SUBMITTER_KEYS = ("fullname", "avatarUrl", "isPro", "type", "isHf", "isHfAdmin", "isMod", "followerCount")


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 timestamp ("...Z" included) as naive UTC."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _timestamp(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} is not a timestamp: {value!r}")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ValueError(f"{field} is not an ISO-8601 timestamp: {value!r}") from None


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _optional_text(value: Any) -> str | None:
    return _text(value) or None


def _count(value: Any, field: str) -> int | None:
    """A whole-number count, or None when the source does not give one (the store
    clamps counts to 0…10⁹ for every source, see ``records.normalise_record``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float("inf"):
        raise ValueError(f"{field} is not a whole number: {value!r}")
    if value != int(value):
        raise ValueError(f"{field} is not a whole number: {value!r}")
    return int(value)


def _account(value: Any) -> dict | None:
    """A submitting account as ``{"user": ..., "fullname": ..., ...}``.

    ``submittedBy`` names the account ``name``; ``submittedOnDailyBy`` and an
    author's ``user`` name it ``user``; both become ``user`` here.
    """
    if isinstance(value, str):
        return {"user": value.strip(), "fullname": value.strip()} if value.strip() else None
    if not isinstance(value, dict):
        return None
    user = next((value[k].strip() for k in ("user", "name") if isinstance(value.get(k), str) and value[k].strip()), None)
    if user is None:
        return None
    account = {"user": user}
    account.update({k: value[k] for k in _SUBMITTER_KEYS if value.get(k) is not None})
    return account


def _organization(*candidates: Any) -> dict | None:
    for value in candidates:
        if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
            org = {"name": value["name"].strip()}
            if isinstance(value.get("fullname"), str) and value["fullname"].strip():
                org["fullname"] = value["fullname"].strip()
            return org
    return None


def _authors(values: Any) -> list[dict]:
    """Structured authors in order: name, and the claimed account where there is one."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValueError(f"authors is not a list: {type(values).__name__}")
    authors = []
    for value in values:
        name = _text(value.get("name")) if isinstance(value, dict) else _text(value)
        if not name:
            continue
        author: dict = {"name": name}
        if isinstance(value, dict):
            account = _account(value.get("user"))
            if account:
                author["hf_user"] = account["user"]
            if isinstance(value.get("status"), str):
                author["status"] = value["status"]
            if value.get("hidden") is True:
                author["hidden"] = True
        authors.append(author)
    return authors


def _keywords(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    words = [_text(v) for v in value if isinstance(v, str)]
    return [w for w in words if w] or None


def record_from_entry(entry: Any, origin: str, *, list_day: date | None = None) -> PaperRecord:
    """One daily-papers entry as a :class:`PaperRecord` (raises ValueError).

    ``list_day`` is the date of the list the entry came from, when known; it
    decides the featured day of 2024-format entries (see the module docstring).
    An entry without ``paper`` is read as a bare paper object
    (``/api/papers/{id}``), which is not featured on any day.
    """
    if isinstance(entry, str):
        hint = " (a Python repr, not JSON: this list is damaged)" if entry.lstrip().startswith("{'") else ""
        raise ValueError(f"entry is a string, not a JSON object{hint}")
    if not isinstance(entry, dict):
        raise ValueError(f"expected a JSON object, got {type(entry).__name__}")
    listed = isinstance(entry.get("paper"), dict)
    paper = entry["paper"] if listed else entry
    title = _text(paper.get("title")) or _text(entry.get("title"))
    if not title:
        raise ValueError("entry has no title")
    arxiv_id = None
    if isinstance(paper.get("id"), str):
        try:
            arxiv_id = parse_arxiv_id(paper["id"])[0]
        except InvalidArxivId:
            arxiv_id = None  # a paper hosted only on the Hub: the store derives an id
    featured_at = _timestamp(paper.get("submittedOnDailyAt"), "paper.submittedOnDailyAt")
    featured_on = featured_at.date() if featured_at else None
    if featured_at is None and listed:  # the 2024 format
        featured_at = _timestamp(entry.get("publishedAt"), "publishedAt")
        featured_on = list_day or (featured_at.date() if featured_at else None)
    authors = _authors(paper.get("authors"))
    submitter = _account(paper.get("submittedOnDailyBy")) or _account(entry.get("submittedBy"))
    ai_summary = _optional_text(paper.get("ai_summary"))
    participating = entry.get("isAuthorParticipating")
    return PaperRecord(
        title=title,
        abstract=_text(paper.get("summary")) or _text(entry.get("summary")),
        arxiv_id=arxiv_id,
        authors=[a["name"] for a in authors],
        author_names=authors or None,
        submitted=_timestamp(paper.get("publishedAt"), "paper.publishedAt"),
        source="hf-daily",
        featured_on=featured_on,
        featured_at=featured_at,
        upvotes=_count(paper.get("upvotes", entry.get("upvotes")), "upvotes"),
        num_comments=_count(entry.get("numComments", paper.get("numComments")), "numComments"),
        submitted_by=(submitter.get("fullname") or submitter["user"]) if submitter else None,
        submitter=submitter,
        is_author_participating=participating if isinstance(participating, bool) else None,
        organization=_organization(paper.get("organization"), entry.get("organization")),
        github_repo=_optional_text(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars"), "githubStars"),
        project_page=_optional_text(paper.get("projectPage")),
        ai_summary=ai_summary,
        ai_summary_source=AI_SUMMARY_SOURCE if ai_summary else None,
        ai_keywords=_keywords(paper.get("ai_keywords")),
        discussion_id=_optional_text(paper.get("discussionId")),
        origin=origin,
    )


def _convert(entry: Any, origin: str, list_day: date | None) -> PaperRecord | InvalidRecord:
    try:
        return record_from_entry(entry, origin, list_day=list_day)
    except (ValueError, TypeError, AttributeError) as exc:
        return InvalidRecord(origin, str(exc))


def _day_from_name(path: Path) -> date | None:
    match = _DATED_NAME.search(path.name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def records_from_response(data: Any, source: str, *, list_day: date | None = None) -> Iterator[PaperRecord | InvalidRecord]:
    """Records of one decoded ``/api/daily_papers`` response (list, wrapper or one entry).

    ``source`` names where the data came from in error messages (a file, a URL).
    """
    if isinstance(data, dict) and isinstance(data.get("data"), list):  # {"status", "date", "count", "data"}
        wrapped_day = data.get("date")
        if isinstance(wrapped_day, str):
            try:
                list_day = date.fromisoformat(wrapped_day.strip())
            except ValueError:
                pass
        data = data["data"]
    elif isinstance(data, dict):  # one entry, or a wrapper object around the list
        data = next((data[k] for k in ("dailyPapers", "papers") if isinstance(data.get(k), list)), [data])
    if not isinstance(data, list):
        yield InvalidRecord(f"{source}:1", f"expected a JSON list of daily papers, got {type(data).__name__}")
        return
    for index, entry in enumerate(data):
        yield _convert(entry, f"{source}:entry {index}", list_day)


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
    yield from records_from_response(data, str(path), list_day=_day_from_name(path))


def _read_lines(path: Path) -> Iterator[PaperRecord | InvalidRecord]:
    list_day = _day_from_name(path)
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        origin = f"{path}:{number}"
        try:
            entry = json.loads(line)
        except ValueError as exc:
            yield InvalidRecord(origin, f"not valid JSON ({exc})")
            continue
        yield _convert(entry, origin, list_day)
