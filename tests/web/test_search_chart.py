"""The search page's chart of matches over time (issue 16, item 3)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from html import unescape

from fastapi.testclient import TestClient

from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app
from paperwire.web.charts import Chart, sparkline_points, trimmed
from paperwire.web.search_timeline import match_days, search_chart, zero_filled

MONDAY = date(2025, 11, 3)


def _seed(db) -> None:
    records = []
    for week, count in enumerate([3, 0, 1, 5]):  # weeks of Nov 3, 10, 17, 24
        for i in range(count):
            records.append(PaperRecord(
                title=f"Quantum annealing schedule {week}-{i}", arxiv_id=f"2511.{week:02d}{i:03d}",
                abstract="Quantum annealing with a tuned schedule.", authors=["Ada"], categories=["quant-ph"],
                featured_on=MONDAY + timedelta(weeks=week, days=i % 4), source="test"))
    records.append(PaperRecord(title="Quantum walks, never featured", arxiv_id="2511.09999", abstract="walks",
                               submitted=datetime(2025, 11, 26, 12), categories=["quant-ph"], source="test"))
    records.append(PaperRecord(title="Unrelated optics", arxiv_id="2511.09998", abstract="lenses",
                               featured_on=MONDAY, source="test"))
    with db.session() as session:
        upsert_papers(session, records)


def _chart(html: str) -> dict:
    match = re.search(r'id="search-chart" data-chart=\'([^\']*)\'', html)
    assert match, "no search chart"
    return json.loads(unescape(match.group(1)))


def test_search_page_charts_every_match_per_week(db):
    _seed(db)
    with TestClient(create_app(db)) as client:
        html = client.get("/search", params={"q": "quantum", "mode": "lexical"}).text
    data = _chart(html)
    assert data["period"] == "week"
    assert data["x"] == ["2025-11-03", "2025-11-10", "2025-11-17", "2025-11-24"]
    # Featured day where there is one, else the submission day (the walks paper: Nov 26).
    assert data["y"] == [3, 0, 1, 6]
    assert "<table class=\"counts\">" in html
    assert "Matches per week" in html and "counted" not in html  # every match has a date


def test_undated_matches_are_said_to_be_left_out(db):
    _seed(db)
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title="Quantum tunnelling, undated", arxiv_id="2511.09997",
                                            abstract="quantum", source="test")])
    chart = search_chart(db, "quantum")
    assert chart.total == 10 and chart.title == "Matches per week · 10 of 11 matches counted"


def test_the_chart_counts_the_whole_match_set_not_the_page(db, monkeypatch):
    from paperwire.web.views import search as search_view

    _seed(db)
    days, total = match_days(db, "quantum")
    assert len(days) == total == 10
    monkeypatch.setattr(search_view, "PAGE_SIZE", 3)
    with TestClient(create_app(db)) as client:  # page 2 of three-per-page still charts all ten
        html = client.get("/search", params={"q": "quantum", "mode": "lexical", "p": 1}).text
    assert html.count('class="card compact"') == 3
    assert sum(_chart(html)["y"]) == 10


def test_no_chart_without_matches_or_for_bad_queries(db):
    _seed(db)
    with TestClient(create_app(db)) as client:
        assert 'id="search-chart"' not in client.get("/search", params={"q": "zebra"}).text
        assert 'id="search-chart"' not in client.get("/search").text
        bad = client.get("/search", params={"q": 'after:"not a date'})
        assert bad.status_code in (200, 422) and 'id="search-chart"' not in bad.text
    assert search_chart(db, "") is None


def test_long_spans_count_per_month_or_year():
    days = [date(2025, 1, 5), date(2025, 3, 9), date(2025, 12, 1)]
    assert [d.isoformat() for d, _ in zero_filled(days, "month")][:3] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    assert zero_filled([date(2019, 5, 1), date(2025, 2, 2)], "year")[0] == (date(2019, 1, 1), 1)
    assert zero_filled([], "week") == []


def test_chart_helpers():
    chart = Chart("t", "week", [(date(2025, 11, 3), 2), (date(2025, 11, 10), 0)])
    assert chart.total == 2 and chart.peak == 2
    assert chart.data() == {"title": "t", "period": "week", "x": ["2025-11-03", "2025-11-10"], "y": [2, 0]}
    assert chart.label(date(2025, 11, 3)) == "Nov 3, 2025"
    assert trimmed([(date(2020, 1, 6), 0), (date(2020, 1, 13), 1), (date(2020, 1, 20), 0)], keep=10) == [
        (date(2020, 1, 13), 1), (date(2020, 1, 20), 0)]
    assert sparkline_points([]) == ""
    assert sparkline_points([0, 0]) == "2.0,18.0 78.0,18.0"
    assert sparkline_points([1, 3], width=10, height=10, pad=0) == "0.0,6.7 10.0,0.0"


def test_the_chart_reads_the_days_from_the_index_not_the_papers_table(db):
    """Loading every match's row (1,000 at most) was two thirds of a search page's time."""
    from sqlalchemy import event

    _seed(db)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        days, total = match_days(db, "quantum")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert total == 10 and len(days) == 10
    assert statements and not [s for s in statements if re.search(r"\b(FROM|JOIN) papers\b", s)]


def test_periods_counted_at_once_agree_with_the_calendar():
    """The chart counts up to 1,000 days per page in one array operation; the periods
    must be the calendar's (weeks from Monday, months, years), leap days included."""
    import random
    from collections import Counter
    from datetime import timedelta

    rng = random.Random(5)
    days = [date(1999, 12, 20) + timedelta(days=rng.randrange(3000)) for _ in range(400)] + [date(2024, 2, 29)]
    starts = {"week": lambda d: d - timedelta(days=d.weekday()), "month": lambda d: d.replace(day=1),
              "year": lambda d: d.replace(month=1, day=1)}
    for period, start in starts.items():
        counted = dict(zero_filled(days, period))
        assert {k: v for k, v in counted.items() if v} == dict(Counter(map(start, days)))
        assert all(k.weekday() == 0 for k in counted) if period == "week" else True


def test_undated_keys_are_not_days():
    from datetime import datetime

    from paperwire.index.lexical_tantivy import date_key, key_days

    days = key_days([date_key(7, datetime(2024, 2, 29, 23, 59)), date_key(8, None), date_key(9, datetime(1970, 1, 1))])
    assert [str(d) for d in days] == ["2024-02-29", "NaT", "1970-01-01"]
