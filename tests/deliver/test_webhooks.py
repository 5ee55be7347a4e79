"""Webhooks against a real local HTTP receiver: signatures, retries, Slack shape, history."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from paperwire.deliver.subscriptions import add_webhook
from paperwire.deliver.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, deliver_webhooks, send_test, verify_signature
from paperwire.settings import get_settings
from paperwire.store.delivery import WebhookDelivery
from tests.deliver.conftest import DAY, add_subscription


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: deque[int] = deque()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = owner.statuses.popleft() if owner.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"SECRET-INTERNAL-BODY")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver(monkeypatch):
    """A local receiver; loopback is allowed explicitly, as an intranet deployment would."""
    monkeypatch.setenv("PAPERWIRE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _hook(db, url, **kwargs):
    with db.session() as session:
        hook = add_webhook(session, kwargs.pop("user_id", None), url, **kwargs)
        return hook.id, hook.secret


def _history(db):
    with db.session() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_generic_payload_is_signed_and_delivered_once(db, papers, receiver):
    hook_id, secret = _hook(db, receiver.url + "/hook")
    report = deliver_webhooks(db, day=DAY)
    assert report.delivered == 1
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert verify_signature(secret, headers[TIMESTAMP_HEADER.lower()], request["body"], headers[SIGNATURE_HEADER.lower()])
    assert not verify_signature("wrong-secret", headers[TIMESTAMP_HEADER.lower()], request["body"],
                                headers[SIGNATURE_HEADER.lower()])
    payload = json.loads(request["body"])
    assert payload["type"] == "paperwire.digest" and payload["period"] == "daily:2024-08-12"
    assert payload["sections"][0]["papers"][0]["id"] == "2408.00001"
    assert deliver_webhooks(db, day=DAY).due == 0  # not twice
    assert len(receiver.requests) == 1
    [row] = _history(db)
    assert (row.webhook_id, row.status, row.response_code, row.attempts) == (hook_id, "sent", 200, 1)


def test_500_is_retried_then_succeeds(db, papers, receiver, no_sleep):
    sleep, calls = no_sleep
    _hook(db, receiver.url)
    receiver.statuses.extend([500, 503])
    report = deliver_webhooks(db, day=DAY, sleep=sleep, backoff=0.25)
    assert report.delivered == 1 and calls == [0.25, 0.5]
    assert len(receiver.requests) == 3
    assert _history(db)[0].attempts == 3


def test_4xx_is_permanent_and_unreachable_is_deferred(db, papers, receiver, no_sleep):
    from tests.deliver.conftest import free_port

    sleep, _ = no_sleep
    _hook(db, receiver.url)
    _hook(db, f"http://127.0.0.1:{free_port()}/nobody")
    receiver.statuses.append(410)
    report = deliver_webhooks(db, day=DAY, sleep=sleep)
    assert (report.failed_permanent, report.deferred) == (1, 1)
    gone, down = _history(db)
    assert gone.status == "failed_permanent" and gone.response_code == 410
    assert down.status == "pending" and "Connect" in down.error and down.claimed_by is None


def test_slack_blocks_shape_and_escaping(db, papers, receiver):
    _hook(db, receiver.url, format="slack")
    deliver_webhooks(db, day=DAY)
    payload = json.loads(receiver.requests[0]["body"])
    assert isinstance(payload["text"], str) and payload["blocks"][0]["type"] == "header"
    assert all(b["type"] in {"header", "section", "divider", "context"} for b in payload["blocks"])
    assert len(payload["blocks"]) <= 50
    texts = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert any("Video &lt;Generation&gt;" in t for t in texts)
    assert any(t.startswith("<http") and "/papers/2408.00001|" in t for t in texts)


def test_user_hook_gets_personal_digest_and_empty_is_skipped(db, papers, receiver):
    add_subscription(db, "u@example.org", user_id=5, topics={"trending": False, "categories": ["quant-ph"]})
    add_subscription(db, "v@example.org", user_id=6, topics={"trending": False, "keywords": ["gardening"]})
    _hook(db, receiver.url + "/five", user_id=5)
    _hook(db, receiver.url + "/six", user_id=6)
    report = deliver_webhooks(db, day=DAY)
    assert (report.delivered, report.empty) == (1, 1)
    [request] = receiver.requests
    assert request["path"] == "/five"
    papers_sent = [p["title"] for s in json.loads(request["body"])["sections"] for p in s["papers"]]
    assert papers_sent == [papers[3]["title"]]


def test_send_test_records_history(db, papers, receiver):
    hook_id, _ = _hook(db, receiver.url)
    assert send_test(db, hook_id).ok
    [row] = _history(db)
    assert row.period_key.startswith("test:") and row.status == "sent"


def test_history_keeps_the_status_never_the_response_body(db, papers, receiver):
    hook_id, _ = _hook(db, receiver.url)
    receiver.statuses.extend([404])
    result = send_test(db, hook_id)
    [row] = _history(db)
    assert not result.ok and row.response_code == 404 and row.error == "HTTP 404"
    assert "SECRET" not in (result.error or "")


def test_without_the_allow_list_a_stored_loopback_hook_is_refused_not_posted(db, papers, receiver, monkeypatch):
    hook_id, _ = _hook(db, receiver.url)
    monkeypatch.delenv("PAPERWIRE_OUTBOUND_ALLOW")
    get_settings.cache_clear()
    result = send_test(db, hook_id)
    assert not result.ok and result.permanent and result.error.startswith("refused:")
    assert receiver.requests == []
