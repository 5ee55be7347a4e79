"""Semantic layer: embeddings stored and kept current, the vector index file,
semantic/hybrid search with filters, and similar papers — on the demo corpus
with the packaged embedder (no downloads)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, update
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.demo import load_demo
from paperwire.index import vectors
from paperwire.index.hybrid import fuse
from paperwire.index.search import search
from paperwire.index.similar import PaperNotFound, similar_papers
from paperwire.records import PaperRecord
from paperwire.store.embeddings import Embedding, count_vectors
from paperwire.store.models import Paper
from paperwire.store.papers import get_paper, upsert_papers


@pytest.fixture
def demo_db(db):
    load_demo(db, log=lambda *_: None, real_days=False)
    return db


def test_demo_papers_are_embedded_once(demo_db):
    index = vectors.semantic_index(demo_db)
    with demo_db.session() as s:
        papers = s.scalar(select(Paper.id).order_by(Paper.id.desc()).limit(1))
        assert count_vectors(s, index.embedder.name) == papers
    again = vectors.embed_all(demo_db)
    assert again.embedded == 0
    assert again.index_size == papers


def test_changed_paper_is_re_embedded(demo_db):
    with demo_db.session() as s:
        paper = get_paper(s, "0704.0001")
        old_hash = paper.content_hash
    record = PaperRecord(title=paper.title, abstract="A completely new abstract about galaxies.", arxiv_id="0704.0001",
                         versions=[], source="test")
    with demo_db.session() as s:
        s.execute(update(Paper).where(Paper.id == paper.id).values(latest_version=None))
        result = upsert_papers(s, [record])
    report = vectors.embed_paper_ids(demo_db, result.changed_ids)
    assert report.embedded == 1
    with demo_db.session() as s:
        stored = s.scalar(select(Embedding.content_hash).where(Embedding.paper_id == paper.id))
    assert stored != old_hash


def test_semantic_search_finds_meaning_not_words(demo_db):
    # None of these words need to be in the title: semantic search matches meaning.
    results = search(demo_db, "choosing the step size schedule for neural network training", mode="semantic", limit=10)
    titles = " ".join(hit.paper.title.lower() for hit in results.hits)
    assert results.mode == "semantic"
    assert "learning rate" in titles or "learning-rate" in titles


@pytest.mark.parametrize("mode", ["lexical", "semantic", "hybrid"])
def test_filters_hold_in_every_mode(demo_db, mode):
    results = search(demo_db, "quantum cat:hep-ph", mode=mode, limit=20)
    assert results.hits
    for hit in results.hits:
        assert any(c == "hep-ph" or c.startswith("hep-ph.") for c in hit.paper.category_list)
    results = search(demo_db, "learning -reinforcement", mode=mode, limit=20)
    for hit in results.hits:
        assert "reinforcement" not in (hit.paper.title + " " + hit.paper.abstract).lower()
    results = search(demo_db, "neural before:2008", mode=mode, limit=20)
    for hit in results.hits:
        assert hit.paper.submitted_at is not None and hit.paper.submitted_at.year < 2008


@pytest.mark.parametrize("condition", ["phrase", "author", "excluded"])
def test_conditions_on_meaning_matches_read_only_the_shown_papers(demo_db, condition):
    """A phrase, an author or an exclusion is checked by the lexical engine, not on
    loaded papers: at 1M papers few near neighbours hold a phrase, and reading
    thousands of candidates to check their text made such a search take ~2 s."""
    with demo_db.session() as s:
        authors = s.scalars(select(Paper.authors_text).order_by(Paper.id)).all()
    surname = next(text.split(",")[0].split()[-1] for text in authors if text.split(",")[0].split())
    query, holds = {
        "phrase": ('"neural network" training', lambda p: "neural network" in " ".join(f"{p.title} {p.abstract}".lower().split())),
        "author": (f"training author:{surname}", lambda p: surname.lower() in p.authors_text.lower()),
        "excluded": ("training -neural", lambda p: "neural" not in f"{p.title} {p.abstract}".lower()),
    }[condition]
    loaded: list[int] = []

    def count(target, _context) -> None:
        loaded.append(target.id)

    event.listen(Paper, "load", count)
    try:
        results = search(demo_db, query, mode="semantic", limit=3)
    finally:
        event.remove(Paper, "load", count)
    assert results.hits and all(holds(h.paper) for h in results.hits), query
    assert len(loaded) <= 3, f"{len(loaded)} paper rows read for 3 results"


def test_papers_meeting_a_selective_condition_are_ranked_exactly(demo_db):
    """Few papers meet a phrase or an author: they are compared with the query one by
    one (nearest_among), on either backend's vector index, as a brute-force cosine would."""
    import numpy as np

    index = vectors.semantic_index(demo_db)
    with demo_db.session() as s:
        rows = s.execute(select(Embedding.paper_id, Embedding.vector).where(Embedding.model == index.embedder.name)
                         .order_by(Embedding.paper_id).limit(60)).all()
    ids = [pid for pid, _ in rows]
    stored = np.vstack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows])
    query = index.query_vector("choosing the step size schedule for neural network training")
    cosines = stored @ query / (np.linalg.norm(stored, axis=1) * np.linalg.norm(query))
    expected = [ids[i] for i in np.argsort(-cosines)[:10]]
    got = index.nearest_among(query, ids + [10**9], 10)  # an id without a vector is skipped
    assert [pid for pid, _ in got][:3] == expected[:3]
    assert set(pid for pid, _ in got) == set(expected)
    for pid, score in got:
        assert score == pytest.approx(float(cosines[ids.index(pid)]), abs=2e-3)


