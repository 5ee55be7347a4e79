"""The private "For you" feed (RSS, Atom, JSON Feed) over HTTP through the app.

A real database with the 200 Kaggle sample papers embedded, a user with real
upvotes, a dismissal and an exclusion; feeds fetched through FastAPI's
TestClient with the user's secret feed token, RSS and Atom parsed with
feedparser (and a strict XML parser), JSON Feed checked field by field.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from html import escape, unescape

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperwire.deliver.feeds import FEED_SIZE, for_you_feed
from paperwire.deliver.subscriptions import issue_feed_token, revoke_feed_tokens
from paperwire.index.vectors import embed_all
from paperwire.rank.exclusions import ExclusionRules
from paperwire.rank.recommend import clear_model_cache, recommend
from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, start_session, vote
from paperwire.store.library import add_exclusion, dismiss
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app
from tests.deliver.conftest import add_subscription

BASE = "http://paperwire.test"
XSS_LIKED = "<script>alert('liked')</script> Dark matter & the halo <b>problem</b>"
XSS_RECOMMENDED = "Halo <script>alert(1)</script> structure & dark <i>matter</i> ]]> revisited"


def _paper(session, uid: str) -> Paper:
    return session.query(Paper).filter_by(uid=uid).one()


def _expected(db, user_id: int):
    with db.session() as session:
        return [(r.paper.uid, r.paper.title, [x.as_dict() for x in r.reasons])
                for r in recommend(session, user_id, limit=FEED_SIZE, with_reasons=True, popular_fallback=False)]


@pytest.fixture
def world(db, kaggle_sample, monkeypatch):
    """The catalogue, a reader who upvoted four astro-ph papers, and an app client."""
    monkeypatch.setenv("PAPERWIRE_BASE_URL", BASE)
    get_settings.cache_clear()
    import_items(db, read_path(kaggle_sample))
    with db.session() as session:
        astro = (session.query(Paper).filter(Paper.categories.like("% astro-ph%"))
                 .order_by(Paper.uid).limit(5).all())
        source = astro[0]
        # Two papers with hostile titles: one the reader likes, one that copies its text and so gets recommended.
        upsert_papers(session, [
            PaperRecord(title=XSS_LIKED, abstract=source.abstract, authors=["Eve <script>x</script>"],
                        categories=["astro-ph"], submitted=datetime(2024, 5, 1), source="test", arxiv_id="2405.00001"),
            PaperRecord(title=XSS_RECOMMENDED, abstract=source.abstract + " We revisit it.",
                        authors=["Mallory & Co"], categories=["astro-ph"], submitted=datetime(2024, 5, 2),
                        source="test", arxiv_id="2405.00002"),
        ])
        liked = [p.uid for p in astro[:4]] + ["2405.00001"]
    embed_all(db)
    clear_model_cache()
    with db.session() as session:
        user = create_user(session, "reader", "correct horse battery", email="reader@example.org",
                           email_verified=True)
        for uid in liked:
            vote(session, user, _paper(session, uid))
        user_id = user.id
        cookie = start_session(session, user)
        token = issue_feed_token(session, user_id)
    with TestClient(create_app(db)) as client:
        yield {"db": db, "client": client, "user_id": user_id, "token": token, "liked": liked, "cookie": cookie}


def _dismiss_and_exclude(world) -> tuple[str, str, ExclusionRules]:
    """Dismiss the top pick and exclude the next one by a word of its title; returns their uids and the rule."""
    db, user_id = world["db"], world["user_id"]
    before = [uid for uid, _, _ in _expected(db, user_id) if uid != "2405.00002"]  # keep the hostile one
    dismissed, excluded = before[0], before[1]
    with db.session() as session:
        dismiss(session, user_id, _paper(session, dismissed).id)
        hostile = _paper(session, "2405.00002")
        keep = f"{hostile.title} {hostile.abstract}".lower()
        word = max((w for w in re.findall(r"[A-Za-z]{5,}", _paper(session, excluded).title) if w.lower() not in keep),
                   key=len)
        add_exclusion(session, user_id, "word", word)
    return dismissed, excluded, ExclusionRules.from_pairs([("word", word)])


def _strict_xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # raises on anything that is not well-formed XML


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_rss_and_atom_carry_the_recommendations_in_order_with_reasons(world, fmt):
    dismissed, excluded, rule = _dismiss_and_exclude(world)
    expected = _expected(world["db"], world["user_id"])
    assert len(expected) >= 10 and "2405.00002" in [uid for uid, _, _ in expected]

    response = world["client"].get(f"/feeds/for-you/{world['token']}.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(f"application/{fmt}+xml")
    assert response.headers["cache-control"].startswith("private")
    root = _strict_xml(response.content)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if fmt == "rss" else "atom10")
    assert parsed.feed.title == "paperwire — for you"
    assert parsed.feed.link == f"{BASE}/for-you"

    assert [e.link for e in parsed.entries] == [f"{BASE}/papers/{uid}" for uid, _, _ in expected]
    assert [e.title for e in parsed.entries] == [title for _, title, _ in expected]
    uids = [uid for uid, _, _ in expected]
    assert dismissed not in uids and excluded not in uids
    assert not set(world["liked"]) & set(uids)  # upvoted papers are not recommended back

    # The hostile title is escaped text, never markup, in the raw XML.
    assert b"<script>" not in response.content
    tag = "item" if fmt == "rss" else "{http://www.w3.org/2005/Atom}entry"
    titles = [el.findtext("title") or el.findtext("{http://www.w3.org/2005/Atom}title") for el in root.iter(tag)]
    assert XSS_RECOMMENDED in titles

    with world["db"].session() as session:
        papers = {uid: _paper(session, uid) for uid in uids}
        assert rule.excludes(_paper(session, excluded)) and not any(rule.excludes(p) for p in papers.values())
    for entry, (uid, _, reasons) in zip(parsed.entries, expected):
        # RSS <description> is HTML: the abstract arrives escaped once more (maths like "a<b" intact)
        assert (unescape(entry.summary) if fmt == "rss" else entry.summary) == papers[uid].abstract
        assert [a.name for a in entry.authors] == list(papers[uid].authors)[:20]
        if reasons:
            body = entry.content[0].value
            assert body.startswith("<p>Why this paper:</p>")
            for reason in reasons:
                assert escape(reason["label"]) in body  # escaped HTML inside the (escaped) XML text
    hostile = next(e for e in parsed.entries if e.title == XSS_RECOMMENDED)
    assert "Similar to “&lt;script&gt;alert(&#x27;liked&#x27;)&lt;/script&gt; Dark matter" in hostile.content[0].value
    assert f'<a href="{BASE}/papers/2405.00001">' in hostile.content[0].value
    assert "<script>" not in hostile.content[0].value


def test_json_feed_field_by_field(world):
    dismissed, excluded, _ = _dismiss_and_exclude(world)
    expected = _expected(world["db"], world["user_id"])
    url = f"/feeds/for-you/{world['token']}.json"
    response = world["client"].get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/feed+json")
    data = json.loads(response.content)
    assert set(data) == {"version", "title", "home_page_url", "feed_url", "description", "language", "items"}
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == "paperwire — for you"
    assert data["home_page_url"] == f"{BASE}/for-you"
    assert data["feed_url"] == f"http://testserver{url}"
    assert "recommended for you" in data["description"] and data["language"] == "en"
    assert [i["_paperwire"]["id"] for i in data["items"]] == [uid for uid, _, _ in expected]
    assert dismissed not in [i["_paperwire"]["id"] for i in data["items"]]
    assert excluded not in [i["_paperwire"]["id"] for i in data["items"]]

    with world["db"].session() as session:
        for item, (uid, title, reasons) in zip(data["items"], expected):
            paper = _paper(session, uid)
            assert item["id"] == item["url"] == f"{BASE}/papers/{uid}"
            assert item["title"] == title == paper.title
            assert item["external_url"] == f"https://arxiv.org/abs/{paper.arxiv_id}"
            assert item["tags"] == paper.category_list
            assert item["authors"] == [{"name": n} for n in list(paper.authors)[:20]]
            assert datetime.fromisoformat(item["date_published"]).replace(tzinfo=None) == paper.submitted_at
            short = paper.abstract if len(paper.abstract) <= 400 else paper.abstract[:400].rsplit(" ", 1)[0] + " …"
            assert item["summary"] == short
            assert item["_paperwire"]["upvotes"] == 0 and item["_paperwire"]["comments"] == 0
            if reasons:
                assert item["_paperwire"]["reasons"] == reasons
                why = "Why this paper: " + "; ".join(r["label"] for r in reasons)
                assert item["content_text"] == f"{why}\n\n{paper.abstract}"
                assert item["content_html"].startswith("<p>Why this paper:</p><ul><li>")
            else:
                assert item["content_text"] == paper.abstract and "content_html" not in item
    hostile = next(i for i in data["items"] if i["_paperwire"]["id"] == "2405.00002")
    assert hostile["title"] == XSS_RECOMMENDED  # JSON carries the text as is; readers must escape it
    assert {r["kind"] for r in hostile["_paperwire"]["reasons"]} >= {"similar"}
    assert "<script>" not in hostile["content_html"] and "&lt;script&gt;" in hostile["content_html"]


def test_etag_last_modified_and_304(world):
    client, url = world["client"], f"/feeds/for-you/{world['token']}.atom"
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(url).headers["etag"] == etag  # same signals, same body
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    # A dismissal changes the recommendations, so the old ETag no longer matches.
    _dismiss_and_exclude(world)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_bad_or_revoked_token_is_404(world):
    client, token = world["client"], world["token"]
    for fmt in ("rss", "atom", "json"):
        assert client.get(f"/feeds/for-you/{token}.{fmt}").status_code == 200
        assert client.get(f"/feeds/for-you/not-{token}.{fmt}").status_code == 404
    assert client.get(f"/feeds/for-you/{token}.xml").status_code == 404
    with world["db"].session() as session:
        revoke_feed_tokens(session, world["user_id"])
    for fmt in ("rss", "atom", "json"):
        response = client.get(f"/feeds/for-you/{token}.{fmt}")
        assert response.status_code == 404 and "revoked" in response.text
        assert client.get(f"/feeds/user/{token}.{fmt}").status_code == 404  # one secret, both feeds


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_user_without_signals_gets_an_empty_feed_that_says_how(world, fmt):
    with world["db"].session() as session:
        newcomer = create_user(session, "newcomer", "correct horse battery").id
        token = issue_feed_token(session, newcomer)
    response = world["client"].get(f"/feeds/for-you/{token}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = json.loads(response.content)
        assert data["items"] == []
        description = data["description"]
    else:
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo and parsed.entries == []
        description = parsed.feed.get("subtitle") or parsed.feed.description
    assert "Upvote or save papers" in description and f"{BASE}/onboarding" in description
    assert "Popular" not in description


def test_subscription_exclusions_apply_too(world):
    db, user_id = world["db"], world["user_id"]
    with db.session() as session:
        before = for_you_feed(session, user_id)
    target = before.items[0]
    word = max(re.findall(r"[A-Za-z]{5,}", target.title), key=len)
    add_subscription(db, "reader@example.org", user_id=user_id, exclusions={"words": [word]})
    response = world["client"].get(f"/feeds/for-you/{world['token']}.json")
    items = json.loads(response.content)["items"]
    assert items and target.uid not in [i["_paperwire"]["id"] for i in items]
    rules = ExclusionRules.from_dict({"words": [word]})  # the rank layer decides what a word rule matches
    with db.session() as session:
        assert rules.excludes(_paper(session, target.uid))
        assert not any(rules.excludes(_paper(session, i["_paperwire"]["id"])) for i in items)


def test_feed_links_on_the_for_you_page_and_in_settings(world):
    client = world["client"]
    with world["db"].session() as session:
        revoke_feed_tokens(session, world["user_id"])
    client.cookies.set("pw_session", world["cookie"])
    page = client.get("/for-you").text
    assert 'id="foryou-feed"' in page and "/feeds/for-you/" in page and "Create my feed address" in page
    assert 'id="foryou-feed"' not in client.get("/for-you?view=trending").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    created = client.post("/settings/feed-token", data={"csrf_token": csrf})
    assert created.status_code == 200
    urls = {fmt: re.search(rf'id="foryou-feed-{fmt}">([^<]+)<', created.text).group(1)
            for fmt in ("rss", "atom", "json")}
    token = re.search(r'id="feed-rss">http://testserver/feeds/user/([^<]+)\.rss<', created.text).group(1)
    assert urls == {fmt: f"http://testserver/feeds/for-you/{token}.{fmt}" for fmt in urls}
    anonymous = TestClient(client.app)  # a feed reader: no cookie, only the secret address
    assert feedparser.parse(anonymous.get(urls["atom"]).content).entries
    assert "Get a new feed address" in client.get("/for-you").text
    assert "/feeds/for-you/" in client.get("/settings").text
    client.post("/settings/feed-token/revoke", data={"csrf_token": csrf})
    assert anonymous.get(urls["atom"]).status_code == 404
