"""Job locks on SQLite: contention between threads and processes, leases,
crashed holders, and the harvest / digest double-start paths."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.deliver.send import send_digests
from paperwire.sources.http import HarvestError
from paperwire.sources.oai_pmh import harvest_oai
from paperwire.store.locks import busy_message, job_lock, job_locks, lock_holder
from paperwire.store.papers import utcnow
from tests.conftest import ON_POSTGRES
from tests.deliver.conftest import DAY, add_subscription, papers, smtp_server  # noqa: F401 - fixtures
from tests.sources.upstream_server import FakePaper, UpstreamServer

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _rows(db) -> list:
    with db.session() as session:
        return session.execute(select(job_locks)).all()


#: Leases belong to the SQLite lock; PostgreSQL's advisory locks end with their connection.
lease_semantics = pytest.mark.skipif(ON_POSTGRES, reason="lease rows are the SQLite lock mechanism")


def test_lock_is_exclusive_and_released(db):
    with job_lock(db, "harvest:x") as first:
        assert first
        with job_lock(db, "harvest:x") as second:
            assert not second
        with job_lock(db, "harvest:y") as other:
            assert other  # names are independent
        holder = lock_holder(db, "harvest:x")
        assert holder is not None and holder.owner.startswith(socket.gethostname())
    assert _rows(db) == []
    with job_lock(db, "harvest:x") as again:
        assert again


def test_released_even_when_the_job_raises(db):
    with pytest.raises(RuntimeError):
        with job_lock(db, "embed:m") as acquired:
            assert acquired
            raise RuntimeError("boom")
    assert _rows(db) == []


def test_bad_name_is_rejected(db):
    with pytest.raises(ValueError, match="1 to 200"):
        with job_lock(db, ""):
            pass


def test_only_one_of_many_threads_wins(db):
    winners: list[int] = []
    barrier = threading.Barrier(6)
    release = threading.Event()

    def contend(n: int) -> None:
        barrier.wait()
        with job_lock(db, "digest:daily:2024-08-12") as acquired:
            if acquired:
                winners.append(n)
                release.wait(5)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(0.5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert len(winners) == 1


HOLDER = """
import sys
from paperwire.store.db import open_database
from paperwire.store.locks import job_lock
db = open_database(sys.argv[1])
with job_lock(db, sys.argv[2], lease=float(sys.argv[3])) as acquired:
    print("held" if acquired else "busy", flush=True)
    sys.stdin.readline()
