"""The trends page and the home page's "Rising this week" (issue 16, items 2 and 5)."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient

from paperwire.web.app import create_app
from paperwire.web.views.trends import _months_back, trend_window
from tests.web.topic_corpus import LAST_MONDAY, WEEKS, XSS, seed_topics


@pytest.fixture
def client(db):
    seed_topics(db)
    with TestClient(create_app(db)) as c:
        yield c


def _charts(html: str) -> dict[str, dict]:
    return {m.group(1): json.loads(unescape(m.group(2)))
            for m in re.finditer(r'id="(trend-[^"]+)" data-chart=\'([^\']*)\'', html)}


def test_trends_show_topics_and_categories_per_week(client):
    response = client.get("/trends")
    assert response.status_code == 200
    html = response.text
    assert 'id="trends-category"' in html
    charts = _charts(html)
    assert charts and all(c["period"] == "week" for c in charts.values())
    assert all(len(c["x"]) == len(c["y"]) for c in charts.values())
    assert 'href="/topics/cs.LG"' in html
    cs_lg = next(c for c in charts.values() if c["title"] == "cs.LG" or "cs.LG" in c["title"])
    assert sum(cs_lg["y"]) == 6 * WEEKS
    assert XSS not in html


def test_period_picker_month_and_ranges(client):
    html = client.get("/trends", params={"period": "month", "range": "2y"}).text
    charts = _charts(html)
    assert charts and all(c["period"] == "month" for c in charts.values())
    assert all(c["x"][0].endswith("-01") for c in charts.values())
    assert '<option value="month" selected>' in html
    explicit = client.get("/trends", params={"start": "2025-11-17", "end": "2025-11-30"}).text
    weeks = {tuple(c["x"]) for c in _charts(explicit).values()}
    assert weeks == {("2025-11-17", "2025-11-24")}


@pytest.mark.parametrize("params", [
    {"period": "fortnight"}, {"range": "forever"}, {"start": "yesterday"}, {"end": "2025-13-45"},
    {"start": "2025-12-01", "end": "2025-11-01"}, {"period": "x" * 500}, {"start": "\x00"},
    {"start": "1900-01-01"}, {"range": "all"},
])
def test_bad_picker_values_are_clear_422s(client, params):
    response = client.get("/trends", params=params)
    assert response.status_code == 422
    assert "Invalid input" in response.text


def test_trend_window_is_relative_to_the_newest_paper():
    newest = date(2025, 11, 26)
    assert trend_window(newest, "3m", None, None) == (date(2025, 8, 1), newest)
    assert trend_window(newest, "2y", None, None) == (date(2023, 11, 1), newest)
    assert trend_window(newest, "3m", date(2021, 1, 1), None, "month") == (date(2021, 1, 1), newest)
    assert trend_window(None, "3m", None, None) == (None, None)
    assert _months_back(date(2025, 2, 10), 3) == date(2024, 11, 1)


def test_home_page_shows_rising_topics_with_sparklines(client):
    html = client.get(f"/date/{LAST_MONDAY.isoformat()}").text
    section = html[html.index('id="rising"'):html.index("</section>", html.index('id="rising"'))]
    assert "Rising this week" in section
    links = re.findall(r'href="/topics/([^"]+)" class="topic-link"[^>]*>([^<]+)<', section)
    assert links, section
    assert any("diffusion" in label.lower() or slug == "cs.CV" for slug, label in links)
    assert "<svg class=\"spark\"" in section and "<polyline" in section
    assert client.get("/").status_code == 200


def test_month_page_says_rising_this_month(client):
    html = client.get("/month/2025-11").text
    assert "Rising this month" in html


def test_home_page_without_topics_says_so(db):
    with TestClient(create_app(db)) as c:
        assert "No topic is rising this week" in c.get("/").text
        assert c.get("/trends").status_code == 200
        assert "No topics in this range yet" in c.get("/trends").text
