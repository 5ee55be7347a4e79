"""The search page's small chart: how many of the matches fall in each week or month.

It counts the whole match set (up to :data:`MAX_COUNTED`, the newest ones),
not only the page shown: the index gives the matches' ids and submission
days (no read of ``papers``: loading and checking 1,000 rows was two thirds
of a search page's time), one query on ``featured_papers`` their daily-list
days. A paper's day is its first day on a daily list, else its submission
date — the day the topic pages use too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
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


def next_period(day: date, period: str) -> date:
    if period == "year":
        return day.replace(year=day.year + 1)
    return day + timedelta(days=7) if period == "week" else (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_start_days(days: np.ndarray, period: str) -> np.ndarray:
    """The first day of each day's week (Monday), month or year, for a whole array at once."""
    if period == "week":
        return days - (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    unit = "datetime64[Y]" if period == "year" else "datetime64[M]"
    return days.astype(unit).astype("datetime64[D]")


def zero_filled(days: Sequence[date] | np.ndarray, period: str) -> list[tuple[date, int]]:
    """Counts per period from the first to the last, empty periods included."""
    values = np.asarray(days, dtype="datetime64[D]")
    if not values.size:
        return []
    starts, counts = np.unique(period_start_days(values, period), return_counts=True)
    found = dict(zip(starts.tolist(), counts.tolist()))
    out, current, last = [], starts[0].item(), starts[-1].item()
    while current <= last:
        out.append((current, found.get(current, 0)))
        current = next_period(current, period)
    return out


def match_days(db: Database, query: str, session: Session | None = None) -> tuple[np.ndarray, int | None]:
    """The days (``datetime64[D]``) of the papers matching ``query``'s words and filters (the
    newest :data:`MAX_COUNTED`; papers without any date are left out), and how many match in
    all (None when the index cannot count them cheaply)."""
    parsed = parse_query(query)
    if parsed.is_empty:
        return np.array([], dtype="datetime64[D]"), 0
    with db.reading(session) as session:
        matches = get_lexical_index().newest_matches(session, parsed, limit=MAX_COUNTED)
        featured = session.execute(
            select(FeaturedPaper.paper_id, func.min(FeaturedPaper.day))
            .where(id_in(session, FeaturedPaper.paper_id, matches.ids)).group_by(FeaturedPaper.paper_id)
        ).all() if matches.ids else []
    days = matches.days.copy()
    if featured:  # a paper's first day on a daily list, else its submission day
        position = {pid: i for i, pid in enumerate(matches.ids)}
        for pid, day in featured:
            days[position[pid]] = np.datetime64(day, "D")
    return days[~np.isnat(days)], matches.total


def search_chart(db: Database, query: str, session: Session | None = None) -> Chart | None:
    """Matches per week (per month or year over longer spans), or None when nothing is dated."""
    days, total = match_days(db, query, session)
    if not days.size:
        return None
    span = int((days.max() - days.min()).astype(np.int64))
    period = "week" if span <= MAX_WEEKS * 7 else "month" if span <= MAX_MONTHS * 30.5 else "year"
    title = f"Matches per {period}"
    if total is None or total > len(days):  # beyond MAX_COUNTED, or undated papers
        title += f" · {len(days):,} of {'more' if total is None else f'{total:,}'} matches counted"
    return Chart(title, period, zero_filled(days, period))
