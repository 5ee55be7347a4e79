"""Submitting papers: local papers need no network; unknown ids go to a
real local arXiv stand-in; offline and unknown ids give clear messages."""

from __future__ import annotations

from datetime import date

import pytest

from paperwire.settings import get_settings
from paperwire.store.papers import utcnow
from tests.sources.upstream_server import FakePaper, UpstreamServer
from tests.web.conftest import csrf_from, signup


@pytest.fixture
def arxiv(monkeypatch):
    with UpstreamServer([FakePaper("2401.00042", "A fetched paper about $\\beta$ decay")]) as server:
        monkeypatch.setenv("PAPERWIRE_ARXIV_API_URL", server.api_url)
        get_settings.cache_clear()
        yield server


def _submit(client, text):
    csrf = csrf_from(client.get("/submit").text)
    return client.post("/submit", data={"arxiv": text, "csrf_token": csrf}, follow_redirects=False)


def test_submit_known_paper_features_it_today(client):
    signup(client, "ivy")
    r = _submit(client, "https://arxiv.org/abs/2403.00003v1")
    assert r.status_code == 303 and r.headers["location"] == "/papers/2403.00003?msg=submitted"
    today = utcnow().date()
    day = client.get(f"/date/{today}").text
    assert "submitted by ivy" in day and "Title &lt;script&gt;" in day
    assert "2403.00003" in client.get("/users/ivy").text
    assert _submit(client, "2403.00003").headers["location"].endswith("msg=already")


def test_submit_fetches_unknown_paper_from_arxiv(client, arxiv):
    signup(client, "jack")
    r = _submit(client, "2401.00042")
    assert r.status_code == 303, r.text
    assert [r.params.get("id_list") for r in arxiv.requests] == ["2401.00042"]
    page = client.get("/papers/2401.00042").text
    assert "A fetched paper about" in page and "Ada Lovelace" in page
    r = _submit(client, "2401.99999")
    assert r.status_code == 404 and "arXiv has no paper with id 2401.99999" in r.text


def test_submit_errors_bad_id_and_offline(client, monkeypatch):
    signup(client, "kim")
    r = _submit(client, "not an id")
    assert r.status_code == 422 and "arXiv id like" in r.text
    with UpstreamServer() as gone:
        url = gone.api_url
    monkeypatch.setenv("PAPERWIRE_ARXIV_API_URL", url)
    get_settings.cache_clear()
    r = _submit(client, "2401.00077")
    assert r.status_code == 503 and "could not be reached" in r.text


def test_api_submit(client, site_db, arxiv):
    signup(client, "lee")
    csrf = csrf_from(client.get("/").text)
    r = client.post("/api/papers/submit", json={"id": "2401.00042"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert r.json()["paper"]["title"].startswith("A fetched paper") and r.json()["created"] is True
    r = client.post("/api/papers/submit", json={"id": "2401.00042"}, headers={"X-CSRF-Token": csrf})
    assert r.json()["created"] is False
    rows = client.get(f"/api/daily_papers?date={utcnow().date()}").json()
    assert rows[0]["submittedBy"]["name"] == "lee"  # Hugging Face's shape: name, fullname, type
    r = client.post("/api/papers/submit", json={"id": "garbage"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 422 and isinstance(date.today(), date)
