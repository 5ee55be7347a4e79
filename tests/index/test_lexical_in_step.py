"""The lexical index follows every write: incremental generations after each commit
(``index.lexical_sync``), full builds only where a delete or unhide needs one."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from paperwire.index import publish_lexical
from paperwire.index.lexical_sync import keep_in_step
from paperwire.index.publish_lexical import publish_lexical_index
from paperwire.index.query import parse_query
from paperwire.index.search import lexical_search
from paperwire.records import PaperRecord, PaperVersion
from paperwire.settings import get_settings
from paperwire.store.community import create_user
from paperwire.store.generations import LEXICAL, IndexGeneration
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

FILLER = "We study a problem and present results on benchmarks with careful experiments"


def record(n: int, title: str, abstract: str = FILLER) -> PaperRecord:
    day = datetime(2020, 1, 1 + n % 28)
    return PaperRecord(title=title, abstract=abstract, arxiv_id=f"2001.{n:05d}", authors=["Ann Filler"],
                       categories=["cs.LG"], submitted=day, versions=[PaperVersion(1, day)], source="test")


def add(db, *records: PaperRecord) -> None:
    with db.session() as session:
        upsert_papers(session, records)


def uids(db, q: str) -> list[str]:
    return [hit.paper.uid for hit in lexical_search(db, parse_query(q)).hits]


def generations(db) -> list[IndexGeneration]:
    with db.session() as session:
        return list(session.scalars(select(IndexGeneration).where(IndexGeneration.kind == LEXICAL)
                                    .order_by(IndexGeneration.id)))


@pytest.fixture
def corpus(db):
    add(db, *[record(100 + i, f"Filler paper number {i}") for i in range(10)])
    add(db, record(1, "Zebrafish regeneration atlas"), record(2, "Neural network pruning"))
    return db


def test_inserts_and_updates_are_searchable_right_after_commit(corpus):
    assert uids(corpus, "zebrafish") == ["2001.00001"]
    add(corpus, record(3, "Axolotl limb atlas"))
    assert uids(corpus, "axolotl") == ["2001.00003"]
    newer = record(1, "Salamander tail atlas")
    newer.versions = [PaperVersion(1, datetime(2020, 1, 2)), PaperVersion(2, datetime(2020, 2, 2))]
    add(corpus, newer)
    assert uids(corpus, "salamander") == ["2001.00001"] and uids(corpus, "zebrafish") == []


def test_a_small_write_extends_the_previous_generation(corpus, db_url, tmp_path):
    from paperwire.store.db import open_database

    before = generations(corpus)[-1]
    raw = open_database(db_url)  # no hook: publish by hand to see the report
    try:
        add(raw, record(3, "Axolotl limb atlas"))
        report = publish_lexical_index(raw)
    finally:
        raw.close()
    assert report.built and report.incremental and report.papers == before.vectors + 1
    assert "extended" in report.summary()
    # Segment files are immutable, so the copy hard-links them (the big ones stay shared at scale).
    data = get_settings().resolved_data_dir()
    source = data / generations(corpus)[-1].path
    publish_lexical._link_copy(source, tmp_path / "copy")
    for item in source.iterdir():
        if item.is_file() and not item.name.startswith(".") and item.name != "meta.json":
            assert (tmp_path / "copy" / item.name).stat().st_ino == item.stat().st_ino


def test_hide_delete_and_unhide_follow(corpus):
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=True))
    assert uids(corpus, "zebrafish") == []
    with corpus.session() as session:
        session.execute(update(Paper).where(Paper.uid == "2001.00001").values(hidden=False))
    assert uids(corpus, "zebrafish") == ["2001.00001"]
    with corpus.session() as session:
        session.execute(delete(Paper).where(Paper.uid == "2001.00002"))
    assert uids(corpus, "pruning") == []
    assert generations(corpus)[-1].vectors == 11  # a small catalogue is rebuilt in step


def test_a_large_catalogue_leaves_full_builds_to_the_worker(corpus, monkeypatch):
    from paperwire.worker.jobs import _publish

    monkeypatch.setattr(publish_lexical, "SMALL_CATALOGUE", 0)
    newest = generations(corpus)[-1].id
    with corpus.session() as session:  # not the newest id: SQLite would reuse that one for the next insert
        session.execute(delete(Paper).where(Paper.uid == "2001.00001"))
    assert generations(corpus)[-1].id == newest  # no full build after the commit …
    results = lexical_search(corpus, parse_query("zebrafish"))
    assert results.hits == [] and results.total == 0  # … but the deleted paper is dropped at read time
    add(corpus, record(3, "Axolotl limb atlas"))  # incremental still refuses: the count is off
    assert uids(corpus, "axolotl") == []
    assert "built and published" in _publish(corpus).detail  # the worker's index job
    assert uids(corpus, "axolotl") == ["2001.00003"] and generations(corpus)[-1].vectors == 12


def test_a_failed_transaction_publishes_nothing(corpus):
    newest = generations(corpus)[-1].id
    with pytest.raises(RuntimeError):
        with corpus.session() as session:
            upsert_papers(session, [record(3, "Axolotl limb atlas")])
            raise RuntimeError("rolled back")
    assert generations(corpus)[-1].id == newest and uids(corpus, "axolotl") == []


def test_keep_in_step_installs_once(db):
    assert keep_in_step(keep_in_step(db)) is db
    add(db, record(1, "Zebrafish regeneration atlas"))
    assert len(generations(db)) == 1


def test_an_admin_hide_in_the_web_app_leaves_search_at_once(db_url):
    from paperwire.store.db import open_database
    from paperwire.web.app import create_app
    from tests.web.conftest import csrf_from, login

    raw = open_database(db_url)  # the app installs the hook on its own database
    try:
        add(raw, record(1, "Zebrafish regeneration atlas"), record(2, "Zebrafish fins"))
        with raw.session() as session:
            create_user(session, "admin", "admin-password", is_admin=True)
        publish_lexical_index(raw)
        with TestClient(create_app()) as admin:
            login(admin, "admin", "admin-password")
            token = csrf_from(admin.get("/admin").text)
            assert admin.post("/admin/papers/2001.00001/hide", data={"csrf_token": token}).status_code == 200
            assert "Zebrafish regeneration" not in admin.get("/search?q=zebrafish&mode=lexical").text
        assert generations(raw)[-1].vectors == 1  # the hide was published, not only filtered
    finally:
        raw.close()


def test_no_stale_building_directories_are_left(corpus, monkeypatch):
    monkeypatch.setattr(publish_lexical, "SMALL_CATALOGUE", 0)
    with corpus.session() as session:
        session.execute(delete(Paper).where(Paper.uid == "2001.00001"))
    add(corpus, record(3, "Axolotl limb atlas"))
    data = get_settings().resolved_data_dir()
    assert not [p for p in os.listdir(data) if p.endswith(".building")]


def test_a_savepoint_in_the_writing_transaction_publishes_after_the_outer_commit(db):
    """SQLAlchemy reports a SAVEPOINT release as a commit; publishing then waited on the
    outer transaction's SQLite write lock ("database is locked" after the busy timeout)."""
    import time

    started = time.perf_counter()
    with db.session() as session:
        upsert_papers(session, [record(1, "Zebrafish regeneration atlas")])
        create_user(session, "ann", "ann-password")  # flushes inside begin_nested()
    assert uids(db, "zebrafish") == ["2001.00001"]
    assert time.perf_counter() - started < 8  # the busy timeout is 10 s
    with pytest.raises(RuntimeError):
        with db.session() as session:
            upsert_papers(session, [record(2, "Axolotl limb atlas")])
            with session.begin_nested():
                session.flush()
            raise RuntimeError("the outer transaction rolls back")
    assert uids(db, "axolotl") == []


def test_a_request_leaves_a_big_catch_up_to_the_worker(corpus, monkeypatch):
    """After a large import the next web write would re-index everything written within the
    watermark slack: above SMALL_CATALOGUE changed papers that is the worker's job."""
    from paperwire.worker.jobs import _publish

    monkeypatch.setattr(publish_lexical, "SMALL_CATALOGUE", 3)
    newest = generations(corpus)[-1].id
    add(corpus, record(3, "Axolotl limb atlas"))  # 13 papers written in the slack window > 3
    assert generations(corpus)[-1].id == newest and uids(corpus, "axolotl") == []
    assert "extended and published" in _publish(corpus).detail  # the worker: incremental, no limit
    assert uids(corpus, "axolotl") == ["2001.00003"]
