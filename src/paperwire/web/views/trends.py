"""The trends page: topics and categories over time, as small multiples.

The period (week or month) and the range are query parameters, so a view is
a link; a bad value is a 422 naming the parameter, never a 500.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.rank.rising import topic_trends
from paperwire.rank.topics import corpus_end_date
from paperwire.store.db import Database
from paperwire.web.charts import Chart
from paperwire.web.deps import get_db, render

router = APIRouter(include_in_schema=False)
PERIODS = ("week", "month")
#: Range choices: months back from the newest paper (None: everything).
RANGES = {"3m": ("3 months", 3), "6m": ("6 months", 6), "1y": ("1 year", 12), "2y": ("2 years", 24)}
#: The most periods one view shows (five years of weeks): a longer explicit range is refused.
MAX_PERIODS = 260
_PERIOD_DAYS = {"week": 7, "month": 30.44}
#: What each section shows, in page order.
SECTIONS = (("keyword", "Keywords"), ("phrase", "Key phrases"), ("category", "Categories"))
TOP = 8


def _months_back(day: date, months: int) -> date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _parse_date(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"Invalid input — {name}: {value[:40]!r} is not a date (expected YYYY-MM-DD).") from None


def trend_window(newest: date | None, range_key: str, start: date | None, end: date | None,
                 period: str = "week") -> tuple[date | None, date | None]:
    """The (start, end) a range choice means; explicit dates win. Relative to the newest paper, not today."""
    end = end or newest
    if start is None and end is not None:
        start = _months_back(end, RANGES[range_key][1])
    if start and end and start > end:
        raise HTTPException(422, "Invalid input — start is after end.")
    if start and end and (end - start).days / _PERIOD_DAYS[period] > MAX_PERIODS:
        raise HTTPException(422, f"Invalid input — start: at most {MAX_PERIODS} {period}s in one view.")
    return start, end


@router.get("/trends", response_class=HTMLResponse)
def trends_page(request: Request, period: str = Query("week", max_length=20), range: str = Query("3m", max_length=20),
                start: str | None = Query(None, max_length=40), end: str | None = Query(None, max_length=40),
                db: Database = Depends(get_db)) -> Response:
    if period not in PERIODS:
        raise HTTPException(422, f"Invalid input — period: {period[:20]!r} is not one of {', '.join(PERIODS)}.")
    if range not in RANGES:
        raise HTTPException(422, f"Invalid input — range: {range[:20]!r} is not one of {', '.join(RANGES)}.")
    first, last = _parse_date("start", start), _parse_date("end", end)
    with db.session() as session:
        first, last = trend_window(corpus_end_date(session), range, first, last, period)
        sections = []
        for kind, title in SECTIONS:
            periods, rows = topic_trends(session, period=period, start=first, end=last, top=TOP, kind=kind)
            charts = [(topic, Chart(topic.label, period, list(zip(periods, series)))) for topic, series in rows]
            if charts:
                sections.append((kind, title, charts))
    return render(request, "trends.html", period=period, periods=PERIODS, range=range, ranges=RANGES,
                  start=first, end=last, sections=sections)
