"""A real SMTP server (aiosmtpd on 127.0.0.1, free port) with injectable faults,
and helpers that fill the catalogue with featured papers."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import deque
from datetime import date, datetime

import pytest
from aiosmtpd.controller import Controller

from paperwire.records import PaperRecord
from paperwire.settings import get_settings
from paperwire.store.delivery import Subscription, default_exclusions, default_topics
from paperwire.store.papers import upsert_papers, utcnow

DAY = date(2024, 8, 12)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Stores accepted messages; ``data_replies``/``rcpt_replies`` inject SMTP errors."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.data_replies: deque[str] = deque()
        self.rcpt_replies: dict[str, deque[str]] = {}
        self.on_message = None  # callable(count) run before replying 250
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        queue = self.rcpt_replies.get(address.lower())
        if queue:
            return queue.popleft() if len(queue) > 1 else queue[0]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_replies:
                return self.data_replies.popleft()
            if self.on_message is not None:
                reply = self.on_message(len(self.messages))
                if reply:
                    return reply
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self):
        return self.handler.messages

    def to(self, address: str) -> list:
        return self.handler.to(address)


@pytest.fixture
def smtp_server(monkeypatch):
    server = SmtpServer()
    server.controller.start()
    monkeypatch.setenv("PAPERWIRE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERWIRE_SMTP_PORT", str(server.port))
    monkeypatch.setenv("PAPERWIRE_BASE_URL", "http://paperwire.test")
    get_settings.cache_clear()
    yield server
    server.controller.stop()


@pytest.fixture
def no_sleep():
    calls: list[float] = []
    return calls.append, calls


def add_papers(db, specs: list[dict], day: date = DAY) -> None:
    """Papers featured on ``day``; each spec gives title, abstract, authors, categories, upvotes."""
    records = [
        PaperRecord(
            title=s["title"], abstract=s.get("abstract", "An abstract about " + s["title"].lower()),
            arxiv_id=s.get("arxiv_id"), authors=s.get("authors", ["Ada Lovelace"]),
            categories=s.get("categories", ["cs.LG"]), submitted=s.get("submitted", datetime(2024, 8, 9)),
            source="test", featured_on=s.get("featured_on", day), upvotes=s.get("upvotes", 1),
        )
        for s in specs
    ]
    with db.session() as session:
        upsert_papers(session, records)


def add_subscription(db, email_address: str, *, frequency: str = "daily", topics: dict | None = None,
                     exclusions: dict | None = None, confirmed: bool = True, user_id: int | None = None) -> int:
    with db.session() as session:
        sub = Subscription(
            email=email_address, frequency=frequency, topics={**default_topics(), **(topics or {})},
            exclusions={**default_exclusions(), **(exclusions or {})}, user_id=user_id,
            confirmed_at=utcnow() if confirmed else None, created_at=utcnow(),
        )
        session.add(sub)
        session.flush()
        return sub.id


SAMPLE = [
    {"title": "Scaling Transformers for Protein Folding", "authors": ["Jane Doe", "Alan Turing"],
     "categories": ["q-bio.BM", "cs.LG"], "upvotes": 40, "arxiv_id": "2408.00001"},
    {"title": "Diffusion Models for Video <Generation>", "authors": ["John Smith"],
     "categories": ["cs.CV"], "upvotes": 30, "arxiv_id": "2408.00002"},
    {"title": "A Survey of Reinforcement Learning & Robotics", "authors": ["Grace Hopper"],
     "categories": ["cs.RO", "cs.AI"], "upvotes": 20, "arxiv_id": "2408.00003"},
    {"title": "Quantum Error Correction with Surface Codes", "authors": ["Jane Doe"],
     "categories": ["quant-ph"], "upvotes": 10, "arxiv_id": "2408.00004"},
    {"title": "Cryptocurrency Price Prediction with LSTMs", "authors": ["Spam Author"],
     "categories": ["q-fin.ST"], "upvotes": 5, "arxiv_id": "2408.00005"},
]


@pytest.fixture
def papers(db):
    add_papers(db, SAMPLE)
    return SAMPLE


class LiveServer:
    """The real web app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_site(db, smtp_server):
    from paperwire.web.app import create_app

    with LiveServer(create_app(db)) as server:
        yield server
