"""Trending rankings on a real migrated database."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from paperwire.rank.exclusions import user_visible_condition
from paperwire.rank.trending import (
    count_featured, featured_days, hot, hot_score, neighbour_days, period_bounds, trending,
)
from paperwire.records import PaperRecord
from paperwire.store.community import add_comment, create_user, vote
from paperwire.store.library import add_exclusion, dismiss
from paperwire.store.papers import get_paper, upsert_papers


def _feature(db, title, day, upvotes=0, arxiv_id=None, submitted=None, by=None):
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=title, arxiv_id=arxiv_id, featured_on=day, upvotes=upvotes,
                                      submitted=submitted, source="test", submitted_by=by)])


def _uid(db, title):
    from paperwire.ids import derived_paper_id
    return derived_paper_id(title)


def test_period_bounds():
    assert period_bounds("day", date(2024, 3, 13)) == (date(2024, 3, 13), date(2024, 3, 13))
    assert period_bounds("week", date(2024, 3, 13)) == (date(2024, 3, 11), date(2024, 3, 17))
    assert period_bounds("month", date(2024, 2, 13)) == (date(2024, 2, 1), date(2024, 2, 29))
    with pytest.raises(ValueError):
        period_bounds("year", date(2024, 1, 1))  # type: ignore[arg-type]


def test_day_ranking_counts_local_votes_and_breaks_ties(db):
    d = date(2024, 3, 13)
    _feature(db, "Alpha paper", d, upvotes=5, by="alice")
    _feature(db, "Beta paper", d, upvotes=4, submitted=datetime(2024, 2, 1))
    _feature(db, "Gamma paper", d, upvotes=4, submitted=datetime(2024, 3, 1))
    _feature(db, "Other day", date(2024, 3, 14), upvotes=100)
    entries = trending_titles(db, "day", d)
    assert entries[0] == ("Alpha paper", 5, "alice")
    # Beta and Gamma tie on votes: they keep the order they were listed (featured) in
    assert [e[0] for e in entries[1:]] == ["Beta paper", "Gamma paper"]
    with db.session() as s:
        u1 = create_user(s, "voter1", "password123")
        u2 = create_user(s, "voter2", "password123")
        beta = get_paper(s, _uid(db, "Beta paper"))
        vote(s, u1, beta)
        vote(s, u2, beta)
        vote(s, u2, beta)  # idempotent
    entries = trending_titles(db, "day", d)
    assert entries[0] == ("Beta paper", 6, None)


def test_vote_ties_keep_the_listing_order_comments_do_not_reorder(db):
    d = date(2024, 3, 13)
    _feature(db, "First", d, upvotes=3, submitted=datetime(2024, 3, 1))
    _feature(db, "Second", d, upvotes=3, submitted=datetime(2024, 3, 5))
    assert [t for t, _, _ in trending_titles(db, "day", d)] == ["First", "Second"]
    with db.session() as s:
        u = create_user(s, "talker", "password123")
        add_comment(s, u, get_paper(s, _uid(db, "Second")), "nice")
    with db.session() as s:
        rows = trending(s, period="day", day=d)
        assert [(r.paper.title, r.comments) for r in rows] == [("First", 0), ("Second", 1)]


def test_week_and_month_group_papers_and_hidden_are_excluded(db):
    _feature(db, "Mon", date(2024, 3, 11), upvotes=1)
    _feature(db, "Sun", date(2024, 3, 17), upvotes=2)
    _feature(db, "Next Mon", date(2024, 3, 18), upvotes=50)
    _feature(db, "Mon", date(2024, 3, 12), upvotes=7)  # featured twice in the week: counted once, max votes
    with db.session() as s:
        week = trending(s, period="week", day=date(2024, 3, 14))
        assert [(e.paper.title, e.upvotes, e.day) for e in week] == [("Mon", 7, date(2024, 3, 11)), ("Sun", 2, date(2024, 3, 17))]
        month = trending(s, period="month", day=date(2024, 3, 1))
        assert [e.paper.title for e in month] == ["Next Mon", "Mon", "Sun"]
        assert [e.paper.title for e in trending(s, period="month", day=date(2024, 3, 1), limit=1, offset=1)] == ["Mon"]
        get_paper(s, _uid(db, "Next Mon")).hidden = True
    with db.session() as s:
        assert [e.paper.title for e in trending(s, period="month", day=date(2024, 3, 1))] == ["Mon", "Sun"]
        assert featured_days(s) == [date(2024, 3, 11), date(2024, 3, 12), date(2024, 3, 17)]


def test_hot_decays_with_age():
    now = datetime(2024, 3, 20, 12)
    assert hot_score(10, date(2024, 3, 20), now) > hot_score(10, date(2024, 3, 10), now)
    assert hot_score(100, date(2024, 3, 10), now) > hot_score(0, date(2024, 3, 10), now)
    assert hot_score(0, date(2024, 3, 30), now) == pytest.approx(1 / 2 ** 1.5)  # future days clamp to age 0


def test_hot_ranking(db):
    _feature(db, "Old but loved", date(2024, 1, 1), upvotes=500)
    _feature(db, "Fresh", date(2024, 3, 20), upvotes=5, submitted=datetime(2024, 3, 18))
    _feature(db, "Fresh twin", date(2024, 3, 20), upvotes=5, submitted=datetime(2024, 3, 19))
    with db.session() as s:
        ranked = hot(s, now=datetime(2024, 3, 20, 12))
        assert [e.paper.title for e in ranked] == ["Fresh twin", "Fresh", "Old but loved"]
        ranked_later = hot(s, now=datetime(2024, 1, 2))
        assert ranked_later[0].paper.title == "Old but loved"
        assert [e.paper.title for e in hot(s, now=datetime(2024, 3, 20, 12), limit=1, offset=1)] == ["Fresh"]


def test_neighbour_days():
    days = [date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 9)]
    assert neighbour_days(days, date(2024, 3, 5)) == (date(2024, 3, 1), date(2024, 3, 9))
    assert neighbour_days(days, date(2024, 3, 6)) == (date(2024, 3, 5), date(2024, 3, 9))
    assert neighbour_days(days, date(2024, 3, 1)) == (None, date(2024, 3, 5))


def trending_titles(db, period, day):
    with db.session() as s:
        return [(e.paper.title, e.upvotes, e.submitted_by) for e in trending(s, period=period, day=day)]


def _many(db, day, n, prefix="Paper"):
    """n papers featured on ``day`` with distinct upvotes (paper i has n - i votes)."""
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=f"{prefix} number {i}", abstract="A study.", featured_on=day,
                                      upvotes=n - i, source="test") for i in range(n)])


def _visible_to_picky_user(db):
    """A user excluding the word "odd" (7 papers) who dismissed 3 papers; their id."""
    with db.session() as s:
        user = create_user(s, "picky", "password123")
        add_exclusion(s, user.id, "word", "odd")
        for i in (0, 1, 2):
            dismiss(s, user.id, get_paper(s, _uid(db, f"Paper number {i}")).id)
        return user.id


def test_trending_filters_before_paging(db):
    d = date(2024, 3, 13)
    _many(db, d, 60)
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=f"An odd result {i}", featured_on=d, upvotes=100 + i, source="test")
                          for i in range(7)])
        upsert_papers(s, [PaperRecord(title="Godd oddly sized", featured_on=d, upvotes=200, source="test")])
    user_id = _visible_to_picky_user(db)
    with db.session() as s:
        where = user_visible_condition(s, user_id)
        assert count_featured(s, period="day", day=d) == 68
        assert count_featured(s, period="day", day=d, where=where) == 58  # 68 - 7 odd - 3 dismissed
        assert count_featured(s, period="week", day=d, where=where) == 58
        first = trending(s, period="day", day=d, limit=50, where=where)
        second = trending(s, period="day", day=d, limit=50, offset=50, where=where)
        assert len(first) == 50 and len(second) == 8
        titles = [e.paper.title for e in first + second]
        assert titles[0] == "Godd oddly sized"  # "odd" is a whole word: "Godd"/"oddly" stay
        assert titles[1:] == [f"Paper number {i}" for i in range(3, 60)]
        # anonymous: unchanged
        assert len(trending(s, period="day", day=d, limit=50, offset=50)) == 18
        assert trending(s, period="day", day=d, limit=1)[0].paper.title == "Godd oddly sized"


def test_hot_filters_before_paging(db):
    d = date(2024, 3, 13)
    _many(db, d, 60)
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=f"An odd result {i}", featured_on=date(2024, 3, 12), upvotes=900 + i,
                                      source="test") for i in range(7)])
    user_id = _visible_to_picky_user(db)
    now = datetime(2024, 3, 14)
    with db.session() as s:
        anonymous = hot(s, now=now, limit=100)
        assert len(anonymous) == 67 and anonymous[0].paper.title == "An odd result 6"
        where = user_visible_condition(s, user_id)
        first = hot(s, now=now, limit=50, where=where)
        second = hot(s, now=now, limit=50, offset=50, where=where)
        assert len(first) == 50 and len(second) == 7
        assert [e.paper.title for e in first + second] == [f"Paper number {i}" for i in range(3, 60)]
        # the order of what is left is the anonymous order, with the filtered papers taken out
        assert [e.paper.title for e in anonymous if e.paper.title.startswith("Paper number")][3:] == \
            [e.paper.title for e in first + second]


def test_entries_keep_source_and_local_counts_apart(db):
    """The rule: rank by source upvotes + local upvotes; both parts stay visible."""
    d = date(2025, 12, 1)
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title="From the Hub", arxiv_id="2512.00001", featured_on=d, upvotes=92,
                                      num_comments=5, source="hf-daily"),
                          PaperRecord(title="Runner up", arxiv_id="2512.00002", featured_on=d, upvotes=94,
                                      num_comments=0, source="hf-daily")])
    with db.session() as s:
        paper = get_paper(s, "2512.00001")
        for name in ("voter1", "voter2", "voter3"):
            vote(s, create_user(s, name, "password123"), paper)
        add_comment(s, create_user(s, "writer", "password123"), paper, "Interesting.")
    with db.session() as s:
        top, second = trending(s, period="day", day=d)
        hot_top = hot(s, now=datetime(2025, 12, 2))[0]
    for entry in (top, hot_top):
        assert entry.paper.title == "From the Hub"  # 92 + 3 beats 94 + 0
        assert (entry.source_upvotes, entry.local_upvotes, entry.upvotes) == (92, 3, 95)
        assert (entry.source_comments, entry.local_comments, entry.comments) == (5, 1, 6)
    assert (second.source_upvotes, second.local_upvotes, second.upvotes) == (94, 0, 94)


@pytest.mark.parametrize("day", ["2025-12-01", "2025-11-13", "2024-06-04"])
def test_a_real_days_page_is_in_the_order_huggingface_listed_it(db, day):
    """HF lists are ordered by upvotes, ties in the list's own order: the day page keeps it."""
    import json

    from tests.conftest import SHARED_CORPUS

    path = SHARED_CORPUS / "hf-daily-papers" / f"{day}.json"
    if not path.exists():
        pytest.skip("needs ../shared/corpus/hf-daily-papers")
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items

    import_items(db, read_path(path))
    entries = json.loads(path.read_text())
    upvotes = [e["paper"]["upvotes"] for e in entries]
    assert upvotes == sorted(upvotes, reverse=True) and len(set(upvotes)) < len(upvotes)  # ties to keep
    with db.session() as s:
        ranked = trending(s, period="day", day=date.fromisoformat(day), limit=500)
    assert [e.paper.title for e in ranked] == [" ".join(e["paper"]["title"].split()) for e in entries]
    assert [e.source_upvotes for e in ranked] == upvotes
