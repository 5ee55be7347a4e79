"""``paperwire worker`` owns every schedule: harvests from local replay servers,
the harvest queue, embedding backfill, publishing the vector index, digests,
purges — each due job once however many workers run, outcomes visible in
``paperwire status``, and nothing lost or stale after ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.index import vectors
from paperwire.index.search import search
from paperwire.rank.vector_matrix import clear_cache
from paperwire.settings import get_settings
from paperwire.store.community import WebSession, create_user
from paperwire.store.db import open_database
from paperwire.store.jobs import JobRun
from paperwire.store.library import queue_harvest
from paperwire.store.papers import count_papers, get_paper, utcnow
from paperwire.worker.runner import run_due
from paperwire.worker.status import status_report
from tests.sources.upstream_server import FakePaper, UpstreamServer

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_indexes():
    vectors._CACHE.clear()
    clear_cache()
    yield
    vectors._CACHE.clear()
    clear_cache()


@pytest.fixture
def upstream():
    papers = [
        FakePaper(f"2401.0000{i}", f"Worker paper {i} on graph neural networks", categories=["cs.LG"],
                  published=datetime(2024, 1, i, 9, 0))
        for i in range(1, 6)
    ]
    papers.append(FakePaper("2401.00042", "A queued paper about protein folding", categories=["q-bio.BM"],
                            published=datetime(2024, 1, 9)))
    with UpstreamServer(papers, page_size=2) as server:
        yield server


@pytest.fixture
def scheduled(monkeypatch, upstream):
    """Settings that schedule an OAI harvest of set cs from the local replay server."""
    monkeypatch.setenv("PAPERWIRE_HARVEST_OAI_SETS", '["cs"]')
    monkeypatch.setenv("PAPERWIRE_OAI_BASE_URL", upstream.oai_url)
    monkeypatch.setenv("PAPERWIRE_ARXIV_API_URL", upstream.api_url)
    get_settings.cache_clear()
    return upstream


def _outcomes(entries) -> dict[str, str]:
    return {e.job: e.outcome for e in entries}


def test_one_round_harvests_embeds_publishes_and_schedules_the_next(db, scheduled):
    entries = run_due(db)
    outcomes = _outcomes(entries)
    assert outcomes == {name: "ok" for name in ("harvest:oai:cs", "harvest-queue", "embed", "index", "topics", "map", "deliver", "purge")}
    assert {e.job: e.records for e in entries}["harvest:oai:cs"] == 5
    assert {e.job: e.records for e in entries}["embed"] == 5
    hits = search(db, "graph neural networks", mode="semantic", limit=5)
    assert hits.mode == "semantic" and len(hits.hits) == 5  # embedded and published by the worker
    assert set(_outcomes(run_due(db)).values()) == {"not due"}
    report = status_report(db)
    jobs = {j["job"]: j for j in report["jobs"]}
    assert jobs["harvest:oai:cs"]["outcome"] == "ok" and jobs["harvest:oai:cs"]["records"] == 5
    assert jobs["harvest:oai:cs"]["lag_days"] == 0
    assert datetime.fromisoformat(jobs["embed"]["next_run"]) > utcnow()
    assert report["embeddings"]["papers_missing_embeddings"] == 0 and not report["embeddings"]["index_stale"]
    # a round later than every interval runs everything again
    later = utcnow() + timedelta(days=1)
    assert set(_outcomes(run_due(db, now=later)).values()) == {"ok"}


def test_two_workers_side_by_side_run_each_job_once(db, scheduled, db_url):
    results: list = []
    databases = [open_database(db_url) for _ in range(2)]
    threads = [threading.Thread(target=lambda d=d: results.append(run_due(d))) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for database in databases:
        database.close()
    assert len(results) == 2
    with db.session() as session:
        runs = {row.name: row.runs for row in session.scalars(select(JobRun))}
        assert count_papers(session) == 5
    assert runs == {name: 1 for name in ("harvest:oai:cs", "harvest-queue", "embed", "index", "topics", "map", "deliver", "purge")}
    ran = [e.job for entries in results for e in entries if e.outcome == "ok"]
    assert sorted(ran) == sorted(runs)  # every job ran in exactly one of the two workers


def test_a_failing_job_keeps_its_traceback_and_the_others_still_run(db, scheduled):
    scheduled.add_fault("oai-error", code="badArgument", times=10)
    entries = run_due(db)
    outcomes = _outcomes(entries)
    assert outcomes["harvest:oai:cs"] == "error"
    assert outcomes["embed"] == outcomes["deliver"] == "ok"
    with db.session() as session:
        row = session.get(JobRun, "harvest:oai:cs")
        assert "Traceback" in row.last_error and "badArgument" in row.last_error
        assert row.failures == 1 and row.next_run_at > utcnow()
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    jobs = {j["job"]: j for j in json.loads(result.stdout)["jobs"]}
    assert jobs["harvest:oai:cs"]["outcome"] == "error" and "badArgument" in jobs["harvest:oai:cs"]["last_error"]
    table = runner.invoke(app, ["status"])
    assert table.exit_code == 0 and "harvest:" in table.output and "error" in table.output


def test_the_harvest_queue_is_scheduled(db, scheduled):
    with db.session() as session:
        user = create_user(session, "queuer", "correct horse battery", email="queuer@example.org")
        queue_harvest(session, ["2401.00042"], user.id)
    run_due(db, only="harvest-queue")
    with db.session() as session:
        assert get_paper(session, "2401.00042").title == "A queued paper about protein folding"


def test_purge_removes_expired_sessions(db, scheduled):
    with db.session() as session:
        user = create_user(session, "sleeper", "correct horse battery", email="sleeper@example.org")
        session.add(WebSession(token_hash="old", user_id=user.id, created_at=utcnow() - timedelta(days=60),
                               expires_at=utcnow() - timedelta(days=30)))
        session.add(WebSession(token_hash="live", user_id=user.id, created_at=utcnow(),
                               expires_at=utcnow() + timedelta(days=30)))
    run_due(db, only="purge")
    with db.session() as session:
        assert set(session.scalars(select(WebSession.token_hash))) == {"live"}


# --- kill -9 ----------------------------------------------------------------------------------

def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from paperwire.cli import app; app()", *args]


def _kaggle_file(path, count: int):
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            handle.write(json.dumps({
                "id": f"2402.{n:05d}", "title": f"Synthetic paper {n} on topic {n % 37}",
                "abstract": f"We study problem {n % 91} with method {n % 13} and report results {n}.",
                "authors": "Ada Lovelace, Alan Turing", "categories": "cs.LG",
                "versions": [{"version": "v1", "created": "Mon, 5 Feb 2024 10:00:00 GMT"}],
                "update_date": "2024-02-05",
            }) + "\n")
    return path


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def fast_embedder(monkeypatch):
    """The crash tests embed thousands of synthetic papers in subprocesses: the
    static model keeps them quick (what they test is crash safety, not the model)."""
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "paperwire-static-v1")
    get_settings.cache_clear()


def test_kill_9_during_an_import_loses_no_embedding_once_the_worker_runs(db, tmp_path, fast_embedder):
    source = _kaggle_file(tmp_path / "big.jsonl", 6000)
    process = subprocess.Popen(_cli("import", str(source), "--batch-size", "500"), env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def two_batches() -> bool:
            with db.session() as session:
                return count_papers(session) >= 1000
        _wait_for(two_batches)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
    with db.session() as session:
        stored = count_papers(session)
    assert 1000 <= stored <= 6000
    result = subprocess.run(_cli("worker", "--once"), env=os.environ.copy(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = status_report(db)
    embeddings = report["embeddings"]
    assert embeddings["papers"] == stored and embeddings["papers_missing_embeddings"] == 0
    assert embeddings["published_vectors"] == stored and not embeddings["index_stale"]
    # and the import resumes where it stopped, losing nothing
    again = subprocess.run(_cli("import", str(source), "--batch-size", "500", "--no-embed"), env=os.environ.copy(),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    with db.session() as session:
        assert count_papers(session) == 6000


def test_kill_9_of_a_worker_at_any_point_is_repaired_by_the_next_round(db, tmp_path, fast_embedder):
    source = _kaggle_file(tmp_path / "big.jsonl", 6000)
    assert subprocess.run(_cli("import", str(source), "--no-embed"), env=os.environ.copy(),
                          capture_output=True, timeout=300).returncode == 0
    for delay in (0.5, 1.5):
        worker = subprocess.Popen(_cli("worker", "--once"), env=os.environ.copy(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finished = subprocess.run(_cli("worker", "--once"), env=os.environ.copy(), capture_output=True, text=True,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    embeddings = status_report(db)["embeddings"]
    assert embeddings["papers_missing_embeddings"] == 0 and embeddings["published_vectors"] == 6000
    assert not embeddings["index_stale"]
    hits = search(db, "synthetic paper topic 5", mode="semantic", limit=3)
    assert hits.mode == "semantic" and hits.hits


def test_hugging_face_lists_are_harvested_on_schedule_onto_their_days(db, monkeypatch):
    from datetime import date

    from paperwire.store.models import FeaturedPaper
    from tests.conftest import SHARED_CORPUS

    lists = SHARED_CORPUS / "hf-daily-papers"
    if not lists.is_dir():
        pytest.skip("needs ../shared/corpus/hf-daily-papers")
    with UpstreamServer(hf_daily_dir=lists) as server:
        monkeypatch.setenv("PAPERWIRE_HARVEST_HF_DAILY", "true")
        monkeypatch.setenv("PAPERWIRE_HF_BASE_URL", server.base_url)
        monkeypatch.setenv("PAPERWIRE_HF_FIRST_HARVEST_DAYS", str((utcnow().date() - date(2025, 12, 29)).days))
        get_settings.cache_clear()
        entries = {e.job: e for e in run_due(db, only="harvest:hf")}
    assert entries["harvest:hf:daily"].outcome == "ok"
    expected = {day: len(json.loads((lists / f"{day}.json").read_text(encoding="utf-8")))
                for day in ("2025-12-29", "2025-12-30", "2025-12-31")}
    with db.session() as session:
        days = {}
        for row in session.scalars(select(FeaturedPaper)):
            days[row.day.isoformat()] = days.get(row.day.isoformat(), 0) + 1
    assert days == expected
    lag = {j["job"]: j for j in status_report(db)["jobs"]}["harvest:hf:daily"]["lag_days"]
    assert lag is not None and lag <= 1


def test_the_admin_page_shows_the_worker_status(db, scheduled):
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app
    from tests.web.conftest import login

    run_due(db)
    with db.session() as session:
        create_user(session, "boss", "correct horse battery", email="boss@example.org", is_admin=True)
    client = TestClient(create_app())
    login(client, "boss", "correct horse battery")
    admin_page = client.get("/admin")
    assert admin_page.status_code == 200
    assert "harvest:oai:cs" in admin_page.text and "without embeddings" in admin_page.text
