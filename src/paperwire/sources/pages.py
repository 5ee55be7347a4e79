"""Reader for Hugging Face Daily-Papers pages saved as plain text.

A page copied from the browser is a title line followed by its abstract,
either as blocks separated by blank lines or on consecutive lines, wrapped in
page chrome ("new", "Subscribe", "Daily Papers", ...). Some pages add, after
the abstract, "• 6 authors", "·" and the paper's date ("Oct 7, 2024"),
optionally followed by its upvote count ("Oct 6, 2025 2").

Titles and abstracts are told apart by position (title first) and by length:
abstracts are long paragraphs, titles short lines, which keeps a missing
abstract from shifting every later abstract into a title.

**Which day a page features.** The page shows its day without a year
("Aug 12"). The year is inferred, in this order:

1. from the latest paper date on the page: the page day is the first
   "Aug 12" on or after that date (a page cannot feature a paper from its
   future), e.g. "Jan 9" with papers up to Oct 6, 2025 is 2026-01-09;
2. otherwise from the file's modification time: the latest "Aug 12" on or
   before that day (the page was saved after it was shown).

A page without a day line features its papers on the file's modification day.
The file is read twice (dates first, entries second) so memory stays constant.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.textfile import iter_lines

#: Lines of page chrome (compared case-insensitively after trimming).
CHROME = (
    "new",
    "Get trending papers in your email inbox!",
    "Get trending papers in your email inbox once a day!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)
_CHROME = frozenset(c.casefold() for c in CHROME)
#: Chrome that the copy can glue to the first title ("SubscribeScore-based ...").
_GLUED = tuple(c for c in CHROME if len(c) > 3)
#: A line at least this long is an abstract (titles on real pages stay under 150).
ABSTRACT_MIN_CHARS = 250

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_PAGE_DAY = re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}})$", re.IGNORECASE)
_PAPER_DATE = re.compile(
    rf"^{_MONTH}\s+(?P<day>\d{{1,2}}),\s*(?P<year>\d{{4}})(?:\s*[·•]?\s*(?P<votes>\d+))?$", re.IGNORECASE
)
_AUTHORS = re.compile(r"^[•·]?\s*(?P<n>\d+)\s+authors?$", re.IGNORECASE)
_VOTES = re.compile(r"^(?P<n>\d+)(?:\s+upvotes?)?$", re.IGNORECASE)
_SEPARATORS = frozenset({"·", "•", "|", "-", "–"})


@dataclass(slots=True)
class _Token:
    kind: str  # "text", "page_day", "date", "authors", "votes"
    line: int
    text: str = ""
    number: int | None = None
    day: date | None = None
    month_day: tuple[int, int] | None = None


@dataclass(slots=True)
class _Entry:
    title: str
    line: int
    abstract: str = ""
    meta: bool = False
    author_count: int | None = None
    submitted: date | None = None
    upvotes: int | None = None


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _tokens(path: Path) -> Iterator[_Token]:
    """The meaningful lines of a page: chrome, separators and blank lines dropped."""
    seen_text = False
    for number, raw in iter_lines(path):
        text = raw.strip()
        if not text or text in _SEPARATORS or text.casefold() in _CHROME:
            continue
        if match := _PAGE_DAY.match(text):
            month, day = _MONTHS.index(match["mon"][:3].lower()) + 1, int(match["day"])
            if _make_date(2000, month, day):  # 2000 is a leap year: Feb 29 is a valid page day
                yield _Token("page_day", number, month_day=(month, day))
                continue
        if match := _PAPER_DATE.match(text):
            month = _MONTHS.index(match["mon"][:3].lower()) + 1
            day = _make_date(int(match["year"]), month, int(match["day"]))
            if day:
                votes = int(match["votes"]) if match["votes"] else None
                yield _Token("date", number, day=day, number=votes)
                continue
        if match := _AUTHORS.match(text):
            yield _Token("authors", number, number=int(match["n"]))
            continue
        if match := _VOTES.match(text):
            yield _Token("votes", number, number=int(match["n"]))
            continue
        if not seen_text:
            text = _unglue(text)
        seen_text = True
        yield _Token("text", number, text=" ".join(text.split()))


def _unglue(text: str) -> str:
    """Strip chrome glued to the first title ("SubscribeScore-based ...")."""
    for chrome in _GLUED:
        rest = text[len(chrome):]
        if text.startswith(chrome) and rest[:1].isalnum() and not rest[:1].islower():
            return rest
    return text


def page_day(month_day: tuple[int, int] | None, latest_paper: date | None, saved: date) -> date:
    """The day a page featured its papers (see the module docstring for the rule)."""
    if month_day is None:
        return saved
    month, day = month_day
    if latest_paper is not None:
        year = latest_paper.year
        while (candidate := _make_date(year, month, day)) is None or candidate < latest_paper:
            year += 1
        return candidate
    year = saved.year
    while (candidate := _make_date(year, month, day)) is None or candidate > saved:
        year -= 1
    return candidate


def _scan_dates(path: Path) -> tuple[tuple[int, int] | None, date | None, int]:
    """First pass: the page's month/day, its latest paper date, and the number of text lines."""
    month_day = latest = None
    texts = 0
    for token in _tokens(path):
        if token.kind == "page_day" and month_day is None:
            month_day = token.month_day
        elif token.kind == "date" and (latest is None or token.day > latest):
            latest = token.day
        elif token.kind == "text":
            texts += 1
    return month_day, latest, texts


