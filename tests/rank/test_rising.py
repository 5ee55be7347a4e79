"""Rising topics: the statistic, its guards, and real Hugging Face lists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from paperwire.rank.rising import MIN_SCORE, RisingTopic, log_likelihood, rising_topics, topic_trends
from paperwire.rank.topics import build_topics
from paperwire.records import PaperRecord
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.papers import upsert_papers
from tests.conftest import DEMO_DIR, SHARED_CORPUS

MONDAY = date(2025, 6, 2)


def _add(db, records):
    with db.session() as s:
        upsert_papers(s, records)


def _paper(title, day, keywords):
    return PaperRecord(title=title, featured_on=day, ai_keywords=keywords, source="test")


def test_log_likelihood_is_dunnings_g2_and_signed():
    from scipy.stats import chi2_contingency

    # The reference: scipy's log-likelihood (G) test of the 2x2 table, no continuity correction.
    expected = chi2_contingency([[10, 90], [10, 990]], correction=False, lambda_="log-likelihood")[0]
    assert log_likelihood(10, 100, 10, 1000) == pytest.approx(expected)
    assert log_likelihood(10, 1000, 10, 100) == pytest.approx(-expected)
    assert log_likelihood(5, 100, 50, 1000) == pytest.approx(0.0)
    assert log_likelihood(1, 0, 1, 10) == 0.0


@pytest.fixture
def weeks(db):
    """Eight baseline weeks with a steady topic, then a week where "world models" jumps."""
    records = []
    for week in range(9):
        start = MONDAY + timedelta(weeks=week)
        for i in range(20):
            keywords = ["steady topic"] if i < 4 else ["filler words"] if i < 7 else [f"other {week} {i}"]
            if week == 8 and i >= 14:
                keywords = ["world models"]
            if week == 8 and i == 13:
                keywords = ["one-off word"]
            if week < 8 and i == 0 and week % 4 == 0:
                keywords = ["world models", "steady topic"]
            if week == 3 and i == 12:
                keywords = ["one-off word"]
            if week == 5 and i == 12:
                keywords = ["one-off word"]
            records.append(_paper(f"Paper {week}-{i}", start + timedelta(days=i % 5), keywords))
    _add(db, records)
    build_topics(db)
    return db


def test_a_jump_rises_and_steady_or_one_off_topics_do_not(weeks):
    with weeks.session() as s:
        rising = rising_topics(s, period="week", end=MONDAY + timedelta(weeks=8, days=4))
    assert [r.topic.slug for r in rising] == ["world-model"]
    top = rising[0]
    assert isinstance(top, RisingTopic)
    assert top.count == 6 and top.share == pytest.approx(6 / 20)
    assert top.baseline_share == pytest.approx((2 + 1) / 160)  # smoothed: one pseudo-paper
    assert top.expected == pytest.approx(20 * 3 / 160)
    assert top.score >= MIN_SCORE
    assert top.series == [1, 0, 0, 0, 1, 0, 0, 0, 6]


def test_defaults_follow_the_corpus_end_and_bad_periods_fail(weeks):
    with weeks.session() as s:
        assert [r.topic.slug for r in rising_topics(s)] == ["world-model"]
        assert rising_topics(s, period="week", end=MONDAY + timedelta(weeks=4)) == []
        assert rising_topics(s, limit=0) == []
        with pytest.raises(ValueError):
            rising_topics(s, period="year")  # type: ignore[arg-type]
        starts, trends = topic_trends(s, period="week", top=2)
        assert starts[-1] == MONDAY + timedelta(weeks=8) and len(starts) == 26
        assert [t.slug for t, _ in trends] == ["steady-topic", "filler-word"]
        assert trends[0][1][-9:] == [4] * 9


def test_no_baseline_no_rising(db):
    _add(db, [_paper(f"P{i}", MONDAY, ["only week"]) for i in range(10)])
    build_topics(db)
    with db.session() as s:
        assert rising_topics(s) == []


def test_demo_lists_rise_with_sensible_topics(db):
    for path in sorted((DEMO_DIR / "hf-daily").glob("*.json")):
        import_items(db, read_path(path))
    build_topics(db)
    with db.session() as s:
        month = rising_topics(s, period="month", end=date(2025, 12, 31))
        week = rising_topics(s, period="week", end=date(2025, 12, 12))
    assert month and week
    for item in month + week:
        assert item.count >= 3 and item.score >= MIN_SCORE and item.share > item.baseline_share
        assert len(item.series) in (7, 9) and item.series[-1] == item.count


@pytest.mark.skipif(not (SHARED_CORPUS / "hf-daily-papers").is_dir(), reason="shared corpus not here")
def test_shared_lists_of_a_2025_month(db):
    for path in sorted((SHARED_CORPUS / "hf-daily-papers").glob("2025-0[1-3]-*.json")):
        import_items(db, read_path(path), skip_invalid=True)
    build_topics(db)
    with db.session() as s:
        rising = rising_topics(s, period="month", end=date(2025, 3, 31))
    assert len(rising) >= 5
    assert all(r.count >= 6 for r in rising)
