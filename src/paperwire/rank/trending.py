"""Trending papers: daily/weekly/monthly rankings and an all-time "hot" list.

**The trending rule.** Two kinds of votes exist and are kept apart:

* *source* upvotes and comments — what the source (Hugging Face) reported
  when the paper was featured, ``featured_papers.imported_upvotes`` /
  ``imported_comments`` (the largest when featured several times in the
  period); re-imports and harvests refresh them;
* *local* upvotes and comments — votes cast and visible comments written on
  this instance (``votes`` / ``comments`` rows).

A paper ranks by one score, ``upvotes = source upvotes + local upvotes``
(each account here counts once, like one account on Hugging Face).
:class:`TrendingEntry` carries both parts (``source_upvotes``,
``local_upvotes``, ``source_comments``, ``local_comments``) beside the totals
``upvotes`` and ``comments`` so pages can say "92 on Hugging Face · 3 here".

Period rankings order by ``upvotes``; ties keep the order in which the papers
were listed (the earliest featured row first, then the internal id, so two
runs always give the same order). Hugging Face's lists are ordered by upvotes
with equal counts in no order we could derive from their fields (checked on
the 393 real lists: neither comments nor dates), so keeping the list's order
makes a day page of an imported list exactly the list huggingface.co showed.
Comments do not break ties: on the real lists they would reorder ~15% of the
tied groups against the source. Everything is
one SQL statement per call: the period's featured rows are aggregated per
paper and vote/comment counts come from indexed correlated sub-queries, so a
day page over a 100k-paper catalogue stays in the low milliseconds.

Hot ranking (all time), HN-style::

    hot = (upvotes + 1) / (age_hours + 2) ** 1.5

with ``upvotes`` the same total (source + local) as above and ``age_hours``
measured from the start (00:00 UTC) of the first day
the paper was featured to ``now`` (never negative). The "+1" lets a paper
without votes still be ordered by age, the "+2" keeps brand-new papers from
dividing by ~0, and the exponent 1.5 (the "gravity") makes a paper need ever
more votes to stay on top as it ages. Ties: upvotes, comments, newer, id.

Personal lists: :func:`trending`, :func:`count_featured` and :func:`hot` take
an optional ``where``, an extra SQLAlchemy condition on ``Paper`` — for a
logged-in user :func:`paperwire.rank.exclusions.user_visible_condition`
(their exclusions and dismissals). It is part of the query, before ranking and
paging, so every page is full while enough papers remain and counts are what
the user can see. Without it (anonymous visitors) the statements are unchanged.
"""

from __future__ import annotations

import heapq
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paperwire.store.community import Comment, Vote
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import utcnow

Period = Literal["day", "week", "month"]
#: How equal upvotes are ordered: by comments then newest ("activity"), or by
#: the order the papers were featured ("listed").
GRAVITY = 1.5


@dataclass
class TrendingEntry:
    paper: Paper
    #: What the ranking uses: ``source_upvotes + local_upvotes``.
    upvotes: int
    #: ``source_comments + local_comments``.
    comments: int
    #: The (first) day in the period the paper was featured.
    day: date | None
    submitted_by: str | None
    #: Upvotes / comments the source reported (Hugging Face's figures).
    source_upvotes: int = 0
    source_comments: int = 0
    #: Votes cast / visible comments written on this instance.
    local_upvotes: int = 0
    local_comments: int = 0


