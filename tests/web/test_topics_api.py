"""Topic API and the rising-topics feed over a real database and the real app."""

from __future__ import annotations

from datetime import date, timedelta

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperwire.rank.topics import build_topics
from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app
from tests.deliver.feed_rules import atom_problems, rss_problems

MONDAY = date(2025, 6, 2)
XSS = '<script>window.__pwned=1</script>'


@pytest.fixture
def topics_client(db):
    records = []
    for week in range(9):
        for i in range(20):
            keywords = ["steady topic"] if i < 4 else [f"other {week} {i}"]
            if week == 8 and i >= 14:
                keywords = ["world models", XSS + " attack"]
            records.append(PaperRecord(title=f"Paper {week}-{i}", arxiv_id=f"2506.{week:02d}{i:03d}",
                                       featured_on=MONDAY + timedelta(weeks=week, days=i % 5), upvotes=i,
                                       ai_keywords=keywords, authors=["Ada Lovelace", f"B {i}"],
                                       categories=["cs.LG"], source="test"))
    with db.session() as s:
        upsert_papers(s, records)
    build_topics(db)
    with TestClient(create_app(db)) as client:
        yield client


def test_rising_api(topics_client):
    body = topics_client.get("/api/topics/rising").json()
    assert body["period"] == "week" and body["start"] == "2025-07-28" and body["end"] == "2025-08-01"
    assert body["baselinePeriods"] == 8 and body["minScore"] == 3.84
    slugs = [t["slug"] for t in body["topics"]]
    assert slugs[0] == "world-model" or slugs[1] == "world-model"
    world = next(t for t in body["topics"] if t["slug"] == "world-model")
    assert world["count"] == 6 and world["score"] >= 3.84 and world["kind"] == "keyword"
    assert [p["papers"] for p in world["series"]] == [0] * 8 + [6]
    assert world["series"][0]["start"] == "2025-06-02" and world["series"][-1]["start"] == "2025-07-28"
    assert topics_client.get("/api/topics/rising?end=2025-06-20").json()["topics"] == []
    assert len(topics_client.get("/api/topics/rising?limit=1").json()["topics"]) == 1
    month = topics_client.get("/api/topics/rising?period=month&kind=category").json()
    assert month["period"] == "month" and all(t["kind"] == "category" for t in month["topics"])


def test_topic_detail_api(topics_client):
    body = topics_client.get("/api/topics/steady-topic").json()
    assert body["label"] == "steady topic" and body["kind"] == "keyword"
    assert [s["papers"] for s in body["series"]] == [4] * 9
    assert body["authors"][0] == {"name": "Ada Lovelace", "papers": 36}
    assert body["papers"][0]["upvotes"] == 3 and len(body["papers"]) == 10
    assert {"slug": "cs.LG", "label": "Machine Learning (cs.LG)", "kind": "category", "shared": 36} in body["related"]
    newest = topics_client.get("/api/topics/steady-topic?order=newest&limit=2&period=month").json()
    assert [p["id"] for p in newest["papers"]][0].startswith("2506.08")
    assert newest["series"][0]["start"] == "2025-06-01"
    assert topics_client.get("/api/topics/cs.LG").json()["kind"] == "category"


def test_topic_api_errors_are_json(topics_client):
    for url, status in (("/api/topics/rising?period=year", 422), ("/api/topics/rising?end=soon", 422),
                        ("/api/topics/rising?limit=0", 422), ("/api/topics/nope", 404),
                        ("/api/topics/" + "x" * 300, 404), ("/api/topics/steady-topic?order=best", 422)):
        r = topics_client.get(url)
        assert r.status_code == status, url
        assert "error" in r.json()


def test_rising_feed_in_three_formats(topics_client):
    atom = topics_client.get("/feeds/topics/rising.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
    assert not atom_problems(atom.content)
    parsed = feedparser.parse(atom.content)
    assert not parsed.bozo
    titles = [e.title for e in parsed.entries]
    assert "world models — rising this week" in titles
    entry = parsed.entries[titles.index("world models — rising this week")]
    assert entry.link.endswith("/topics/world-model#rising-week-2025-07-28")
    assert "6 papers" in entry.summary and "G²" in entry.summary
    assert XSS not in atom.text  # labels are escaped by the writer
    rss = topics_client.get("/feeds/topics/rising.rss")
    assert rss.status_code == 200 and not rss_problems(rss.content) and not feedparser.parse(rss.content).bozo
    js = topics_client.get("/feeds/topics/rising.json?period=month").json()
    assert js["version"].endswith("1.1") and "month" in js["title"]
    assert topics_client.get("/feeds/topics/rising.xml").status_code == 404
    assert topics_client.get("/feeds/topics/rising.atom?period=year").status_code == 422
    again = topics_client.get("/feeds/topics/rising.atom", headers={"If-None-Match": atom.headers["etag"]})
    assert again.status_code == 304


def test_empty_catalogue(db):
    with TestClient(create_app(db)) as client:
        body = client.get("/api/topics/rising").json()
        assert body["topics"] == [] and body["start"] is None
        assert client.get("/feeds/topics/rising.atom").status_code == 200
