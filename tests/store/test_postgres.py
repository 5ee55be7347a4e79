"""PostgreSQL-only checks of the backend itself: the retired tsvector stays gone,
lexical search (tantivy) ranks, folds and parses the same on PostgreSQL, hostile
queries are harmless, the pgvector HNSW index and the bulk import path.

Run with ``PAPERWIRE_TEST_BACKEND=postgres`` (skipped otherwise)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import text

from paperwire.index.search import search
from paperwire.index.publish import publish_vector_index
from paperwire.index.vectors import PgVectorIndex, semantic_index
from paperwire.records import PaperRecord
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.papers import upsert_papers
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PAPERWIRE_TEST_BACKEND=postgres")


def add(db, *records: PaperRecord) -> None:
    with db.session() as session:
        upsert_papers(session, list(records))


def paper(n: int, title: str, abstract: str = "", authors=("Ann Example",)) -> PaperRecord:
    return PaperRecord(title=title, abstract=abstract, authors=list(authors), arxiv_id=f"2101.{n:05d}",
                       categories=["cs.LG"], submitted=datetime(2021, 1, n), source="test")


def test_the_tsvector_column_and_its_index_are_gone(db):
    """Migration 0014 retired them: tantivy answers lexical search on PostgreSQL too."""
    with db.session() as session:
        columns = set(session.scalars(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'papers'")))
        indexes = set(session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'papers'")))
    assert "search_vector" not in columns and "ix_papers_search" not in indexes
    assert "ix_papers_browse" in indexes  # the semantic search still browses by it


def test_title_match_outranks_abstract_match(db):
    add(db, paper(1, "Zebrafish fins", "We study fins."), paper(2, "Fin studies", "A zebrafish appears once."))
    results = search(db, "zebrafish", mode="lexical")
    assert [h.paper.uid for h in results.hits] == ["2101.00001", "2101.00002"]
    assert results.hits[0].score > results.hits[1].score > 0


def test_accents_and_hyphens_fold_like_query_terms(db):
    add(db, paper(1, "Gödel numbering for graph-based provers", "Café résumé.", authors=["Émile Borel"]))
    for query in ("godel", "Gödel", '"graph based provers"', "cafe", "author:emile", 'author:"Émile Borel"'):
        assert [h.paper.uid for h in search(db, query, mode="lexical").hits] == ["2101.00001"], query
    assert search(db, "author:godel", mode="lexical").hits == []  # a title word is not an author


def test_hostile_queries_are_only_words(db):
    hostile = """a & b | !c <-> 'x' \\ :* ( ) "unclosed author:"O'Brien" -'y' ::tsquery"""
    add(db, paper(1, "O Brien and the tsquery", "x y"))
    search(db, hostile, mode="lexical")  # must not raise
    for query in ["'", "!", "&", "<->", ":*", "a:*", "(((", "'; DROP TABLE papers; --"]:
        search(db, query, mode="lexical")
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM papers")) == 1


def test_exclusion_phrase_and_author_semantics(db):
    add(db, paper(1, "Sparse attention kernels", "fast sparse attention", authors=["Grace Hopper"]),
        paper(2, "Dense attention survey", "attention is dense", authors=["Alan Turing"]))
    uids = lambda q: [h.paper.uid for h in search(db, q, mode="lexical").hits]  # noqa: E731
    assert uids("attention -sparse") == ["2101.00002"]
    assert uids('"sparse attention"') == ["2101.00001"]
    assert uids('"attention sparse"') == []
    assert uids('attention author:"grace hopper"') == ["2101.00001"]
    assert uids("attention author:hopper author:turing") == []
    assert uids("-dense") == ["2101.00001"]


def test_hnsw_index_exists_and_serves_the_query(db):
    with db.session() as session:
        indexes = session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'paper_vectors'")).all()
    definitions = " ".join(d for _, d in indexes)
    assert "hnsw" in definitions and "vector_cosine_ops" in definitions and "paperwire-static-v1" in definitions
    index = PgVectorIndex(db, "paperwire-static-v1", 256)
    with db.engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text(
            "EXPLAIN SELECT paper_id FROM paper_vectors WHERE model = 'paperwire-static-v1' "
            "ORDER BY (embedding::vector(256)) <=> CAST(:q AS vector(256)) LIMIT 5"),
            {"q": "[" + ",".join(["0.1"] * 256) + "]"}))
    assert "ix_paper_vectors_hnsw_default" in plan, plan
    assert len(index) == 0