def period_bounds(period: Period, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the ISO week / calendar month containing ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "month":
        return day.replace(day=1), day.replace(day=monthrange(day.year, day.month)[1])
    raise ValueError(f"unknown period {period!r} (day, week or month)")


def _vote_count(paper_id):
    return select(func.count()).where(Vote.paper_id == paper_id).correlate_except(Vote).scalar_subquery()


def _comment_count(paper_id):
    return (
        select(func.count()).where(Comment.paper_id == paper_id, Comment.hidden.is_(False))
        .correlate_except(Comment).scalar_subquery()
    )


def _submitters(session: Session, paper_ids: list[int], start: date | None, end: date | None) -> dict[int, str]:
    """Who submitted each paper (the earliest featured row naming someone)."""
    if not paper_ids:
        return {}
    query = (
        select(FeaturedPaper.paper_id, FeaturedPaper.submitted_by)
        .where(FeaturedPaper.paper_id.in_(paper_ids), FeaturedPaper.submitted_by.is_not(None))
        .order_by(FeaturedPaper.day.desc())
    )
    if start is not None and end is not None:
        query = query.where(FeaturedPaper.day.between(start, end))
    return {paper_id: name for paper_id, name in session.execute(query)}  # earliest day wins (last write)


def trending(
    session: Session, *, period: Period, day: date, limit: int = 50, offset: int = 0,
    where: ColumnElement[bool] | None = None,
) -> list[TrendingEntry]:
    """Papers featured in the period containing ``day``, most upvoted first.

    ``where`` (a condition on ``Paper``) drops papers before ranking and paging.
    """
    start, end = period_bounds(period, day)
    fp = FeaturedPaper
    agg = (
        select(
            fp.paper_id.label("paper_id"),
            func.max(fp.imported_upvotes).label("imported_upvotes"),
            func.max(fp.imported_comments).label("imported_comments"),
            func.min(fp.day).label("day"),
            # Featured rows are written in the source list's order: the tie-break.
            func.min(fp.id).label("listed"),
        )
        .where(fp.day.between(start, end))
        .group_by(fp.paper_id)
        .subquery()
    )
    # Labels must not be column names of papers ("comments"): PostgreSQL calls ORDER BY ambiguous.
    local_votes = _vote_count(agg.c.paper_id).label("local_upvotes")
    local_comments = _comment_count(agg.c.paper_id).label("local_comments")
    upvotes = (agg.c.imported_upvotes + _vote_count(agg.c.paper_id)).label("total_upvotes")
    rows = session.execute(
        select(Paper, agg.c.imported_upvotes, local_votes, agg.c.imported_comments, local_comments, agg.c.day)
        .join(agg, agg.c.paper_id == Paper.id)
        .where(Paper.hidden.is_(False), _extra(where))
        .order_by(upvotes.desc(), agg.c.listed, Paper.id)
        .limit(limit).offset(offset)
    ).all()
    names = _submitters(session, [row[0].id for row in rows], start, end)
    return [
        _entry(p, su, lu, sc, lc, _as_date(d), names.get(p.id)) for p, su, lu, sc, lc, d in rows
    ]


def _entry(paper: Paper, source_up, local_up, source_comments, local_comments, day, submitted_by) -> TrendingEntry:
    su, lu, sc, lc = (int(v or 0) for v in (source_up, local_up, source_comments, local_comments))
    return TrendingEntry(
        paper=paper, upvotes=su + lu, comments=sc + lc, day=day, submitted_by=submitted_by,
        source_upvotes=su, local_upvotes=lu, source_comments=sc, local_comments=lc,
    )


def count_featured(session: Session, *, period: Period, day: date, where: ColumnElement[bool] | None = None) -> int:
    """How many visible papers were featured in the period (for paging); ``where`` as in :func:`trending`."""
    start, end = period_bounds(period, day)
    return session.scalar(
        select(func.count(func.distinct(FeaturedPaper.paper_id)))
        .join(Paper, Paper.id == FeaturedPaper.paper_id)
        .where(FeaturedPaper.day.between(start, end), Paper.hidden.is_(False), _extra(where))
    ) or 0


def hot_score(upvotes: int, featured: date, now: datetime) -> float:
    """The documented time-decay score (see the module docstring)."""
    age_hours = max(0.0, (now - datetime.combine(featured, time())).total_seconds() / 3600)
    return (upvotes + 1) / (age_hours + 2) ** GRAVITY


def hot(
    session: Session, *, now: datetime | None = None, limit: int = 50, offset: int = 0,
    where: ColumnElement[bool] | None = None,
) -> list[TrendingEntry]:
    """All featured papers ranked by :func:`hot_score` (highest first).

    The score depends on ``now``, so every featured paper is scored here, in
    Python; ``where`` (a condition on ``Paper``) is applied in the SQL that
    loads them, so filtered-out papers never take a place on a page.
    """
    now = now or utcnow()
    fp = FeaturedPaper
    votes = select(Vote.paper_id, func.count().label("n")).group_by(Vote.paper_id).subquery()
    comments = (
        select(Comment.paper_id, func.count().label("n")).where(Comment.hidden.is_(False))
        .group_by(Comment.paper_id).subquery()
    )
    agg = (
        select(
            fp.paper_id.label("paper_id"),
            func.max(fp.imported_upvotes).label("iu"),
            func.max(fp.imported_comments).label("ic"),
            func.min(fp.day).label("day"),
        ).group_by(fp.paper_id).subquery()
    )
    rows = session.execute(
        select(
            agg.c.paper_id, agg.c.iu, func.coalesce(votes.c.n, 0), agg.c.ic, func.coalesce(comments.c.n, 0),
            agg.c.day, func.coalesce(Paper.submitted_at, Paper.imported_at),
        )
        .select_from(agg)
        .join(Paper, and_(Paper.id == agg.c.paper_id, Paper.hidden.is_(False), _extra(where)))
        .outerjoin(votes, votes.c.paper_id == agg.c.paper_id)
        .outerjoin(comments, comments.c.paper_id == agg.c.paper_id)
    ).all()
    parts = {pid: (su, lu, sc, lc) for pid, su, lu, sc, lc, _, _ in rows}
    scored = (
        (hot_score(int(su) + int(lu), _as_date(day), now), int(su) + int(lu), int(sc) + int(lc),
         newest or datetime.min, -pid, pid, _as_date(day))
        for pid, su, lu, sc, lc, day, newest in rows
    )
    top = heapq.nlargest(offset + limit, scored)[offset:]
    papers = {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_([t[5] for t in top])))}
    names = _submitters(session, list(papers), None, None)
    return [_entry(papers[pid], *parts[pid], day, names.get(pid)) for _, _, _, _, _, pid, day in top]


