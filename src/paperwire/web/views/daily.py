"""Daily papers (the home page), weekly and monthly views and the hot list.

Anonymous visitors get a page cached for a few seconds (see ``web.cache``);
logged-in users always get a fresh page with their own vote buttons, without
the papers they excluded or dismissed. That filter is part of the ranking
query (``rank.exclusions.user_visible_condition``), so their pages are full
and their totals and page links count only what they can see.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.rank.rising import rising_topics
from paperwire.rank.trending import count_featured, hot, neighbour_days, period_bounds, trending
from paperwire.rank.exclusions import user_visible_condition
from paperwire.store.community import voted_ids
from paperwire.store.library import saved_ids
from paperwire.store.papers import utcnow
from paperwire.web.card_facts import entry_splits
from paperwire.web.deps import current_user, render
from paperwire.web.security import SESSION_COOKIE
from paperwire.web.presenters import (
    cached_featured_days, month_name, parse_day, parse_month, parse_week, week_name,
)

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
RISING_SHOWN = 8


def visible_for(session, user):
    """The extra ranking condition for this visitor: None (anonymous, cached pages
    unchanged) or "not hidden, not excluded, not dismissed" for a logged-in user."""
    return None if user is None else user_visible_condition(session, user.id)


def rising_near(session, period: str, day: date) -> list:
    """The home page's "Rising this week" (a month page: this month), ending on the shown day."""
    return rising_topics(session, period="month" if period == "month" else "week", end=day, limit=RISING_SHOWN)


def saved_among(session, user, entries: list) -> set[int]:
    """Which of the listed papers the user has saved."""
    return set() if user is None else saved_ids(session, user.id, [e.paper.id for e in entries])


async def _cached(request: Request, build) -> Response:
    """Serve anonymous visitors from the page cache; one request rebuilds a
    missing page while concurrent ones wait for it (no thundering herd)."""
    cache = request.app.state.page_cache
    anonymous = SESSION_COOKIE not in request.cookies and "authorization" not in request.headers
    if not anonymous:
        return await run_in_threadpool(build)
    key = str(request.url)
    if (body := cache.get(key)) is not None:
        return HTMLResponse(body)
    async with cache.lock_for(key):
        if (body := cache.get(key)) is not None:
            return HTMLResponse(body)
        response = await run_in_threadpool(build)
        if response.status_code == 200 and not getattr(request.state, "csrf_used", False):
            cache.put(key, response.body)
    return response


def _page(request: Request, period: str, day: date, page: int, note: str | None = None) -> Response:
    db = request.app.state.db
    days = cached_featured_days(request)
    user = current_user(request)
    with db.session() as session:
        where = visible_for(session, user)
        entries = trending(session, period=period, day=day, limit=PAGE_SIZE, offset=page * PAGE_SIZE, where=where)
        total = count_featured(session, period=period, day=day, where=where)
        saved = saved_among(session, user, entries)
        voted = voted_ids(session, user, [e.paper.id for e in entries])
        splits = entry_splits(session, entries)
        rising = rising_near(session, period, day)
    start, end = period_bounds(period, day)
    # Previous/next go to the nearest period that has papers (never an empty one, never the future).
    before, _ = neighbour_days(days, start)
    _, after = neighbour_days(days, end)
    if period == "day":
        nav = {"title": day.strftime("%A, %B %-d, %Y"), "prev": f"/date/{before}" if before else None,
               "next": f"/date/{after}" if after else None}
    elif period == "week":
        nav = {
            "title": f"Week {week_name(day)} · {start.strftime('%b %-d')} – {end.strftime('%b %-d, %Y')}",
            "prev": f"/week/{week_name(before)}" if before else None,
            "next": f"/week/{week_name(after)}" if after else None,
        }
    else:
        nav = {
            "title": day.strftime("%B %Y"),
            "prev": f"/month/{month_name(before)}" if before else None,
            "next": f"/month/{month_name(after)}" if after else None,
        }
    return render(
        request, "daily.html", entries=entries, voted=voted, period=period, day=day, nav=nav, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), total=total, offset=page * PAGE_SIZE,
        links={"day": f"/date/{day}", "week": f"/week/{week_name(day)}", "month": f"/month/{month_name(day)}"},
        latest=days[-1] if days else None, saved_ids=saved, splits=splits, note=note,
        rising=rising, rising_period="month" if period == "month" else "week",
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, p: int = Query(0, ge=0, le=10_000)) -> Response:
    def build() -> Response:
        days = cached_featured_days(request)
        today = utcnow().date()
        if not days or days[-1] == today:
            return _page(request, "day", today, p)
        # Nothing featured today (yet): the latest day with papers, saying so.
        return _page(request, "day", days[-1], p, note="Nothing has been featured today yet; this is the latest day with papers.")

    return await _cached(request, build)


@router.get("/date/{value}", response_class=HTMLResponse)
async def by_day(request: Request, value: str, p: int = Query(0, ge=0, le=10_000)) -> Response:
    day = parse_day(value)
    return await _cached(request, lambda: _page(request, "day", day, p))


@router.get("/week/{value}", response_class=HTMLResponse)
async def by_week(request: Request, value: str, p: int = Query(0, ge=0, le=10_000)) -> Response:
    day = parse_week(value)
    return await _cached(request, lambda: _page(request, "week", day, p))


@router.get("/month/{value}", response_class=HTMLResponse)
async def by_month(request: Request, value: str, p: int = Query(0, ge=0, le=10_000)) -> Response:
    day = parse_month(value)
    return await _cached(request, lambda: _page(request, "month", day, p))


@router.get("/hot", response_class=HTMLResponse)
async def hot_page(request: Request, p: int = Query(0, ge=0, le=10_000)) -> Response:
    def build() -> Response:
        user = current_user(request)
        with request.app.state.db.session() as session:
            # One more than a page tells whether a next page exists.
            entries = hot(session, limit=PAGE_SIZE + 1, offset=p * PAGE_SIZE, where=visible_for(session, user))
            has_next = len(entries) > PAGE_SIZE
            entries = entries[:PAGE_SIZE]
            saved = saved_among(session, user, entries)
            voted = voted_ids(session, user, [e.paper.id for e in entries])
            splits = entry_splits(session, entries)
        return render(request, "hot.html", entries=entries, voted=voted, page=p, offset=p * PAGE_SIZE,
                      has_next=has_next, saved_ids=saved, splits=splits)

    return await _cached(request, build)
