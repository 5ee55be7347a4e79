"""Topic pages, the topics index, following a topic and its feed (issue 16, item 3)."""

from __future__ import annotations

import json
import re
from html import unescape

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperwire.rank.topics import get_topic, topic_papers
from paperwire.rank.usermodel import follow_matches
from paperwire.store.library import follows
from paperwire.web.app import create_app
from paperwire.web.views.topics import follow_rule_for
from tests.web.conftest import csrf_from, signup
from tests.web.topic_corpus import RISING_LAST_WEEK, WEEKS, XSS, seed_topics


@pytest.fixture
def topic_db(db):
    seed_topics(db)
    return db


@pytest.fixture
def client(topic_db):
    with TestClient(create_app(topic_db)) as c:
        yield c


def _slug(db, kind: str, word: str) -> str:
    """The slug of the topic of ``kind`` whose label holds ``word`` (topics-core names them)."""
    from paperwire.rank.topics import find_topics

    with db.session() as session:
        found = [t for t in find_topics(session, word, limit=20) if t.kind == kind]
    assert found, f"no {kind} topic for {word!r}"
    return found[0].slug


def _chart_data(html: str, figure_id: str) -> dict:
    match = re.search(rf'<figure class="chart[^"]*" id="{figure_id}" data-chart=\'([^\']*)\'', html)
    assert match, f"no chart {figure_id}"
    return json.loads(unescape(match.group(1)))


def test_category_topic_page_has_chart_papers_related_and_authors(client, topic_db):
    response = client.get("/topics/cs.CV")
    assert response.status_code == 200
    html = response.text
    data = _chart_data(html, "topic-chart")
    assert data["period"] == "week"
    assert sum(data["y"]) == WEEKS - 1 + RISING_LAST_WEEK  # every cs.CV paper, once
    assert data["y"][-1] == RISING_LAST_WEEK
    assert len(data["x"]) == len(data["y"]) == WEEKS
    assert "<table class=\"counts\">" in html  # readable without JavaScript
    assert "Diffusion models for image editing" in html
    assert "Ada Lovelace" in html  # the most active author
    assert 'href="/feeds/topics/cs.CV.atom"' in html
    assert "Log in to follow" in html


def test_most_upvoted_and_newest_orders_and_paging(client):
    top = client.get("/topics/cs.CV").text
    titles = re.findall(r'class="math">(Diffusion models[^<]*)<', top)
    assert titles[0].endswith(str(max(int(t.rsplit(" ", 1)[1]) for t in titles)))  # most upvoted first
    newest = client.get("/topics/cs.CV?order=newest").text
    assert 'class="active" aria-current="true">Newest' in newest
    second = client.get("/topics/cs.CV?order=newest&p=1")
    assert second.status_code == 200
    assert "← Previous" in second.text
    assert client.get("/topics/cs.CV?order=sideways&p=99").status_code == 200  # unknown order: the default
    assert "No more papers on this topic." in client.get("/topics/cs.CV?p=99").text


@pytest.mark.parametrize("slug", ["no-such-topic", "x" * 5000, XSS, "%00", "cs.CV%2F..%2F"])
def test_unknown_or_bad_slug_is_a_404_page(client, slug):
    response = client.get(f"/topics/{slug}")
    assert response.status_code == 404
    assert "<script>window" not in response.text
    assert "There is no topic called" in response.text or "nothing at this address" in response.text


def test_bad_page_number_is_422_not_500(client):
    assert client.get("/topics/cs.CV?p=-1").status_code == 422
    assert client.get("/topics/cs.CV?p=abc").status_code == 422


def test_user_text_on_topic_pages_is_escaped(client, topic_db):
    page = client.get("/topics/cs.CR").text
    assert XSS not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    found = client.get("/topics", params={"q": XSS}).text
    assert XSS not in found