def featured_days(session: Session) -> list[date]:
    """Days with at least one visible featured paper, oldest first.

    Reads the ``day`` index only; days touched by a hidden paper (rare) are
    then checked one by one, so this stays fast on large catalogues.
    """
    days = [_as_date(d) for d in session.scalars(select(FeaturedPaper.day).group_by(FeaturedPaper.day).order_by(FeaturedPaper.day))]
    suspect = {
        _as_date(d) for d in session.scalars(
            select(FeaturedPaper.day).join(Paper, Paper.id == FeaturedPaper.paper_id).where(Paper.hidden.is_(True))
        )
    }
    empty = {
        d for d in suspect
        if not session.scalar(
            select(FeaturedPaper.id).join(Paper, Paper.id == FeaturedPaper.paper_id)
            .where(FeaturedPaper.day == d, Paper.hidden.is_(False)).limit(1)
        )
    }
    return [d for d in days if d not in empty]


def neighbour_days(days: list[date], day: date) -> tuple[date | None, date | None]:
    """The featured days just before and after ``day`` (for previous/next links)."""
    from bisect import bisect_left, bisect_right

    before = bisect_left(days, day)
    after = bisect_right(days, day)
    return (days[before - 1] if before > 0 else None, days[after] if after < len(days) else None)


def _extra(where: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """``where`` or nothing (``and_``/``where`` drop a ``true()``: anonymous SQL stays as it was)."""
    return true() if where is None else where


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):  # SQLite returns text for aggregates of Date columns
        return date.fromisoformat(value[:10])
    return value