def test_pgvector_neighbours_match_brute_force(db):
    rng = np.random.default_rng(3)
    add(db, *[paper(i, f"Paper number {i}") for i in range(1, 29)])
    with db.session() as session:
        ids = list(session.scalars(text("SELECT id FROM papers ORDER BY id")))
    vectors = rng.normal(size=(len(ids), 8)).astype(np.float32)
    index = PgVectorIndex(db, "test-model", 8)
    index.sync()  # creates this model's partial HNSW index
    index.upsert(ids, vectors)
    assert len(index) == len(ids)
    query = rng.normal(size=8).astype(np.float32)
    found = index.search(query, 5)
    cosine = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    expected = [ids[i] for i in np.argsort(-cosine)[:5]]
    assert [pid for pid, _ in found] == expected
    assert found[0][1] == pytest.approx(float(cosine.max()), abs=1e-5)
    index.remove(ids[:3])
    assert len(index) == len(ids) - 3
    with db.session() as session:
        names = session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'paper_vectors'")).all()
    assert any(n.startswith("ix_paper_vectors_hnsw_") and n != "ix_paper_vectors_hnsw_default" for n in names)


def test_semantic_index_uses_pgvector_and_repairs_missing_rows(db, kaggle_sample):
    import_items(db, read_path(kaggle_sample, "kaggle"))
    index = semantic_index(db)
    report = index.embed_ids(None)
    with db.session() as session:  # a crash between the two writes loses pgvector rows
        session.execute(text("DELETE FROM paper_vectors WHERE paper_id IN (SELECT id FROM papers LIMIT 5)"))
    published = publish_vector_index(db)  # the worker's job repairs them while publishing
    assert published.built and published.vectors == report.embedded
    assert index.refresh() == published.generation
    assert isinstance(index.vectors, PgVectorIndex) and len(index.vectors) == report.embedded
    hits = search(db, "quantum", mode="semantic").hits
    assert hits


def test_bulk_import_resumes_after_interruption(db, kaggle_sample):
    items = list(read_path(kaggle_sample, "kaggle"))

    class Interrupted(Exception):
        pass

    def stop_after_two_batches(read, _result):
        if read >= 20:
            raise Interrupted

    with pytest.raises(Interrupted):
        import_items(db, iter(items), batch_size=10, resume_key="sample", on_progress=stop_after_two_batches)
    resumed = import_items(db, iter(items), batch_size=10, resume_key="sample")
    assert resumed.skipped_resumed == 20
    assert resumed.result.inserted > 0
    again = import_items(db, iter(items), batch_size=10)  # nothing was skipped by the resume
    assert again.result.inserted == 0 and again.result.updated == 0


def _backend_pid(session) -> int:
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_read_session_costs_no_begin_or_commit(db):
    """Searches read in autocommit: no BEGIN/COMMIT round trips around their few queries."""
    with db.read_session() as session:
        session.execute(text("SELECT 1"))
        raw = session.connection().connection.dbapi_connection
        assert raw.autocommit and raw.info.transaction_status.name == "IDLE"  # no transaction left open
    with db.session() as session:  # writes still get a transaction
        session.execute(text("SELECT 1"))
        assert session.connection().connection.dbapi_connection.info.transaction_status.name == "INTRANS"


def test_a_pooled_connection_is_pinged_only_after_sitting_idle(db, monkeypatch):
    """No ping per checkout (it was one round trip per session); a connection
    killed while idle in the pool is replaced, not handed out broken."""
    import paperwire.store.db as store_db

    with db.read_session() as session:
        first = _backend_pid(session)
    with db.read_session() as session:  # in use a moment ago: reused, unpinged
        assert _backend_pid(session) == first
    from sqlalchemy import create_engine

    outsider = create_engine(db.engine.url)  # the server drops the idle connection (a restart, a timeout)
    with outsider.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    outsider.dispose()
    monkeypatch.setattr(store_db, "IDLE_PING_SECONDS", 0.0)  # "idle for a while"
    for _ in range(db.engine.pool.size() + 2):
        with db.read_session() as session:
            assert _backend_pid(session) != first