def _finish(path: Path, entry: _Entry, featured: date | None) -> PaperRecord | InvalidRecord:
    origin = f"{path}:{entry.line}"
    if not entry.abstract:
        return InvalidRecord(origin, f"paper {entry.title[:80]!r} has no abstract (page cut off?)")
    return PaperRecord(
        title=entry.title,
        abstract=entry.abstract,
        author_count=entry.author_count,
        submitted=datetime(entry.submitted.year, entry.submitted.month, entry.submitted.day)
        if entry.submitted else None,
        upvotes=entry.upvotes,
        featured_on=featured,
        source="dailypapers",
        origin=origin,
    )


def read_pages(path: Path, *, saved_on: date | None = None, feature: bool = True,
               **_options) -> Iterator[PaperRecord | InvalidRecord]:
    """Papers of one saved Daily-Papers page (``.txt``, optionally ``.gz``).

    Every paper gets ``featured_on`` = the page day and ``source="dailypapers"``;
    its arXiv id is unknown (the store derives one from the title and merges
    the paper once a richer source brings the id). A title without abstract,
    or an abstract without title, is an :class:`InvalidRecord`; a file with
    neither a page day nor any entry is one too. ``saved_on`` replaces the
    file's modification day where that is not when the page was saved (files
    shipped in the package carry their install time). ``feature=False``
    imports the papers into the catalogue without featuring them on the page
    day (where better lists make the days, as in the demo).
    """
    month_day, latest, texts = _scan_dates(path)
    if month_day is None and texts == 0:
        yield InvalidRecord(f"{path}:1", "not a Daily-Papers page: no page date and no paper entries found")
        return
    saved = saved_on or datetime.fromtimestamp(path.stat().st_mtime).date()
    featured = page_day(month_day, latest, saved) if feature else None

    pending: deque[_Token] = deque()
    stream = _tokens(path)

    def next_token() -> _Token | None:
        return pending.popleft() if pending else next(stream, None)

    def next_is_abstract() -> bool:
        if not pending:
            token = next(stream, None)
            if token is None:
                return False
            pending.append(token)
        return pending[0].kind == "text" and len(pending[0].text) >= ABSTRACT_MIN_CHARS

    entry: _Entry | None = None
    while (token := next_token()) is not None:
        if token.kind == "text":
            text = token.text
            is_long = len(text) >= ABSTRACT_MIN_CHARS
            if entry is not None and not entry.abstract and not entry.meta:
                if is_long or not next_is_abstract():
                    entry.abstract = text
                    continue
            elif entry is not None and entry.abstract and not entry.meta and is_long:
                entry.abstract += " " + text  # a second paragraph
                continue
            if entry is not None:
                yield _finish(path, entry, featured)
                entry = None
            if is_long:
                yield InvalidRecord(f"{path}:{token.line}", f"abstract without a title: {text[:60]!r}...")
                continue
            entry = _Entry(title=text, line=token.line)
        elif entry is None:
            continue  # page day, or metadata before the first paper
        elif token.kind == "authors":
            entry.author_count, entry.meta = token.number, True
        elif token.kind == "date":
            entry.submitted, entry.meta = token.day, True
            if token.number is not None:
                entry.upvotes = token.number
        elif token.kind == "votes":
            entry.upvotes, entry.meta = token.number, True
    if entry is not None:
        yield _finish(path, entry, featured)
