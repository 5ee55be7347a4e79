"""Lexical search on a real migrated database and the published tantivy index
(the ``db`` fixture publishes after every commit that writes papers)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from paperwire.index.query import parse_query, terms
from paperwire.index.search import lexical_search, search
from paperwire.records import PaperRecord, PaperVersion
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from tests.conftest import sqlite_only

FILLER = "We study a problem and present results on benchmarks with careful experiments"


def record(n: int, title: str, abstract: str = FILLER, *, authors=("Ann Filler",), cats=("physics.gen-ph",),
           day: datetime | None = None) -> PaperRecord:
    day = day or datetime(2020, 1, 1 + n % 28)
    return PaperRecord(
        title=title, abstract=abstract, arxiv_id=f"2001.{n:05d}", authors=list(authors), categories=list(cats),
        submitted=day, versions=[PaperVersion(1, day)], source="test",
    )


def add(db, *records: PaperRecord) -> None:
    with db.session() as session:
        upsert_papers(session, records)


def uids(results) -> list[str]:
    return [hit.paper.uid for hit in results.hits]


@pytest.fixture
def corpus(db):
    add(db, *[record(100 + i, f"Filler paper number {i} on ordinary topics") for i in range(20)])
    add(
        db,
        record(1, "Zebrafish regeneration atlas", cats=("q-bio.TO",), day=datetime(2021, 3, 5)),
        record(2, "A study of fins", "Regrowth in zebrafish is fast. " + FILLER, cats=("cs.LG", "q-bio.TO"),
               day=datetime(2023, 6, 1)),
        record(3, "Unrelated title", authors=("Zed Zebrafish",), cats=("math.OC",), day=datetime(2024, 2, 1)),
        record(4, "Neural network pruning", "A neural network is pruned. " + FILLER, cats=("cs.LG",),
               authors=("Jane Doe", "Li Wei"), day=datetime(2024, 7, 1)),
        record(5, "Network of neural cells", "Network neural biology. " + FILLER, cats=("math-ph",),
               authors=("John Doe",), day=datetime(2022, 1, 1)),
        record(6, "Pruning survey", "A survey of neural network pruning. " + FILLER, cats=("cs.CV",),
               authors=("Jane Doe",), day=datetime(2019, 5, 5)),
    )
    return db


def lex(db, q: str, **kw):
    return lexical_search(db, parse_query(q), **kw)


def test_title_beats_abstract_beats_author(corpus):
    assert uids(lex(corpus, "zebrafish")) == ["2001.00001", "2001.00002", "2001.00003"]


def test_and_semantics_and_phrases(corpus):
    assert set(uids(lex(corpus, "neural network"))) == {"2001.00004", "2001.00005", "2001.00006"}
    assert set(uids(lex(corpus, '"neural network"'))) == {"2001.00004", "2001.00006"}


def test_or_fallback_when_nothing_has_every_word(corpus):
    results = lex(corpus, "zebrafish pruning")
    assert results.matched == "any"
    assert {"2001.00001", "2001.00004"} <= set(uids(results))
    assert lex(corpus, "zebrafish atlas").matched == "all"


def test_exclusion(corpus):
    assert set(uids(lex(corpus, "pruning -survey"))) == {"2001.00004"}
    assert "2001.00006" not in uids(lex(corpus, '-"neural network" cat:cs'))


def test_author_filter(corpus):
    assert set(uids(lex(corpus, 'author:"Jane Doe"'))) == {"2001.00004", "2001.00006"}
    assert set(uids(lex(corpus, "author:doe pruning"))) == {"2001.00004", "2001.00006"}
    assert set(uids(lex(corpus, 'author:"Jane Doe" author:wei'))) == {"2001.00004"}
    assert uids(lex(corpus, "author:zebrafish regeneration")) == []


def test_category_prefix_rules(corpus):
    assert set(uids(lex(corpus, "cat:cs"))) == {"2001.00002", "2001.00004", "2001.00006"}
    assert set(uids(lex(corpus, "cat:cs.LG"))) == {"2001.00002", "2001.00004"}
    assert set(uids(lex(corpus, "cat:cs.lg"))) == {"2001.00002", "2001.00004"}
    assert uids(lex(corpus, "cat:math")) == ["2001.00003"]  # not math-ph
    assert uids(lex(corpus, "cat:math-ph")) == ["2001.00005"]
    assert uids(lex(corpus, "cat:cs.L")) == []
    assert set(uids(lex(corpus, "cat:math.OC cat:math-ph"))) == {"2001.00003", "2001.00005"}


def test_dates_and_date_sort(corpus):
    results = lex(corpus, "neural after:2022 before:2024-07")
    assert uids(results) == ["2001.00005"]
    assert uids(lex(corpus, "pruning", sort="date")) == ["2001.00004", "2001.00006"]
    assert uids(lex(corpus, "cat:cs after:2020", sort="relevance")) == ["2001.00004", "2001.00002"]


def test_filters_only_sorted_by_date_with_total(corpus):
    results = lex(corpus, "cat:q-bio")
    assert uids(results) == ["2001.00002", "2001.00001"]
    assert results.total == 2
    assert all(hit.score == 0.0 for hit in results.hits)
    assert lex(corpus, "cat:q-bio", limit=1).total == 2  # counted exactly on every page
    assert lex(corpus, "cat:q-bio", limit=1, offset=1).total == 2


def test_hidden_papers_are_excluded_and_come_back(corpus):
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=True))
    assert "2001.00001" not in uids(lex(corpus, "zebrafish"))
    assert "2001.00001" not in uids(lex(corpus, "cat:q-bio.TO"))
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=False))
    assert uids(lex(corpus, "zebrafish"))[0] == "2001.00001"


def test_updates_and_deletes_reach_the_index(corpus):
    newer = record(1, "Axolotl limb atlas", "Salamanders regrow limbs.", cats=("q-bio.TO",))
    newer.versions = [PaperVersion(1, datetime(2021, 3, 5)), PaperVersion(2, datetime(2021, 4, 1))]
    add(corpus, newer)
    assert uids(lex(corpus, "axolotl")) == ["2001.00001"]
    assert "2001.00001" not in uids(lex(corpus, "regeneration"))
    with corpus.session() as session:
        session.execute(delete(Paper).where(Paper.uid == "2001.00001"))
    assert uids(lex(corpus, "axolotl")) == []


@sqlite_only
def test_the_database_full_text_index_is_gone(db):
    """Migration 0014 retired FTS5 (tsvector on PostgreSQL: tests/store/test_postgres.py)."""
    with db.session() as session:
        names = set(session.scalars(text("SELECT name FROM sqlite_master WHERE name LIKE 'papers_fts%'")))
    assert names == set()


def test_pagination_is_consistent(corpus):
    everything = uids(lex(corpus, "ordinary", limit=50))
    assert len(everything) == 20
    pages = [uids(lex(corpus, "ordinary", limit=6, offset=o)) for o in range(0, 24, 6)]
    assert sum(pages, []) == everything
    assert lex(corpus, "ordinary", limit=6, offset=18).total == 20


def test_titles_and_snippets_are_escaped_and_marked(db):
    add(db, record(7, 'Breaking <script>alert("x")</script> zebrafish & co', "Tags like <b>zebrafish</b> " + FILLER * 5))
    hit = lex(db, "zebrafish").hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<mark>zebrafish</mark>" in hit.title_html and "&amp; co" in hit.title_html
    assert "<b>" not in hit.snippet_html and "&lt;b&gt;<mark>zebrafish</mark>&lt;/b&gt;" in hit.snippet_html


def test_snippet_windows_on_the_matches(db):
    add(db, record(8, "Café <b> notes", " ".join(["hay"] * 100 + ["needle"] + ["hay"] * 100)))
    out = lex(db, "needle").hits[0].snippet_html
    assert out.startswith("… ") and out.endswith(" …") and "<mark>needle</mark>" in out
    assert len(out) < 400
    # The engine marks the accent-folded form, and escapes what is around it.
    assert lex(db, "cafe").hits[0].title_html == "<mark>Café</mark> &lt;b&gt; notes"


def test_special_characters_never_raise(corpus):
    for q in ['AND', 'OR OR', 'NOT x', 'NEAR(a, b)', '"', 'a"b', '***', 'col:x', '{title}:x', '^start',
              '(((', "'", 'x -', '-"', 'zebrafish AND', 'é ü 漢字', '\x00', 'cat:"', 'author:"""']:
        lex(corpus, q)


