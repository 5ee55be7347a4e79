"""The JSON API: shapes, auth (token / session + CSRF header), error codes."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperwire.web.app import create_app
from tests.web.conftest import csrf_from, signup


def _token(client: TestClient) -> str:
    csrf = csrf_from(client.get("/settings").text)
    html = client.post("/settings/tokens", data={"name": "script", "csrf_token": csrf}).text
    return re.search(r'id="new-token">([^<]+)<', html).group(1)


def test_daily_papers_shape_and_periods(client):
    rows = client.get("/api/daily_papers").json()
    assert [r["paper"]["id"] for r in rows] == ["2403.00002", "2403.00001"]
    first = rows[1]
    # Hugging Face's shape and timestamp form (see tests/web/test_hf_client.py for the real client)
    assert first["publishedAt"] == "2024-03-13T00:00:00.000Z"
    assert first["submittedBy"] == {"name": "ada", "fullname": "ada", "type": "user"}
    assert first["paper"]["submittedOnDailyBy"] == {"user": "ada", "fullname": "ada", "type": "user"}
    assert first["paper"]["publishedAt"] == "2024-03-01T00:00:00.000Z"
    assert first["paper"]["authors"] == [{"name": "Ada Lovelace", "hidden": False}, {"name": "Alan Turing", "hidden": False}]
    assert first["paper"]["pdfUrl"] == "https://arxiv.org/pdf/2403.00001" and first["isAuthorParticipating"] is False
    assert first["paper"]["upvotes"] == 12 and first["numComments"] == 0
    assert len(client.get("/api/daily_papers?week=2024-W11").json()) == 3
    assert len(client.get("/api/daily_papers?month=2024-03&limit=1&p=2").json()) == 1
    assert client.get("/api/daily_papers?date=2024-03-11").json()[0]["paper"]["id"] == "2403.00003"


def test_api_errors_are_json_with_status(client):
    r = client.get("/api/papers/1234.56789")
    assert r.status_code == 404 and r.json()["error"].startswith("No paper with id")
    r = client.get("/api/daily_papers?date=yesterday")
    assert r.status_code == 422 and "YYYY-MM-DD" in r.json()["error"]
    r = client.get("/api/daily_papers?limit=0")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/api/daily_papers?date=2024-03-11&week=2024-W11").status_code == 422
    r = client.post("/api/papers/2403.00001/upvote")
    assert r.status_code == 401 and "Authentication required" in r.json()["error"]
    r = client.post("/api/papers/2403.00001/upvote", headers={"Authorization": "Bearer pw_nope"})
    assert r.status_code == 401 and "Invalid" in r.json()["error"]


def test_token_auth_votes_comments_and_revocation(client, site_db):
    signup(client, "gina")
    token = _token(client)
    with TestClient(create_app(site_db)) as bot:  # no cookies at all
        auth = {"Authorization": f"Bearer {token}"}
        assert bot.post("/api/papers/2403.00002/upvote", headers=auth).json() == {"upvotes": 31, "upvoted": True}
        assert bot.post("/api/papers/2403.00002/upvote", headers=auth).json()["upvotes"] == 31
        r = bot.post("/api/papers/2403.00002/comments", headers=auth, json={"body": "<b>bold</b> claim"})
        assert r.status_code == 201
        parent = r.json()["id"]
        bot.post("/api/papers/2403.00002/comments", headers=auth, json={"body": "reply", "parentId": parent})
        tree = bot.get("/api/papers/2403.00002/comments").json()
        assert tree[0]["body"] == "<b>bold</b> claim" and tree[0]["replies"][0]["body"] == "reply"
        assert tree[0]["author"] == {"name": "gina"}
        assert bot.get("/api/papers/2403.00002").json()["numComments"] == 2
        r = bot.post("/api/papers/2403.00002/comments", headers=auth, json={"body": "x", "parentId": 99999})
        assert r.status_code == 422
        assert bot.delete("/api/papers/2403.00002/upvote", headers=auth).json() == {"upvotes": 30, "upvoted": False}
        token_id = re.search(r"/settings/tokens/(\d+)/revoke", client.get("/settings").text).group(1)
        csrf = csrf_from(client.get("/settings").text)
        client.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf})
        assert bot.post("/api/papers/2403.00002/upvote", headers=auth).status_code == 401


def test_session_writes_need_csrf_header(client):
    signup(client, "hank")
    assert client.post("/api/papers/2403.00001/upvote").status_code == 403
    csrf = csrf_from(client.get("/").text)
    r = client.post("/api/papers/2403.00001/upvote", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["upvoted"] is True


def test_openapi_docs_list_the_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}/upvote"} <= set(spec["paths"])
    assert "DailyPaperOut" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_search_api_and_page(client):
    r = client.get("/api/papers/search?q=sparse&mode=lexical")
    assert r.status_code == 200, r.text
    hits = r.json()
    assert hits[0]["paper"]["id"] == "2403.00002" and "<mark>" in hits[0]["highlightedTitle"].lower()
    everything = client.get("/api/papers/search")  # no query: the trending list, like huggingface.co
    assert everything.status_code == 200 and {h["paper"]["id"] for h in everything.json()} == {"2403.00001", "2403.00002", "2403.00003"}
    assert client.get("/api/papers/search?sort=nonsense").status_code == 422
    page = client.get("/search?q=sparse&mode=lexical").text
    assert "Sparse" in page and "<mark>" in page.lower()
    empty = client.get("/search?q=zzzqqqxxx&mode=lexical").text
    assert "No papers match" in empty
    xss = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E&mode=lexical").text
    assert "<script>alert(1)" not in xss
