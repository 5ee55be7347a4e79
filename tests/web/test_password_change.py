"""Changing the password revokes API tokens, private feed tokens and the
user's other sessions, and keeps the current one (issue 12, item 9)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_from, login, signup


def test_password_change_revokes_tokens_and_other_sessions(client):
    signup(client, "alice", "old-password-1")
    token = csrf_from(client.get("/settings").text)
    api_token = re.search(r'id="new-token">([^<]+)<',
                          client.post("/settings/tokens", data={"csrf_token": token, "name": "nightly-sync"}).text).group(1)
    feed_page = client.post("/settings/feed-token", data={"csrf_token": token}).text
    feed_url = re.search(r'id="feed-rss">([^<]+)<', feed_page).group(1).replace("http://testserver", "")
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert client.post("/api/papers/2403.00002/upvote", headers=bearer).status_code == 200
    assert client.get(feed_url).status_code == 200
    with TestClient(client.app) as other:
        login(other, "alice", "old-password-1")
        assert other.get("/settings", follow_redirects=False).status_code == 200

        changed = client.post("/settings/password", data={"csrf_token": token, "current": "old-password-1",
                                                          "new": "new-password-2"}, follow_redirects=False)
        assert changed.status_code == 303
        page = client.get(changed.headers["location"])
        assert page.status_code == 200 and "/users/alice" in page.text  # this session stays logged in
        assert "API tokens, private feed addresses and other sessions were revoked" in page.text

        assert other.get("/settings", follow_redirects=False).status_code == 303  # logged out
    with TestClient(client.app) as anonymous:
        assert anonymous.post("/api/papers/2403.00002/upvote", headers=bearer).status_code == 401
        assert anonymous.get(feed_url).status_code == 404
    assert "nightly-sync" not in client.get("/settings").text  # the token list is empty


def test_wrong_current_password_revokes_nothing(client):
    signup(client, "bob", "old-password-1")
    token = csrf_from(client.get("/settings").text)
    api_token = re.search(r'id="new-token">([^<]+)<',
                          client.post("/settings/tokens", data={"csrf_token": token}).text).group(1)
    r = client.post("/settings/password", data={"csrf_token": token, "current": "nope-nope", "new": "new-password-2"})
    assert r.status_code == 422
    with TestClient(client.app) as anonymous:
        assert anonymous.post("/api/papers/2403.00002/upvote",
                              headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
