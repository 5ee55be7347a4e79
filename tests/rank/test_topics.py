"""The topic index on a real migrated database: terms, merging, building, reading."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from paperwire.rank.topic_terms import acronym_pairs, candidates, keyword_terms, singular, term_key
from paperwire.rank.topics import (
    Topic, build_topics, corpus_end_date, find_topics, get_topic, related_topics, topic_authors, topic_papers,
    topic_series, topics_of_papers,
)
from paperwire.records import PaperRecord
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, vote
from paperwire.store.papers import get_paper, upsert_papers
from tests.conftest import DEMO_DIR


def _add(db, title, day=None, *, abstract="", keywords=None, categories=None, authors=None, upvotes=0,
         submitted=None):
    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=title, abstract=abstract, featured_on=day, upvotes=upvotes,
                                      ai_keywords=keywords, categories=categories or [], authors=authors or [],
                                      submitted=submitted, source="test")])


def test_keys_merge_case_hyphens_and_plurals():
    assert term_key("Diffusion Models") == term_key("diffusion-model") == term_key("DIFFUSION MODEL") == "diffusion model"
    assert term_key("LLMs") == term_key("LLM") == "llm"
    assert term_key("Vision-Language Models") == "vision language model"
    assert [singular(w) for w in ("policies", "analyses", "boxes", "process", "lens", "tokens")] == \
        ["policy", "analysis", "box", "process", "lens", "token"]


def test_phrase_candidates_skip_stopwords_and_generic_words():
    found = candidates("We propose a novel approach: diffusion models for real-world 3D scenes, "
                       "state-of-the-art results, using large language models (LLMs).")
    assert {"diffusion model", "3d scene", "large language model", "llm"} <= set(found.phrases)
    assert "novel approach" not in found.phrases and "state of the art" not in found.compounds
    assert "real world" not in found.compounds
    assert keyword_terms(["large language models (LLMs)", "RL", 7, ""]) == {
        "large language model": "large language models", "rl": "RL"}


def test_acronym_pairs_read_the_spelled_out_form():
    pairs = acronym_pairs("reinforcement learning with verifiable rewards (RLVR) and Mixture-of-Experts (MoE); "
                          "we use (GPU) machines")
    assert ("rlvr", "reinforcement learning with verifiable reward",
            "reinforcement learning with verifiable rewards") in pairs
    assert ("moe", "mixture of expert", "mixture-of-experts") in pairs
    assert all(p[0] != "gpu" for p in pairs)


@pytest.fixture
def small_corpus(db):
    start = date(2025, 3, 3)  # a Monday
    for i in range(6):
        _add(db, f"Diffusion Models for images {i}", start + timedelta(days=i),
             abstract="We study diffusion models and large language models (LLMs).",
             keywords=["diffusion models", "LLMs"], categories=["cs.CV", "cs.LG"],
             authors=["Ada Lovelace", f"Author {i}"], upvotes=i)
    for i in range(3):
        _add(db, f"Reward models paper {i}", start + timedelta(days=7 + i),
             abstract="Reinforcement learning for large language models (LLMs) with reward models.",
             keywords=["Reinforcement Learning", "reward model"], categories=["cs.CL"], authors=["Ada Lovelace"])
    _add(db, "A lonely paper about quantum gravity", None, abstract="Quantum gravity once.",
         submitted=datetime(2025, 3, 20))
    return db


def test_build_and_read_the_contract(small_corpus):
    db = small_corpus
    report = build_topics(db)
    assert report.built and report.papers == 10
    with db.session() as s:
        diffusion = get_topic(s, "diffusion-model")
        assert diffusion == Topic("diffusion-model", "diffusion models", "keyword")
        assert get_topic(s, "cs.CV") == Topic("cs.CV", "Computer Vision and Pattern Recognition (cs.CV)", "category")
        llm = get_topic(s, "large-language-model")
        assert llm is not None and llm.label == "large language models (LLMs)"  # acronym merged into expansion
        assert get_topic(s, "llm") is None
        assert get_topic(s, "quantum-gravity") is None  # below the minimum document frequency
        assert get_topic(s, "nope") is None

        assert corpus_end_date(s) == date(2025, 3, 20)
        series = topic_series(s, "diffusion-model", period="week")
        assert series == [(date(2025, 3, 3), 6), (date(2025, 3, 10), 0), (date(2025, 3, 17), 0)]  # to the corpus end
        series = topic_series(s, "diffusion-model", period="week", start=date(2025, 2, 20), end=date(2025, 3, 12))
        assert series == [(date(2025, 2, 17), 0), (date(2025, 2, 24), 0), (date(2025, 3, 3), 6), (date(2025, 3, 10), 0)]
        assert topic_series(s, "large-language-model", period="month") == [(date(2025, 3, 1), 9)]

        best = topic_papers(s, "diffusion-model", limit=2)
        assert [p.title for p in best] == ["Diffusion Models for images 5", "Diffusion Models for images 4"]
        newest = topic_papers(s, "large-language-model", order="newest", limit=1)
        assert newest[0].title == "Reward models paper 2"
        assert len(topic_papers(s, "large-language-model", limit=50, offset=8)) == 1

        related = dict((t.slug, n) for t, n in related_topics(s, "diffusion-model"))
        assert related["large-language-model"] == 6 and related["cs.CV"] == 6
        assert topic_authors(s, "large-language-model", limit=1) == [("Ada Lovelace", 9)]

        assert find_topics(s, "Diffusion Models")[0].slug == "diffusion-model"
        assert find_topics(s, "cs.CV")[0].slug == "cs.CV"
        assert find_topics(s, "") == [] and find_topics(s, "%") == []

        ids = [p.id for p in best]
        by_paper = topics_of_papers(s, ids, limit_per_paper=3)
        assert set(by_paper) == set(ids)
        assert all(1 <= len(v) <= 3 for v in by_paper.values())
        assert "diffusion-model" in {t.slug for t in by_paper[ids[0]]}


def test_votes_here_count_in_topic_ordering(small_corpus):
    db = small_corpus
    build_topics(db)
    with db.session() as s:
        users = [create_user(s, f"voter{i}", "password123") for i in range(9)]
        from paperwire.ids import derived_paper_id
        paper = get_paper(s, derived_paper_id("Diffusion Models for images 0"))
        for u in users:
            vote(s, u, paper)
    with db.session() as s:
        assert topic_papers(s, "diffusion-model", limit=1)[0].title == "Diffusion Models for images 0"


def test_rebuild_only_when_papers_change_and_ids_stay(small_corpus):
    db = small_corpus
    build_topics(db)
    with db.session() as s:
        first_id = s.scalar(__import__("sqlalchemy").text("select id from topics where slug = 'diffusion-model'"))
    assert not build_topics(db).built  # nothing changed
    _add(db, "Diffusion models again", date(2025, 3, 21), keywords=["diffusion models"])
    again = build_topics(db)
    assert again.built
    with db.session() as s:
        assert s.scalar(__import__("sqlalchemy").text("select id from topics where slug = 'diffusion-model'")) == first_id
        assert topic_series(s, "diffusion-model", period="month") == [(date(2025, 3, 1), 7)]


def test_hidden_papers_are_left_out(small_corpus):
    from sqlalchemy import update

    from paperwire.store.models import Paper

    db = small_corpus
    with db.session() as s:
        s.execute(update(Paper).where(Paper.title.like("Reward models paper%")).values(hidden=True))
    build_topics(db)
    with db.session() as s:
        assert get_topic(s, "reward-model") is None
        assert topic_series(s, "large-language-model", period="month")[-1] == (date(2025, 3, 1), 6)


def test_demo_lists_give_sensible_topics(db):
    for path in sorted((DEMO_DIR / "hf-daily").glob("*.json"))[:10]:
        import_items(db, read_path(path))
    report = build_topics(db)
    assert report.topics > 50
    with db.session() as s:
        labels = {t.slug for t in find_topics(s, "reinforcement learning", limit=3)}
        assert "reinforcement-learning" in labels
        assert get_topic(s, "large-language-model") is not None
        # a paper of the lists carries a handful of topics
        from sqlalchemy import select

        from paperwire.store.models import Paper
        ids = list(s.scalars(select(Paper.id).limit(20)))
        topics = topics_of_papers(s, ids)
        assert sum(1 for v in topics.values() if v) >= 15


def test_empty_database(db):
    assert build_topics(db).topics == 0
    with db.session() as s:
        assert corpus_end_date(s) is None
        assert topic_series(s, "x") == [] and topic_papers(s, "x") == [] and related_topics(s, "x") == []
        assert topic_authors(s, "x") == [] and topics_of_papers(s, []) == {}


def test_worker_job_builds_then_waits_for_new_papers(small_corpus):
    from paperwire.settings import get_settings
    from paperwire.worker.jobs import scheduled_jobs

    job = next(j for j in scheduled_jobs(get_settings()) if j.name == "topics")
    first = job.run(small_corpus)
    assert first.records == 10 and "built" in first.detail
    again = job.run(small_corpus)
    assert again.records == 0 and "current" in again.detail
    _add(small_corpus, "Diffusion models later", date(2025, 3, 24), keywords=["diffusion models"])
    assert job.run(small_corpus).records == 11
