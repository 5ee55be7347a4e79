"""JSON API of topics: ``GET /api/topics/rising`` and ``GET /api/topics/{slug}``.

Rising topics follow :mod:`paperwire.rank.rising` (signed Dunning G² of the
period against the trailing baseline); "this week" is the week of the
newest paper day in the catalogue unless ``end`` says otherwise. A topic
whose slug is literally ``rising`` is reachable only through search (the
route above wins).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from paperwire.rank.rising import BASELINE_PERIODS, MIN_SCORE, rising_topics
from paperwire.rank.topics import (
    corpus_end_date, get_topic, period_start, related_topics, shift_periods, topic_authors, topic_papers, topic_series,
)
from paperwire.store.community import comment_counts, upvote_counts
from paperwire.store.db import Database
from paperwire.web.api import ERRORS, PaperOut, paper_out
from paperwire.web.deps import get_db

router = APIRouter(prefix="/api/topics", tags=["topics"])


class TopicOut(BaseModel):
    slug: str
    label: str
    kind: str = Field(description="category | keyword | phrase")


class PeriodCount(BaseModel):
    start: date = Field(description="First day of the period (Monday / 1st of the month)")
    papers: int


class RisingTopicOut(TopicOut):
    count: int = Field(description="Papers of the current period carrying the topic")
    expected: float = Field(description="Count the (smoothed) trailing baseline share predicts")
    score: float = Field(description="Signed Dunning log-likelihood G² (≥ 3.84 to be listed)")
    share: float
    baselineShare: float
    series: list[PeriodCount] = Field(description="Baseline periods, then the current one")


class RisingOut(BaseModel):
    period: str
    start: date | None = Field(description="First day of the current period")
    end: date | None = Field(description="Last day counted")
    baselinePeriods: int
    minScore: float
    topics: list[RisingTopicOut]


class SharedTopicOut(TopicOut):
    shared: int = Field(description="Papers carrying both topics")


class AuthorCountOut(BaseModel):
    name: str
    papers: int


class TopicDetailOut(TopicOut):
    period: str
    series: list[PeriodCount]
    related: list[SharedTopicOut]
    authors: list[AuthorCountOut]
    papers: list[PaperOut] = Field(description="Most upvoted (order=upvotes) or newest papers")


@router.get("/rising", response_model=RisingOut, responses=ERRORS)
def rising(
    period: Literal["week", "month"] = Query("week"),
    end: date | None = Query(None, description="YYYY-MM-DD, last day of the period (default: newest paper day)"),
    limit: int = Query(10, ge=1, le=50),
    kind: Literal["category", "keyword", "phrase"] | None = Query(None, description="Only topics of this kind"),
    db: Database = Depends(get_db),
) -> RisingOut:
    """Topics whose share of the period's papers grew most against the trailing baseline."""
    with db.session() as session:
        end = end or corpus_end_date(session)
        items = rising_topics(session, period=period, end=end, limit=limit, kinds=[kind] if kind else None)
    start = period_start(end, period) if end else None
    first = shift_periods(start, period, -BASELINE_PERIODS[period]) if start else None

    def series(values: list[int]) -> list[PeriodCount]:
        return [PeriodCount(start=shift_periods(first, period, i), papers=n) for i, n in enumerate(values)]

    return RisingOut(period=period, start=start, end=end, baselinePeriods=BASELINE_PERIODS[period], minScore=MIN_SCORE,
                     topics=[RisingTopicOut(slug=r.topic.slug, label=r.topic.label, kind=r.topic.kind, count=r.count,
                                            expected=round(r.expected, 3), score=r.score, share=round(r.share, 5),
                                            baselineShare=round(r.baseline_share, 5), series=series(r.series))
                             for r in items])


@router.get("/{slug}", response_model=TopicDetailOut, responses=ERRORS)
def topic_detail(
    slug: str,
    period: Literal["week", "month"] = Query("week"),
    order: Literal["upvotes", "newest"] = Query("upvotes"),
    limit: int = Query(10, ge=0, le=50),
    db: Database = Depends(get_db),
) -> TopicDetailOut:
    """One topic: papers per period (zero-filled), related topics, most active authors, papers."""
    if len(slug) > 200:
        raise HTTPException(404, "Unknown topic.")
    with db.session() as session:
        topic = get_topic(session, slug)
        if topic is None:
            raise HTTPException(404, f"Unknown topic {slug!r}.")
        series = topic_series(session, slug, period=period)
        related = related_topics(session, slug, limit=10)
        authors = topic_authors(session, slug, limit=10)
        papers = topic_papers(session, slug, order=order, limit=limit)
        ids = [p.id for p in papers]
        votes, comments = upvote_counts(session, ids), comment_counts(session, ids, imported=True)
        return TopicDetailOut(
            slug=topic.slug, label=topic.label, kind=topic.kind, period=period,
            series=[PeriodCount(start=d, papers=n) for d, n in series],
            related=[SharedTopicOut(slug=t.slug, label=t.label, kind=t.kind, shared=n) for t, n in related],
            authors=[AuthorCountOut(name=name, papers=n) for name, n in authors],
            papers=[paper_out(p, votes.get(p.id, 0), comments.get(p.id, 0)) for p in papers],
        )
