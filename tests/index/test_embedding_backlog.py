"""Embedding never blocks ingestion (issue 18): imports store papers without
embedding them, the backfill embeds later, and until it has, search, similar
papers, "For you", the API and the CLI say how much of the corpus the
semantic results cover; ``paperwire status`` shows the backlog."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.index import vectors
from paperwire.index.backfill import backfill
from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.store.community import create_user, vote
from paperwire.store.embeddings import count_vectors
from paperwire.store.papers import get_paper, upsert_papers
from paperwire.web.app import create_app
from tests.web.conftest import login

LATE = [PaperRecord(title=f"Late arrival {i}: optimal transport on graphs", arxiv_id=f"2501.{i:05d}",
                    abstract="Optimal transport between graph signals, embedded after the import.", source="test")
        for i in range(1, 6)]


def _cli(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def _vectors(db) -> int:
    with db.session() as session:
        return count_vectors(session, vectors.semantic_index(db).embedder.name)


@pytest.fixture(autouse=True)
def _fresh_index_cache():
    vectors._CACHE.clear()
    yield
    vectors._CACHE.clear()


def test_import_stores_papers_without_embedding_and_status_shows_the_backlog(db, kaggle_sample):
    assert get_settings().embed_on_import is False
    report = json.loads(_cli("import", "--json", str(kaggle_sample)).stdout)[str(kaggle_sample)]
    assert report["inserted"] == 200 and _vectors(db) == 0
    status = json.loads(_cli("status", "--json").stdout)["embeddings"]
    assert (status["backlog"], status["papers_missing_embeddings"]) == (200, 200)
    assert "embedding backlog: 200 papers waiting" in " ".join(_cli("status").output.split())
    edited = PaperRecord(title="Edited later", abstract="First version.", arxiv_id="2502.00001", source="test")
    with db.session() as session:
        upsert_papers(session, [edited])
    # the backfill (what the worker's embed job runs) clears it
    assert backfill(db).embedded == 201
    assert json.loads(_cli("status", "--json").stdout)["embeddings"]["backlog"] == 0
    assert "embedding backlog: none" in _cli("status").output
    # an edited paper is back in the backlog though it has a (stale) vector
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title="Edited later", abstract="Second version.", arxiv_id="2502.00001",
                                            source="test")])
    status = json.loads(_cli("status", "--json").stdout)["embeddings"]
    assert (status["backlog"], status["papers_missing_embeddings"]) == (1, 0)


def test_embed_flag_opts_one_import_in(db, kaggle_sample):
    _cli("import", "--embed", str(kaggle_sample))
    assert _vectors(db) == 200
    assert vectors.semantic_index(db).refresh() is not None  # published at the end of the import


@pytest.fixture
def partly_embedded(db, kaggle_sample):
    """200 papers embedded and published, then 5 more imported (not embedded)."""
    _cli("import", str(kaggle_sample))
    backfill(db)
    with db.session() as session:
        upsert_papers(session, LATE)
    return db


COVERAGE = "Semantic results cover 200 of 205 papers; the rest are being embedded."


def test_search_page_and_api_say_what_the_semantic_half_covers(partly_embedded):
    with TestClient(create_app(partly_embedded)) as client:
        for mode in ("hybrid", "semantic"):
            html = client.get("/search", params={"q": "optimal transport", "mode": mode}).text
            assert COVERAGE in html and 'id="semantic-coverage"' in html
        assert COVERAGE not in client.get("/search", params={"q": "optimal transport", "mode": "lexical"}).text
        api = client.get("/api/papers/search", params={"q": "optimal transport"})
        assert api.status_code == 200 and isinstance(api.json(), list)
        assert api.headers["X-Paperwire-Semantic-Coverage"] == "200/205"
        assert api.headers["X-Paperwire-Notice"] == COVERAGE
        backfill(partly_embedded)
        html = client.get("/search", params={"q": "optimal transport"}).text
        assert "Semantic results cover" not in html
        api = client.get("/api/papers/search", params={"q": "optimal transport"})
        assert api.headers["X-Paperwire-Semantic-Coverage"] == "205/205" and "X-Paperwire-Notice" not in api.headers


def test_nothing_published_says_word_matches_only(db, kaggle_sample):
    _cli("import", str(kaggle_sample))
    with TestClient(create_app(db)) as client:
        html = client.get("/search", params={"q": "quantum gauge theory"}).text
        assert "Showing word matches only" in html
        api = client.get("/api/papers/search", params={"q": "quantum gauge theory"})
        assert api.headers["X-Paperwire-Notice"].startswith("Showing word matches only")
        assert "X-Paperwire-Semantic-Coverage" not in api.headers  # the answer did not use vectors


def test_paper_page_says_when_similar_papers_are_partial_or_pending(partly_embedded):
    with TestClient(create_app(partly_embedded)) as client:
        pending = client.get("/papers/2501.00001").text
        assert 'id="similar-coverage"' in pending and "Similar papers appear once this paper is embedded" in pending
        partial = client.get("/papers/0704.0001").text
        assert "Similar papers" in partial and COVERAGE in partial
        backfill(partly_embedded)
        done = client.get("/papers/0704.0001").text
        assert "Similar papers" in done and 'id="similar-coverage"' not in done


def test_for_you_says_what_it_could_not_see(partly_embedded):
    db = partly_embedded
    with db.session() as session:
        user = create_user(session, "reader", "reader-password")
        vote(session, user, get_paper(session, "0704.0001"))
    with TestClient(create_app(db)) as client:
        login(client, "reader", "reader-password")
        html = client.get("/for-you").text
        assert COVERAGE in html and "cannot be recommended" in html
        backfill(db)
        assert "Semantic results cover" not in client.get("/for-you").text


def test_cli_search_and_similar_print_the_coverage_on_stderr(partly_embedded):
    runner = CliRunner()
    result = runner.invoke(app, ["search", "optimal transport", "--json"])
    assert result.exit_code == 0, result.output
    assert COVERAGE in " ".join(result.stderr.split())
    json.loads(result.stdout)  # stdout stays clean JSON
    result = runner.invoke(app, ["similar", "0704.0001", "--json"])
    assert result.exit_code == 0 and COVERAGE in " ".join(result.stderr.split())
    pending = runner.invoke(app, ["similar", "2501.00001"])
    assert pending.exit_code == 1 and "has not been embedded yet" in pending.output


def test_coverage_follows_new_papers_and_new_generations(partly_embedded):
    """The paper count is advanced by the new ids only; a new generation recounts."""
    db = partly_embedded
    first = vectors.semantic_coverage(db)
    assert (first.embedded, first.papers, first.complete) == (200, 205, False)
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title="Later still", abstract="More.", arxiv_id="2503.00001",
                                            source="test")])
    assert (vectors.semantic_coverage(db).embedded, vectors.semantic_coverage(db).papers) == (200, 206)
    backfill(db)
    done = vectors.semantic_coverage(db)
    assert (done.embedded, done.papers, done.notice()) == (206, 206, None)
