"""The search page's small chart: how many of the matches fall in each week or month.

It counts the whole match set (up to :data:`MAX_COUNTED`, the newest ones),
not only the page shown: the index gives the matches' ids and submission
days (no read of ``papers``: loading and checking 1,000 rows was two thirds
of a search page's time), one query on ``featured_papers`` their daily-list
days. A paper's day is its first day on a daily list, else its submission
date — the day the topic pages use too.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.index.lexical import get_lexical_index
from paperwire.index.query import parse_query
from paperwire.index.results import MAX_LIMIT
from paperwire.store.db import Database
from paperwire.store.id_lists import id_in
from paperwire.store.models import FeaturedPaper
from paperwire.web.charts import Chart

#: The most matches counted (the index's page limit): the newest ones when there are more.
MAX_COUNTED = MAX_LIMIT
#: A span longer than this many weeks is counted per month, one over this many months per year.
MAX_WEEKS = 26
MAX_MONTHS = 60


def period_start(day: date, period: str) -> date:
    if period == "year":
        return day.replace(month=1, day=1)
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def next_period(day: date, period: str) -> date:
    if period == "year":
        return day.replace(year=day.year + 1)
    return day + timedelta(days=7) if period == "week" else (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def zero_filled(days: list[date], period: str) -> list[tuple[date, int]]:
    """Counts per period from the first to the last, empty periods included."""
    if not days:
        return []
    counts = Counter(period_start(day, period) for day in days)
    out, current, last = [], period_start(min(days), period), period_start(max(days), period)
    while current <= last:
        out.append((current, counts.get(current, 0)))
        current = next_period(current, period)
    return out


def match_days(db: Database, query: str, session: Session | None = None) -> tuple[list[date], int | None]:
    """The days of the papers matching ``query``'s words and filters (the newest
    :data:`MAX_COUNTED`; papers without any date are left out), and how many match in all
    (None when the index cannot count them cheaply)."""
    parsed = parse_query(query)
    if parsed.is_empty:
        return [], 0
    with db.reading(session) as session:
        matches, total = get_lexical_index().newest_matches(session, parsed, limit=MAX_COUNTED)
        featured = dict(session.execute(
            select(FeaturedPaper.paper_id, func.min(FeaturedPaper.day))
            .where(id_in(session, FeaturedPaper.paper_id, [pid for pid, _ in matches])).group_by(FeaturedPaper.paper_id)
        ).all()) if matches else {}
    days = [featured.get(pid) or submitted for pid, submitted in matches]
    return [day for day in days if day is not None], total


def search_chart(db: Database, query: str, session: Session | None = None) -> Chart | None:
    """Matches per week (per month or year over longer spans), or None when nothing is dated."""
    days, total = match_days(db, query, session)
    if not days:
        return None
    span = (max(days) - min(days)).days
    period = "week" if span <= MAX_WEEKS * 7 else "month" if span <= MAX_MONTHS * 30.5 else "year"
    title = f"Matches per {period}"
    if total is None or total > len(days):  # beyond MAX_COUNTED, or undated papers
        title += f" · {len(days):,} of {'more' if total is None else f'{total:,}'} matches counted"
    return Chart(title, period, zero_filled(days, period))
