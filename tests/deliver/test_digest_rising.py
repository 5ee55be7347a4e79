"""The "Rising this week" section of email digests: shown by default, opt-out per subscription."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes

import pytest

from paperwire.deliver.digest import DigestBuilder, period_for
from paperwire.deliver.render import build_digest_message
from paperwire.deliver.subscriptions import make_topics
from paperwire.rank.topics import build_topics
from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers

MONDAY = date(2025, 6, 2)
LAST = MONDAY + timedelta(weeks=8, days=4)
XSS = "<b>bold</b> models"


@pytest.fixture
def rising_db(db):
    records = []
    for week in range(9):
        for i in range(20):
            keywords = ["steady topic"] if i < 4 else [f"other {week} {i}"]
            if week == 8 and i >= 14:
                keywords = ["world models", XSS]
            records.append(PaperRecord(title=f"Paper {week}-{i}", arxiv_id=f"2506.{week:02d}{i:03d}",
                                       featured_on=MONDAY + timedelta(weeks=week, days=i % 5), upvotes=i + 1,
                                       ai_keywords=keywords, source="test"))
    with db.session() as s:
        upsert_papers(s, records)
    build_topics(db)
    return db


def _parts(message) -> dict[str, str]:
    parsed = message_from_bytes(message.as_bytes())
    return {p.get_content_type(): p.get_payload(decode=True).decode() for p in parsed.walk()
            if p.get_content_type() in ("text/plain", "text/html")}


def test_digest_lists_rising_topics_by_default(rising_db):
    with rising_db.session() as session:
        builder = DigestBuilder(session, period_for("daily", LAST))
        digest = builder.build({"trending": True})
        assert builder.rising() is builder.rising()  # computed once per builder
    labels = [t.label for t in digest.rising]
    assert "world models" in labels
    world = digest.rising[labels.index("world models")]
    assert world.count == 6 and world.url.endswith("/topics/world-model") and world.sparkline.endswith("█")
    assert digest.as_dict()["rising"][labels.index("world models")]["slug"] == "world-model"
    digest.subscription_id, digest.email = 1, "reader@example.org"
    parts = _parts(build_digest_message(digest))
    assert "== Rising this week ==" in parts["text/plain"] and "world models: 6 papers" in parts["text/plain"]
    assert "Rising this week</h2>" in parts["text/html"] and "/topics/world-model" in parts["text/html"]
    assert "<b>bold</b>" not in parts["text/html"] and "&lt;b&gt;bold&lt;/b&gt;" in parts["text/html"]


def test_opt_out_and_never_alone(rising_db):
    with rising_db.session() as session:
        builder = DigestBuilder(session, period_for("daily", LAST))
        assert builder.build({"trending": True, "rising": False}).rising == []
        nothing = builder.build({"trending": False, "keywords": ["no such words anywhere"]})
    assert nothing.is_empty and nothing.rising == []
    assert make_topics()["rising"] is True and make_topics(rising=False)["rising"] is False


def test_no_topics_built_no_section(db):
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title="Lonely", featured_on=LAST, upvotes=1, source="test")])
    with db.session() as session:
        digest = DigestBuilder(session, period_for("weekly", LAST)).build({"trending": True})
    assert not digest.is_empty and digest.rising == [] and "rising" not in digest.as_dict()
