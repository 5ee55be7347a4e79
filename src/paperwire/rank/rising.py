"""Rising topics: topics whose share of this period's papers grew significantly.

**The statistic.** For a topic, the *current period* is the ISO week (or
calendar month) holding ``end`` (up to and including ``end``); the *baseline*
is the ``BASELINE_PERIODS`` whole periods before it (8 weeks, 6 months). With

* ``a`` = papers of the current period carrying the topic, ``N1`` = papers of
  the current period (that carry any topic),
* ``b`` = papers of the baseline carrying it, ``N2`` = papers of the baseline,

the baseline count is smoothed to ``b' = b + BASELINE_PSEUDO`` (one paper), so
a topic never seen before is compared with "one paper in the baseline", not
with zero. The score is Dunning's log-likelihood ratio G² of the 2×2 table
``[[a, N1 − a], [b', N2 − b']]``::

    G² = 2 Σ O · ln(O / E)      (over the four cells, E from the row and column totals)

signed: positive when the current share ``a/N1`` exceeds the baseline share
``b'/N2``, negative otherwise. G² is χ²-distributed with one degree of
freedom when nothing changed, so ``MIN_SCORE = 3.84`` is p < 0.05 for one
topic (the list is a ranking, not a test over all topics). A topic rises
when ``a ≥ min_count`` (``topics_rising_min_count``, doubled for months),
its share grew and ``G² ≥ MIN_SCORE``; the list is ordered by G². The
minimum count and the smoothing are what keep one-off words off the list: a
phrase in two papers of a week, never seen before, has G² ≈ 4 on a 300-paper
week but stays under the minimum count.

``expected`` is ``N1 · b'/N2``, the count the smoothed baseline share
predicts; ``baseline_share`` is ``b'/N2``. Without any baseline papers
(the start of a corpus) nothing can rise and the list is empty. Of topics
whose words contain each other ("video generation" / "video generation
model") only the higher-scoring one is listed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from paperwire.rank.topics import (
    Period, Topic, corpus_end_date, papers_in, period_end, period_start, period_starts, series_of, shift_periods,
    topic_counts, topics_by_id,
)

BASELINE_PERIODS = {"week": 8, "month": 6}
BASELINE_PSEUDO = 1.0
MIN_SCORE = 3.84
#: Periods a trends chart spans by default.
TREND_PERIODS = {"week": 26, "month": 12}


@dataclass(frozen=True)
class RisingTopic:
    topic: Topic
    count: int  # papers in the current period
    expected: float  # count expected from the trailing baseline share
    score: float  # the documented statistic (higher = more significant rise)
    share: float  # count / papers in the period
    baseline_share: float
    series: list[int]  # counts per period, oldest first, ending with the current one (for sparklines)


def _xlogx_ratio(observed: float, expected: float) -> float:
    return observed * math.log(observed / expected) if observed > 0 and expected > 0 else 0.0


def log_likelihood(a: float, n1: float, b: float, n2: float) -> float:
    """Signed Dunning G² of count ``a`` of ``n1`` against ``b`` of ``n2`` (no smoothing here)."""
    total = n1 + n2
    if n1 <= 0 or n2 <= 0 or total <= 0:
        return 0.0
    hits = a + b
    misses = total - hits
    cells = ((a, n1 * hits / total), (n1 - a, n1 * misses / total),
             (b, n2 * hits / total), (n2 - b, n2 * misses / total))
    g2 = 2.0 * sum(_xlogx_ratio(o, e) for o, e in cells)
    return g2 if a / n1 > b / n2 else -g2


def min_count_for(period: Period) -> int:
    from paperwire.settings import get_settings

    base = get_settings().topics_rising_min_count
    return base * 2 if period == "month" else base


def _contains(a: str, b: str) -> bool:
    return f"-{b}-" in f"-{a}-" or f"-{a}-" in f"-{b}-"


def rising_topics(session: Session, *, period: Period = "week", end: date | None = None,
                  limit: int = 10, kinds: Sequence[str] | None = None) -> list[RisingTopic]:
    """The topics rising most in the period holding ``end`` (default: the corpus' newest day)."""
    period_start(date.today(), period)  # validates the period
    end = end or corpus_end_date(session)
    if end is None or limit <= 0:
        return []
    current = period_start(end, period)
    first_baseline = shift_periods(current, period, -BASELINE_PERIODS[period])
    baseline_end = date.fromordinal(current.toordinal() - 1)
    n1 = papers_in(session, current, end)
    n2 = papers_in(session, first_baseline, baseline_end)
    if n1 == 0 or n2 == 0:
        return []
    now = topic_counts(session, current, end, kinds=kinds)
    before = topic_counts(session, first_baseline, baseline_end, kinds=kinds)
    min_count = min_count_for(period)
    scored = []
    for topic_id, a in now.items():
        if a < min_count:
            continue
        b = before.get(topic_id, 0) + BASELINE_PSEUDO
        score = log_likelihood(a, n1, b, n2)
        if score >= MIN_SCORE:
            scored.append((score, topic_id, a, b))
    scored.sort(key=lambda item: (-item[0], item[1]))
    topics = topics_by_id(session, [t for _s, t, _a, _b in scored[:limit * 4]])
    chosen: list[tuple[float, int, int, float]] = []
    for item in scored:
        topic = topics.get(item[1])
        if topic is None:
            continue
        if topic.kind != "category" and any(_contains(topic.slug, topics[c[1]].slug) for c in chosen):
            continue
        chosen.append(item)
        if len(chosen) >= limit:
            break
    starts = period_starts(first_baseline, end, period)
    series = series_of(session, [c[1] for c in chosen], starts, period)
    return [
        RisingTopic(topic=topics[tid], count=a, expected=n1 * b / n2, score=round(score, 3), share=a / n1,
                    baseline_share=b / n2, series=series[tid])
        for score, tid, a, b in chosen
    ]


def topic_trends(session: Session, *, period: Period = "week", start: date | None = None,
                 end: date | None = None, top: int = 8,
                 kind: str | None = None) -> tuple[list[date], list[tuple[Topic, list[int]]]]:
    """The ``top`` topics with the most papers in [start, end], with their counts per period.

    Defaults: ``end`` = the corpus' newest day, ``start`` = ``TREND_PERIODS``
    periods before (26 weeks, 12 months). Returns (period starts, [(topic, counts)]).
    """
    period_start(date.today(), period)  # validates the period
    end = end or corpus_end_date(session)
    if end is None:
        return [], []
    if start is None:
        start = shift_periods(period_start(end, period), period, -(TREND_PERIODS[period] - 1))
    if start > end:
        return [], []
    starts = period_starts(start, end, period)
    counts = topic_counts(session, starts[0], min(end, period_end(starts[-1], period)),
                          kinds=[kind] if kind else None)
    best = [tid for tid, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max(0, top)]]
    topics = topics_by_id(session, best)
    series = series_of(session, best, starts, period)
    return starts, [(topics[tid], series[tid]) for tid in best if tid in topics]
