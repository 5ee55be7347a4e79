"""Feeds read right in feed readers: feedparser without bozo, the validator
rules of RFC 4287 / RSS 2.0 (tests/deliver/feed_rules.py), maths and markup
in abstracts shown as text, no made-up 1970 dates."""

from __future__ import annotations

from datetime import datetime
from html import unescape

import feedparser
import lxml.html
import pytest

from paperwire.deliver.digest import DigestItem
from paperwire.deliver.feeds import UNKNOWN_AUTHOR, Feed, category_feed, render_feed, search_feed, trending_feed
from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers
from tests.deliver.conftest import DAY
from tests.deliver.feed_rules import atom_problems, rss_problems

MATHS = "We show $0<p\\le 1$ and <b>bold</b> claims & more."
RECORDS = [
    PaperRecord(title="Sparse maths for $p<1$", abstract=MATHS, arxiv_id="2408.00011", authors=["Ada Lovelace"],
                categories=["cs.LG"], submitted=datetime(2024, 8, 9), source="t", featured_on=DAY, upvotes=9,
                featured_at=datetime(2024, 8, 12, 9, 30)),
    PaperRecord(title="Nobody wrote this", abstract="Anonymous text.", arxiv_id="2408.00012", authors=[],
                categories=["cs.LG"], submitted=datetime(2024, 8, 10), source="t", featured_on=DAY, upvotes=5,
                featured_at=datetime(2024, 8, 12, 10, 0)),
    PaperRecord(title="A \"quoted\" result", abstract="Quantum text.", arxiv_id="2408.00013",
                authors=["Grace Hopper"], categories=["quant-ph"], submitted=datetime(2024, 8, 11), source="t",
                featured_on=DAY, upvotes=1, featured_at=datetime(2024, 8, 12, 11, 0)),
]


@pytest.fixture
def feeds(db):
    with db.session() as session:
        upsert_papers(session, RECORDS)
    with db.session() as session:
        built = [trending_feed(session), category_feed(session, "cs"), category_feed(session, "quant-ph")]
    built.append(search_feed(db, '"quoted" result'))
    return built


def _check(body: bytes, fmt: str, *, warnings: bool = True) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[fmt]
    problems = rss_problems(body) if fmt == "rss" else atom_problems(body, warnings=warnings)
    assert problems == []
    return parsed


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_every_feed_passes_the_validator_rules(feeds, fmt):
    for feed in feeds:
        parsed = _check(render_feed(feed, fmt, f"http://paperwire.test/feeds/x.{fmt}"), fmt)
        assert len(parsed.entries) == len(feed.items) > 0, feed.key


def test_search_feed_id_is_an_iri(feeds):
    search = feeds[-1]
    body = render_feed(search, "atom", "http://paperwire.test/feeds/search.atom")
    assert feedparser.parse(body).feed.id.endswith("/feeds/search:%22quoted%22%20result")


def test_authorless_entry_names_unknown_authors(feeds):
    parsed = feedparser.parse(render_feed(feeds[0], "atom", "http://paperwire.test/feeds/trending.atom"))
    nobody = next(e for e in parsed.entries if e.title == "Nobody wrote this")
    assert nobody.author == UNKNOWN_AUTHOR


def test_trending_entries_carry_their_time_on_the_daily_list(feeds):
    parsed = feedparser.parse(render_feed(feeds[0], "atom", "http://paperwire.test/feeds/trending.atom"))
    assert [e.updated for e in parsed.entries] == [
        "2024-08-12T09:30:00+00:00", "2024-08-12T10:00:00+00:00", "2024-08-12T11:00:00+00:00"]
    assert {e.published for e in parsed.entries} == {"2024-08-12T00:00:00+00:00"}


def _as_text(html: str) -> str:
    return unescape(lxml.html.fragment_fromstring(html, create_parent="div").text_content())


def test_maths_and_markup_in_abstracts_survive_readers(feeds):
    """A reader renders RSS <description> as (sanitised) HTML: the abstract must come out as the same text."""
    rss = feedparser.parse(render_feed(feeds[0], "rss", "http://paperwire.test/feeds/trending.rss"))
    entry = next(e for e in rss.entries if e.title.startswith("Sparse"))
    assert _as_text(entry.summary) == MATHS
    assert "<b>" not in entry.summary and "<p" not in entry.summary
    atom = feedparser.parse(render_feed(feeds[0], "atom", "http://paperwire.test/feeds/trending.atom"))
    entry = next(e for e in atom.entries if e.title.startswith("Sparse"))
    assert entry.summary_detail.type == "text/plain" and entry.summary == MATHS


def test_undated_items_get_no_1970_date():
    item = DigestItem(uid="x1", title="Undated", authors=[], categories=["cs.LG"], abstract="Text.",
                      url="http://paperwire.test/papers/x1", arxiv_url=None, published=None)
    dated = DigestItem(uid="x2", title="Dated", authors=["Ada Lovelace"], categories=["cs.LG"], abstract="Text.",
                       url="http://paperwire.test/papers/x2", arxiv_url=None, published=datetime(2024, 8, 9))
    for items in ([item], [item, dated]):
        feed = Feed("user:1", "paperwire — your papers", "Papers", "http://paperwire.test/settings", items)
        for fmt in ("rss", "atom"):
            body = render_feed(feed, fmt, f"http://paperwire.test/feeds/user/t.{fmt}")
            assert b"1970" not in body
            parsed = _check(body, fmt, warnings=False)  # an undated item shares the feed's time
            if fmt == "rss":
                assert "published" not in parsed.entries[0]  # no made-up pubDate
    empty = Feed("category:cs.XX", "paperwire — cs.XX", "None", "http://paperwire.test/search", [])
    assert b"1970" not in render_feed(empty, "atom", "http://paperwire.test/feeds/category/cs.XX.atom")
