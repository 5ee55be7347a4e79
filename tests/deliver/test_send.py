"""Sending a period's digests against a real SMTP server, with injected faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter, deque
from pathlib import Path

from sqlalchemy import select

from paperwire.deliver.send import send_digests
from paperwire.settings import get_settings
from paperwire.store.delivery import SendLog, Subscription
from paperwire.store.papers import utcnow
from tests.deliver.conftest import DAY, add_subscription, free_port

ROOT = Path(__file__).resolve().parents[2]


def _log(db) -> dict[int, SendLog]:
    with db.session() as session:
        return {row.subscription_id: row for row in session.scalars(select(SendLog))}


def _subscribers(db, count: int, **kwargs) -> list[int]:
    return [add_subscription(db, f"reader{i}@example.org", **kwargs) for i in range(count)]


def test_sends_multipart_digest_once(db, papers, smtp_server, no_sleep):
    sleep, _ = no_sleep
    _subscribers(db, 3)
    report = send_digests(db, day=DAY, sleep=sleep)
    assert (report.sent, report.due, report.aborted) == (3, 3, None)
    message = smtp_server.to("reader1@example.org")[0]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["List-Unsubscribe"].strip().startswith("<http://paperwire.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Diffusion Models for Video &lt;Generation&gt;" in html  # escaped in HTML
    assert "Diffusion Models for Video <Generation>" in text
    assert "http://paperwire.test/papers/2408.00001" in html and "http://paperwire.test/papers/2408.00001" in text
    again = send_digests(db, day=DAY, sleep=sleep)
    assert (again.sent, again.due) == (0, 0)
    assert len(smtp_server.messages) == 3
    assert {row.status for row in _log(db).values()} == {"sent"}


def test_empty_digest_is_not_sent(db, papers, smtp_server):
    quiet = add_subscription(db, "quiet@example.org", topics={"trending": False, "keywords": ["gardening"]})
    add_subscription(db, "busy@example.org")
    report = send_digests(db, day=DAY)
    assert (report.sent, report.empty) == (1, 1)
    assert smtp_server.to("quiet@example.org") == []
    assert _log(db)[quiet].status == "empty"


def test_only_confirmed_active_subscribers_of_the_frequency(db, papers, smtp_server):
    add_subscription(db, "unconfirmed@example.org", confirmed=False)
    add_subscription(db, "weekly@example.org", frequency="weekly")
    gone = add_subscription(db, "gone@example.org")
    with db.session() as session:
        session.get(Subscription, gone).unsubscribed_at = utcnow()
    add_subscription(db, "daily@example.org")
    assert send_digests(db, day=DAY).sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["daily@example.org"]
    weekly = send_digests(db, day=DAY, frequency="weekly")
    assert weekly.period == "weekly:2024-W33" and weekly.sent == 1


def test_451_then_success_is_sent_once(db, papers, smtp_server, no_sleep):
    sleep, calls = no_sleep
    ids = _subscribers(db, 2)
    smtp_server.handler.data_replies.extend(["451 4.7.1 greylisted"])
    report = send_digests(db, day=DAY, sleep=sleep)
    assert (report.sent, report.deferred) == (2, 0)
    assert len(calls) == 1 and len(smtp_server.messages) == 2
    assert _log(db)[ids[0]].attempts == 2


def test_550_is_recorded_and_batch_goes_on(db, papers, smtp_server, no_sleep):
    sleep, calls = no_sleep
    ids = _subscribers(db, 3)
    smtp_server.handler.rcpt_replies["reader1@example.org"] = deque(["550 5.1.1 mailbox unavailable"])
    report = send_digests(db, day=DAY, sleep=sleep)
    assert (report.sent, report.failed_permanent) == (2, 1)
    assert calls == []
    log = _log(db)
    assert log[ids[1]].status == "failed_permanent" and "550" in log[ids[1]].last_error
    assert send_digests(db, day=DAY, sleep=sleep).due == 0  # permanent: not retried
    assert sorted(m["To"] for m in smtp_server.messages) == ["reader0@example.org", "reader2@example.org"]


def test_server_down_stops_batch_and_rerun_sends_everything(db, papers, smtp_server, monkeypatch, no_sleep):
    sleep, calls = no_sleep
    ids = _subscribers(db, 4)
    monkeypatch.setenv("PAPERWIRE_SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    report = send_digests(db, day=DAY, sleep=sleep)
    assert report.aborted and "cannot reach" in report.aborted
    assert (report.sent, report.deferred) == (0, 1)
    assert len(calls) == 3  # retried with backoff before giving up
    log = _log(db)
    assert {row.status for row in log.values()} == {"pending"}
    assert all(row.claimed_by is None for row in log.values())  # released, not left claimed
    monkeypatch.setenv("PAPERWIRE_SMTP_PORT", str(smtp_server.port))
    get_settings.cache_clear()
    assert send_digests(db, day=DAY, sleep=sleep).sent == 4
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"reader{i}@example.org" for i in range(4))
    assert _log(db)[ids[0]].attempts == 5  # 4 failed attempts (default retries) + 1 successful


def test_crash_halfway_then_rerun_sends_each_exactly_once(db, papers, smtp_server):
    count = 12
    _subscribers(db, count)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperwire.deliver.cli", "digest", "send", "--date", DAY.isoformat(), "--no-webhooks"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )

    def crash_on_sixth(accepted: int):
        if accepted == 5:  # the sixth mail: kill the sender mid-transaction
            os.kill(proc.pid, signal.SIGKILL)
            return "421 4.3.0 going down"
        return None

    smtp_server.handler.on_message = crash_on_sixth
    proc.wait(timeout=60)
    smtp_server.handler.on_message = None
    assert proc.returncode == -signal.SIGKILL
    assert len(smtp_server.messages) == 5
    states = Counter(row.status for row in _log(db).values())
    assert states == {"sent": 5, "pending": 7}
    # The crashed run's claims are still held: a normal re-run does not steal them...
    assert send_digests(db, day=DAY).sent == 0
    # ...until they are stale (here immediately: the crashed worker is known dead).
    report = send_digests(db, day=DAY, claim_timeout=0)
    assert report.sent == 7
    per_address = Counter(m["To"] for m in smtp_server.messages)
    assert len(per_address) == count and set(per_address.values()) == {1}


def test_concurrent_senders_never_duplicate(db, papers, smtp_server):
    count = 40
    _subscribers(db, count)
    reports = []
    barrier = threading.Barrier(2)

    def run(worker: str):
        barrier.wait()
        reports.append(send_digests(db, day=DAY, worker_id=worker, batch_size=3, connections=2))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == count
    per_address = Counter(m["To"] for m in smtp_server.messages)
    assert len(per_address) == count and set(per_address.values()) == {1}


def test_dry_run_sends_and_records_nothing(db, papers, smtp_server):
    _subscribers(db, 2)
    add_subscription(db, "quiet@example.org", topics={"trending": False})
    report = send_digests(db, day=DAY, dry_run=True)
    assert (report.dry_run, report.sent, report.empty) == (True, 2, 1)
    assert smtp_server.messages == [] and _log(db) == {}
