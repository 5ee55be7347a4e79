"""Web fixtures: a seeded database, an in-process client and a real uvicorn server."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from paperwire.records import PaperRecord
from paperwire.store.community import create_user
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app

DAY1 = date(2024, 3, 11)
DAY2 = date(2024, 3, 13)
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def seed(db) -> None:
    records = [
        PaperRecord(title="Diffusion models for $\\alpha$-stable image editing", arxiv_id="2403.00001",
                    abstract="We edit images with diffusion where $x^2 + y^2 = 1$ holds.",
                    authors=["Ada Lovelace", "Alan Turing"], categories=["cs.CV", "cs.LG"],
                    submitted=datetime(2024, 3, 1), featured_on=DAY2, upvotes=12, source="test", submitted_by="ada"),
        PaperRecord(title="Sparse transformers at scale", arxiv_id="2403.00002", abstract="Attention is sparse.",
                    authors=["Grace Hopper"], categories=["cs.LG"], submitted=datetime(2024, 3, 2),
                    featured_on=DAY2, upvotes=30, source="test"),
        PaperRecord(title="Title " + XSS, arxiv_id="2403.00003", abstract="Abstract " + XSS,
                    authors=["Eve " + XSS], categories=["cs.CR"], submitted=datetime(2024, 3, 3),
                    featured_on=DAY1, upvotes=3, source="test"),
    ]
    with db.session() as session:
        upsert_papers(session, records)
        create_user(session, "admin", "admin-password", is_admin=True)


@pytest.fixture
def site_db(db):
    seed(db)
    return db


@pytest.fixture
def client(site_db):
    with TestClient(create_app(site_db)) as c:
        yield c


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def signup(client: TestClient, username: str, password: str = "correct-horse") -> None:
    token = csrf_from(client.get("/signup").text)
    response = client.post("/signup", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    client.get(response.headers["location"])


def login(client: TestClient, username: str, password: str) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(db, port: int | None = None, *, app=None):
    """A real uvicorn server for ``db`` (or an ``app`` made for it) in a background thread; yields its base URL."""
    port = port or _free_port()
    config = uvicorn.Config(app or create_app(db), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(site_db):
    """A real uvicorn server over the seeded database; yields its base URL."""
    with serve(site_db) as url:
        yield url

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    """Debian's headless Chromium through Playwright (skips when either is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
