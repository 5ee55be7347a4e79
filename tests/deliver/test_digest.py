"""Selecting papers for a digest: trending, followed interests, exclusions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from paperwire.deliver.digest import DigestBuilder, period_for
from paperwire.rank.exclusions import ExclusionRules
from paperwire.store.models import Paper
from tests.deliver.conftest import DAY, add_papers


def _titles(digest, key):
    return [i.title for s in digest.sections if s.key == key for i in s.items]


def test_periods():
    assert period_for("daily", date(2024, 8, 12)).key == "daily:2024-08-12"
    week = period_for("weekly", date(2024, 8, 14))
    assert week.key == "weekly:2024-W33"
    assert (week.start, week.end) == (date(2024, 8, 12), date(2024, 8, 18))
    with pytest.raises(ValueError, match="frequency"):
        period_for("hourly", DAY)


def test_trending_section_orders_by_upvotes(db, papers):
    with db.session() as session:
        digest = DigestBuilder(session, period_for("daily", DAY), size=3).build({"trending": True})
    assert _titles(digest, "trending") == [p["title"] for p in papers[:3]]
    assert not digest.is_empty


def test_followed_interests_and_reasons(db, papers):
    topics = {"trending": False, "categories": ["quant-ph"], "keywords": ["transformer"], "authors": ["hopper"]}
    with db.session() as session:
        digest = DigestBuilder(session, period_for("daily", DAY)).build(topics)
    following = [s for s in digest.sections if s.key == "following"][0].items
    titles = [i.title for i in following]
    assert set(titles) == {papers[0]["title"], papers[2]["title"], papers[3]["title"]}
    # authors weigh more than keywords, keywords more than categories
    assert titles[0] == papers[2]["title"] and titles[-1] == papers[3]["title"]
    assert following[0].reason == "author: hopper"
    assert following[1].reason == "keyword: transformer"  # plural "Transformers" matches


def test_category_wildcard_and_phrase(db, papers):
    with db.session() as session:
        builder = DigestBuilder(session, period_for("daily", DAY))
        by_cat = builder.build({"categories": ["cs"]})
        by_phrase = builder.build({"keywords": ["error correction"]})
        not_phrase = builder.build({"keywords": ["correction error"]})
    assert len(by_cat.items) == 3
    assert [i.title for i in by_phrase.items] == [papers[3]["title"]]
    assert not_phrase.is_empty


def test_exclusions_apply_to_every_section(db, papers):
    exclusions = {"words": ["diffusion"], "authors": ["Jane Doe"], "categories": ["cs.RO"]}
    with db.session() as session:
        digest = DigestBuilder(session, period_for("daily", DAY)).build(
            {"trending": True, "categories": ["quant-ph", "cs.CV"]}, exclusions)
    titles = [i.title for i in digest.items]
    assert titles == [papers[4]["title"]]


def test_exclusions_match_like_the_site(db):
    """Digests decide exclusions with the site's rules (whole words), not the plural-stripping
    index that followed keywords use: "GAN" hides "GAN-based", not "organ" or "GANs"."""
    add_papers(db, [
        {"title": "A GAN-based Image Model", "upvotes": 5},
        {"title": "Organ Segmentation at Scale", "upvotes": 4},
        {"title": "Training GANs Faster", "upvotes": 3},
        {"title": "Smithson Lectures", "authors": ["Ann Smithson"], "upvotes": 2},
        {"title": "Work of Smith", "authors": ["John Smith"], "upvotes": 1},
    ])
    exclusions = {"words": ["GAN"], "authors": ["Smith"]}
    rules = ExclusionRules.from_dict(exclusions)
    with db.session() as session:
        digest = DigestBuilder(session, period_for("daily", DAY)).build({"trending": True}, exclusions)
        site = [p.title for p in session.scalars(select(Paper).order_by(Paper.id)) if not rules.excludes(p)]
    titles = [i.title for i in digest.items]
    assert titles == ["Organ Segmentation at Scale", "Training GANs Faster", "Smithson Lectures"]
    assert sorted(titles) == sorted(site)


def test_no_papers_in_period_gives_empty_digest(db, papers):
    with db.session() as session:
        digest = DigestBuilder(session, period_for("daily", date(2024, 9, 1))).build({"trending": True})
    assert digest.is_empty and digest.items == []


def test_weekly_collects_the_iso_week(db, papers):
    add_papers(db, [{"title": "Later in the Week", "upvotes": 99, "featured_on": date(2024, 8, 18)}])
    with db.session() as session:
        weekly = DigestBuilder(session, period_for("weekly", DAY)).build({"trending": True})
        daily = DigestBuilder(session, period_for("daily", DAY)).build({"trending": True})
    assert weekly.items[0].title == "Later in the Week"
    assert "Later in the Week" not in [i.title for i in daily.items]


def test_recommender_feeds_for_you(db, papers):
    from paperwire.store.models import Paper
    from sqlalchemy import select

    def recommend(session, user_id, limit):
        assert user_id == 7
        return list(session.scalars(select(Paper).where(Paper.uid == "2408.00004")))

    with db.session() as session:
        builder = DigestBuilder(session, period_for("daily", DAY), recommender=recommend)
        digest = builder.build({"for_you": True}, user_id=7)
        anonymous = builder.build({"for_you": True}, user_id=None)
    assert [(s.key, [i.uid for i in s.items]) for s in digest.sections] == [("for_you", ["2408.00004"])]
    assert anonymous.is_empty
