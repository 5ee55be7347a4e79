"""Library upload with hostile files (issue 12, finding 8): clear 422 errors,
never a 500, and a big upload does not block the event loop for everyone."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from paperwire.sources.library_file import MAX_BYTES
from tests.web.conftest import csrf_from, signup


def upload(client, name: str, data: bytes):
    token = csrf_from(client.get("/library").text)
    return client.post("/library/import", data={"csrf_token": token}, files={"file": (name, data)})


@pytest.fixture
def user_client(client):
    signup(client, "reader")
    return client


def test_deeply_nested_json_is_a_clear_error(user_client):
    response = upload(user_client, "deep.json", b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 422
    assert "nested too deeply" in response.text


@pytest.mark.parametrize("item", [
    {"DOI": 10.1, "title": ["a", "list"], "arxiv": {"id": 1}},
    {"DOI": ["10.1/x"], "title": 5, "URL": None, "note": {"a": [1]}},
    {"title": None, "id": True, "number": 2403.00002, "publisher": 7},
    {"arxiv": "2403.00002", "title": {"text": "x"}},
])
def test_csljson_with_non_string_fields(user_client, item):
    response = upload(user_client, "lib.json", json.dumps([item]).encode())
    assert response.status_code in (200, 422), response.text[:500]


def test_huge_file_is_a_clear_error(user_client):
    response = upload(user_client, "big.bib", b"%" * (MAX_BYTES + 10))
    assert response.status_code == 422
    assert "too large" in response.text


def test_pathological_bibtex_is_quick_and_clear(user_client):
    started = time.monotonic()
    response = upload(user_client, "open.bib", b"@a{" * 1_000_000)
    assert response.status_code == 422
    assert time.monotonic() - started < 10


def test_big_bibtex_upload_does_not_block_other_requests(live_server):
    bib = "\n".join(
        f"@article{{k{i}, title={{A paper about topic number {i}}}, eprint={{2401.{i:05d}}}, archivePrefix={{arXiv}}}}"
        for i in range(5000)
    ).encode()
    with httpx.Client(base_url=live_server, timeout=60) as uploader, httpx.Client(base_url=live_server, timeout=60) as other:
        signup(uploader, "bulk")
        done: dict = {}

        def send() -> None:
            started = time.monotonic()
            done["status"] = upload(uploader, "lib.bib", bib).status_code
            done["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=send)
        thread.start()
        time.sleep(0.3)  # the upload is being handled now
        worst = 0.0
        while thread.is_alive():
            started = time.monotonic()
            assert other.get("/login").status_code == 200
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.05)
        thread.join()
    assert done["status"] == 200
    assert worst < max(1.0, done["seconds"] / 3), (worst, done)