def test_follow_a_category_topic_becomes_a_category_follow_the_matcher_uses(client, topic_db):
    signup(client, "reader")
    page = client.get("/topics/cs.CV").text
    response = client.post("/topics/cs.CV/follow", data={"csrf_token": csrf_from(page)}, follow_redirects=False)
    assert response.status_code == 303
    followed = client.get(response.headers["location"]).text
    assert "Following ✓" in followed and "Followed:" in followed
    with topic_db.session() as session:
        from paperwire.store.community import get_user

        user = get_user(session, "reader")
        rules = follows(session, user.id)
        assert rules == [("category", "cs.CV")]
        paper = topic_papers(session, "cs.CV", limit=1)[0]
        assert follow_matches(rules, paper.title, paper.abstract, paper.authors_text, paper.category_list) == rules
    # Following again changes nothing; unfollowing removes the rule.
    client.post("/topics/cs.CV/follow", data={"csrf_token": csrf_from(followed)})
    client.post("/topics/cs.CV/follow", data={"csrf_token": csrf_from(followed), "remove": "true"})
    with topic_db.session() as session:
        assert follows(session, user.id) == []


def test_follow_a_keyword_topic_becomes_a_keyword_follow(client, topic_db):
    slug = _slug(topic_db, "keyword", "image editing")
    signup(client, "kw_reader")
    page = client.get(f"/topics/{slug}").text
    client.post(f"/topics/{slug}/follow", data={"csrf_token": csrf_from(page)})
    with topic_db.session() as session:
        from paperwire.store.community import get_user

        topic = get_topic(session, slug)
        rules = follows(session, get_user(session, "kw_reader").id)
        assert rules == [follow_rule_for(topic)] and rules[0][0] == "keyword"
        # The one rule matcher finds the topic's papers with it.
        paper = topic_papers(session, slug, limit=1)[0]
        assert follow_matches(rules, paper.title, paper.abstract, paper.authors_text, paper.category_list)


def test_follow_needs_login_and_csrf(client):
    anonymous = client.post("/topics/cs.CV/follow", data={}, follow_redirects=False)
    assert anonymous.status_code in (401, 403)
    signup(client, "no_token")
    assert client.post("/topics/cs.CV/follow", data={}).status_code == 403
    assert client.post("/topics/nope/follow", data={"csrf_token": csrf_from(client.get("/topics").text)}).status_code == 404


def test_topic_feed_lists_the_newest_papers_of_the_topic(client, topic_db):
    response = client.get("/feeds/topics/cs.CV.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.feed.title == "paperwire — cs.CV" or "cs.CV" in feed.feed.title
    assert len(feed.entries) == WEEKS - 1 + RISING_LAST_WEEK
    assert all("Diffusion models" in e.title for e in feed.entries)
    assert client.get("/feeds/topics/cs.CV.json").status_code == 200
    assert client.get("/feeds/topics/cs.CV.pdf").status_code == 404
    assert "rising topics" in client.get("/feeds/topics/rising.atom").text  # the rising feed keeps its address
    missing = client.get("/feeds/topics/no-such-topic.atom")
    assert missing.status_code == 404 and missing.json()["error"]


def test_topics_index_finds_topics_and_lists_rising_and_common(client, topic_db):
    page = client.get("/topics").text
    assert 'id="rising"' in page and 'id="common"' in page
    assert 'href="/topics/cs.LG"' in page  # the most common category
    found = client.get("/topics", params={"q": "diffusion"}).text
    assert re.search(r'href="/topics/[^"]*diffusion[^"]*"', found)
    nothing = client.get("/topics", params={"q": "zzzz-nothing"}).text
    assert "No topic matches" in nothing
    assert client.get("/topics", params={"q": "x" * 300}).status_code == 422


def test_empty_site_has_no_errors(db):
    with TestClient(create_app(db)) as c:
        assert c.get("/topics").status_code == 200
        assert c.get("/topics/cs.CV").status_code == 404
        assert "No topic is rising" in c.get("/").text