"""


def _holder_process(db_url: str, name: str, lease: float = 30) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, name, str(lease)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_another_process_holding_the_lock_excludes_us_until_it_exits(db, db_url):
    proc = _holder_process(db_url, "harvest:shared")
    try:
        with job_lock(db, "harvest:shared") as acquired:
            assert not acquired
        assert "another harvest is running (held by" in busy_message(db, "harvest:shared", "harvest")
        # wait=True with a timeout gives up...
        with job_lock(db, "harvest:shared", wait=True, poll=0.05, timeout=0.3) as acquired:
            assert not acquired
    finally:
        proc.stdin.close()
        proc.wait(10)
    with job_lock(db, "harvest:shared", wait=True, poll=0.05, timeout=5) as acquired:
        assert acquired


def test_waiting_acquires_once_the_holder_releases(db):
    got = threading.Event()
    done = threading.Event()

    def holder():
        with job_lock(db, "embed:m"):
            got.set()
            done.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    got.wait(5)
    threading.Timer(0.3, done.set).start()
    with job_lock(db, "embed:m", wait=True, poll=0.05, timeout=5) as acquired:
        assert acquired
    thread.join(5)


def _insert(db, name: str, owner: str, expires_at: datetime) -> None:
    with db.session() as session:
        session.execute(insert(job_locks).values(name=name, owner=owner, acquired_at=utcnow(), expires_at=expires_at))


@lease_semantics
def test_expired_lease_of_a_remote_holder_is_taken_over(db):
    _insert(db, "harvest:a", "other-host:123:abc", utcnow() + timedelta(seconds=60))
    with job_lock(db, "harvest:a") as acquired:
        assert not acquired  # alive as far as we can tell: its lease runs
    _insert(db, "harvest:b", "other-host:123:abc", utcnow() - timedelta(seconds=1))
    with job_lock(db, "harvest:b") as acquired:
        assert acquired
        assert lock_holder(db, "harvest:b").owner.startswith(socket.gethostname())


@lease_semantics
def test_crashed_holder_on_this_host_is_taken_over_at_once(db, db_url):
    proc = _holder_process(db_url, "digest:weekly:2024-W33", lease=300)
    proc.kill()  # no release: the row stays with a lease of five minutes
    proc.wait(10)
    proc.stdin.close()
    assert len(_rows(db)) == 1
    with job_lock(db, "digest:weekly:2024-W33") as acquired:
        assert acquired


@lease_semantics
def test_heartbeat_keeps_a_long_job_locked_beyond_its_lease(db):
    lease = 0.4
    with job_lock(db, "harvest:long", lease=lease) as acquired:
        assert acquired
        first_expiry = _rows(db)[0].expires_at
        threading.Event().wait(lease * 3)  # three leases long
        assert _rows(db)[0].expires_at > first_expiry
        with job_lock(db, "harvest:long", lease=lease) as second:
            assert not second  # still held: the heartbeat renewed the lease


# -- harvest double start -----------------------------------------------------
@pytest.fixture
def upstream():
    papers_ = [FakePaper(f"2401.0000{i}", f"Paper number {i}", published=datetime(2024, 1, i, 9)) for i in range(1, 7)]
    with UpstreamServer(papers_, page_size=2) as running:
        yield running


def test_second_concurrent_oai_harvest_exits_with_a_clear_message(db, upstream):
    first_page = threading.Event()
    finish = threading.Event()
    outcome: dict = {}

    def log(message: str) -> None:
        if message.startswith("page 1"):
            first_page.set()
            finish.wait(10)  # hold the first harvest mid-run

    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=upstream.oai_url, delay=0)

    def first():
        outcome["report"] = harvest_oai(db, from_date=date_from, log=log, **kwargs)

    date_from = datetime(2024, 1, 1).date()
    thread = threading.Thread(target=first)
    thread.start()
    assert first_page.wait(10)
    try:
        with pytest.raises(HarvestError, match=r"another harvest of set 'cs' \(arXiv\) from .* is running") as error:
            harvest_oai(db, from_date=date_from, log=lambda _: None, **kwargs)
        assert error.value.code == "busy"
        requests_before = len(upstream.requests)
    finally:
        finish.set()
        thread.join(10)
    assert outcome["report"].records == 6
    assert len(upstream.requests) == requests_before + 2  # only the first harvest kept fetching
    # the finished harvest released its lock: the same harvest runs again
    assert harvest_oai(db, from_date=date_from, log=lambda _: None, **kwargs).records == 6


def test_cli_harvest_while_another_process_harvests(db, db_url, upstream):
    key = f"harvest:arxiv:{upstream.api_url}:cat:cs.*"
    proc = _holder_process(db_url, key)
    try:
        result = runner.invoke(app, ["harvest", "arxiv", "--base-url", upstream.api_url, "--set", "cs",
                                     "--from", "2024-01-01", "--delay", "0"])
    finally:
        proc.stdin.close()
        proc.wait(10)
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "another harvest of 'cat:cs.*'" in output and "is running (held by" in output
    assert upstream.requests == []


# -- digest double start ---------------------------------------------------------
def test_second_sender_of_the_same_period_skips_and_says_so(db, papers, smtp_server):  # noqa: F811
    for i in range(3):
        add_subscription(db, f"reader{i}@example.org")
    in_first_mail = threading.Event()
    go_on = threading.Event()

    def slow_first(accepted: int):
        if accepted == 0:
            in_first_mail.set()
            go_on.wait(10)

    smtp_server.handler.on_message = slow_first
    reports = []
    thread = threading.Thread(target=lambda: reports.append(send_digests(db, day=DAY, worker_id="w1")))
    thread.start()
    assert in_first_mail.wait(10)
    try:
        second = send_digests(db, day=DAY, worker_id="w2")
        weekly = send_digests(db, day=DAY, frequency="weekly", worker_id="w2")
    finally:
        go_on.set()
        thread.join(20)
    assert second.skipped and "another sender of daily:2024-08-12 is running" in second.skipped
    assert (second.sent, second.due) == (0, 0)
    assert second.summary().startswith("daily:2024-08-12: skipped — another sender")
    assert weekly.skipped is None  # a different period is not blocked
    assert reports[0].sent == 3 and len(smtp_server.messages) == 3
    assert send_digests(db, day=DAY).skipped is None