def test_errors_for_bad_arguments(db):
    with pytest.raises(ValueError, match="unknown search mode"):
        search(db, "x", mode="fuzzy")
    with pytest.raises(ValueError, match="unknown sort"):
        search(db, "x", sort="stars")
    with pytest.raises(ValueError, match="limit"):
        search(db, "x", limit=0)


def test_empty_query_gives_nothing(corpus):
    results = search(corpus, "   ", mode="lexical")
    assert results.hits == [] and results.total == 0


_WORDS = ["zebrafish", "neural", "network", "pruning", "filler", "survey", "AND", "doe", "x-y", "(", '"']
_QUERY = st.lists(
    st.one_of(
        st.sampled_from(_WORDS),
        st.sampled_from(_WORDS).map(lambda w: "-" + w),
        st.sampled_from(["cs", "cs.LG", "math", "math-ph", "q-bio", "hep-th"]).map(lambda c: "cat:" + c),
        st.sampled_from(["Doe", '"Jane Doe"', "Wei", "zebrafish"]).map(lambda a: "author:" + a),
        st.sampled_from(["2020", "2022-01", "2024-02-01"]).map(lambda d: "after:" + d),
        st.sampled_from(["2021", "2023-06", "2024-07-01"]).map(lambda d: "before:" + d),
    ),
    max_size=5,
).map(" ".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=_QUERY, sort=st.sampled_from(["relevance", "date"]))
def test_results_respect_every_filter(corpus, q, sort):
    parsed = parse_query(q)
    results = lexical_search(corpus, parsed, limit=50, sort=sort)
    for hit in results.hits:
        paper = hit.paper
        cats = paper.category_list
        if parsed.categories:
            assert any(c.lower() == want.lower() or c.lower().startswith(want.lower() + ".")
                       for c in cats for want in parsed.categories)
        if parsed.after:
            assert paper.submitted_at.date() >= parsed.after
        if parsed.before:
            assert paper.submitted_at.date() < parsed.before
        for author in parsed.authors:
            assert " ".join(terms(author)) in " ".join(terms(paper.authors_text))
        everything = set(terms(f"{paper.title} {paper.abstract} {paper.authors_text}"))
        for word in parsed.excluded:
            assert not set(terms(word)) <= everything or len(terms(word)) > 1
        if results.matched == "all":
            for word in parsed.required_words():
                assert set(terms(word)) <= everything
        assert not paper.hidden
    if sort == "date":
        days = [h.paper.submitted_at for h in results.hits]
        assert days == sorted(days, reverse=True)
    else:
        scores = [h.score for h in results.hits]
        assert scores == sorted(scores, reverse=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=40))
def test_arbitrary_text_never_raises(corpus, q):
    results = lexical_search(corpus, parse_query(q), limit=5)
    assert results.total is None or results.total >= len(results.hits)


def test_published_dates_used_for_filters_are_v1(corpus):
    with corpus.session() as session:
        day = session.scalar(select(Paper.submitted_at).where(Paper.uid == "2001.00004"))
    assert day.date() == date(2024, 7, 1)
