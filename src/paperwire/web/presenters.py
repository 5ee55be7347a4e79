"""Small pure helpers shared by pages and the API: period names, BibTeX,
cached featured days and page-cache invalidation."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

from fastapi import HTTPException, Request

from paperwire.deliver.export import bibtex_entry
from paperwire.rank.trending import featured_days
from paperwire.store.models import Paper

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DAYS_TTL = 10.0


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"Not a date: {value!r} (expected YYYY-MM-DD).") from None


def parse_week(value: str) -> date:
    """Monday of an ISO week written ``YYYY-Www``."""
    match = _WEEK_RE.match(value)
    try:
        if not match:
            raise ValueError
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise HTTPException(422, f"Not a week: {value!r} (expected YYYY-Www, e.g. 2024-W11).") from None


def parse_month(value: str) -> date:
    match = _MONTH_RE.match(value)
    try:
        if not match:
            raise ValueError
        return date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise HTTPException(422, f"Not a month: {value!r} (expected YYYY-MM).") from None


def week_name(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_name(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def shift_week(day: date, weeks: int) -> date:
    return day - timedelta(days=day.weekday()) + timedelta(weeks=weeks)


def cached_featured_days(request: Request) -> list[date]:
    """Featured days, recomputed at most every few seconds per process."""
    state = request.app.state
    cached = getattr(state, "featured_days_cache", None)
    if cached is None or cached[0] < time.monotonic():
        with state.db.session() as session:
            days = featured_days(session)
        cached = (time.monotonic() + DAYS_TTL, days)
        state.featured_days_cache = cached
    return cached[1]


def invalidate(request: Request) -> None:
    """Forget cached pages and days after a write."""
    request.app.state.page_cache.clear()
    request.app.state.featured_days_cache = None


def bibtex(paper: Paper) -> str:
    """The "cite" box of a paper page: one BibTeX entry without the abstract."""
    return bibtex_entry(paper, with_abstract=False)


def fit_label(probability: float) -> str:
    """A recommendation's model score in words: readers cannot use "match 0.22"."""
    if probability >= 0.7:
        return "Strong match for you"
    if probability >= 0.4:
        return "Good match for you"
    return "Partial match for you"


def trend_label(percentile: float, personal: float) -> str:
    """Trending-for-you row in words instead of "trend 0.99 · for you 0.26"."""
    top = max(1, round((1 - percentile) * 100))
    heat = f"Among the top {top}% trending" if top < 50 else "Trending"
    return f"{heat} · {fit_label(personal).lower()}"