def test_exact_comparison_is_chosen_while_cheaper_than_a_neighbour_search():
    from paperwire.index.hybrid import EXACT_COST_RATIO, WIDEN, exact_limit

    for corpus in (451, 100_000, 1_000_000, 3_000_000):
        count = exact_limit(200, corpus)
        neighbours = WIDEN * 200 * corpus / count
        assert count == pytest.approx(EXACT_COST_RATIO * neighbours, rel=0.01)  # the two costs meet there
    assert exact_limit(200, 451) >= 451  # a small site compares every paper meeting a condition
    assert exact_limit(200, 1) == 200


def test_hybrid_is_default_and_pages_are_consistent(demo_db):
    first = search(demo_db, "language models", limit=5)
    second = search(demo_db, "language models", limit=5, offset=5)
    both = search(demo_db, "language models", limit=10)
    assert first.mode == "hybrid"
    assert [h.paper.id for h in first.hits + second.hits] == [h.paper.id for h in both.hits]


def test_hidden_papers_never_appear(demo_db):
    target = search(demo_db, "learning rate schedules", mode="semantic", limit=1).hits[0].paper
    with demo_db.session() as s:
        s.execute(update(Paper).where(Paper.id == target.id).values(hidden=True))
    for mode in ("semantic", "hybrid"):
        assert target.id not in [h.paper.id for h in search(demo_db, "learning rate schedules", mode=mode, limit=50).hits]


def test_similar_papers(demo_db):
    hits = similar_papers(demo_db, "0704.0001", limit=5)
    assert len(hits) == 5
    assert "0704.0001" not in [h.paper.uid for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(PaperNotFound):
        similar_papers(demo_db, "9999.99999")


def test_fuse_rewards_agreement():
    fused = fuse([[(1, 9.0), (2, 8.0), (3, 7.0)], [(3, 0.9), (1, 0.8), (4, 0.7)]], [1.0, 1.0])
    assert [pid for pid, _ in fused][:2] == [1, 3]
    assert {pid for pid, _ in fused} == {1, 2, 3, 4}


def test_cli_similar_and_search_modes(demo_db, db_url):
    runner = CliRunner()
    result = runner.invoke(app, ["similar", "0704.0001", "--limit", "3", "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and {"id", "title", "authors", "categories", "published", "score"} <= set(rows[0])
    for mode in ("lexical", "semantic", "hybrid"):
        result = runner.invoke(app, ["search", "transformer attention", "--mode", mode, "--json", "--db", db_url])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)
    missing = runner.invoke(app, ["similar", "9999.99999", "--db", db_url])
    assert missing.exit_code == 1
    embed = runner.invoke(app, ["embed", "--db", db_url])
    assert embed.exit_code == 0 and "0 papers embedded" in embed.output


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_every_mode_marks_the_words_as_lexical_search_does(demo_db, mode):
    """One marker for every mode: the engine's snippet generator (stemmed, accent-folded forms, escaped)."""
    query = "regenerating diffusion models"
    lexical = {hit.paper.id: hit for hit in search(demo_db, query, mode="lexical", limit=20).hits}
    other = search(demo_db, query, mode=mode, limit=20).hits
    shared = [hit for hit in other if hit.paper.id in lexical]
    assert shared, "some word matches should rank in both modes"
    for hit in shared:
        assert (hit.title_html, hit.snippet_html) == (lexical[hit.paper.id].title_html, lexical[hit.paper.id].snippet_html)
    assert any("<mark>" in hit.snippet_html for hit in other)
    meaning_only = [hit for hit in other if hit.paper.id not in lexical]
    for hit in meaning_only:  # marked where a word occurs, else the abstract's beginning
        assert "<script" not in hit.title_html + hit.snippet_html
