"""Accounts and safety: CSRF, rate limits, sessions, admin moderation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paperwire.web.app import create_app
from tests.web.conftest import csrf_from, login, signup


def test_forms_reject_missing_or_foreign_csrf_token(client, site_db):
    client.get("/signup")
    r = client.post("/signup", data={"username": "mallory", "password": "password123"})
    assert r.status_code == 403 and "CSRF" in r.text
    with TestClient(create_app(site_db)) as other:
        foreign = csrf_from(other.get("/signup").text)
    r = client.post("/signup", data={"username": "mallory", "password": "password123", "csrf_token": foreign})
    assert r.status_code == 403
    signup(client, "erin")
    r = client.post("/papers/2403.00001/vote", data={"action": "up"})
    assert r.status_code == 403


def test_signup_validation_and_login_logout(client):
    token = csrf_from(client.get("/signup").text)
    r = client.post("/signup", data={"username": "x", "password": "password123", "csrf_token": token})
    assert r.status_code == 422 and "3–32" in r.text
    r = client.post("/signup", data={"username": "frank", "password": "short", "csrf_token": token})
    assert r.status_code == 422 and "at least 8" in r.text
    signup(client, "frank", "password123")
    assert "/users/frank" in client.get("/").text
    token = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert "/users/frank" not in client.get("/").text
    r = client.post("/login", data={"username": "frank", "password": "wrong-pass", "csrf_token": csrf_from(client.get("/login").text)})
    assert r.status_code == 401 and "Wrong username or password" in r.text
    login(client, "frank", "password123")
    assert "/users/frank" in client.get("/settings").text
    token = csrf_from(client.get("/signup").text)
    r = client.post("/signup", data={"username": "FRANK", "password": "password123", "csrf_token": token})
    assert "taken" in r.text


def test_login_is_rate_limited(client):
    token = csrf_from(client.get("/login").text)
    codes = [client.post("/login", data={"username": "nobody", "password": "x" * 8, "csrf_token": token}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    r = client.post("/login", data={"username": "admin", "password": "admin-password", "csrf_token": token})
    assert r.status_code == 429 and "Too many login attempts" in r.text


def test_settings_requires_login(client):
    r = client.get("/settings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/settings")
    assert client.get("/submit", follow_redirects=False).status_code == 303


def test_admin_hides_paper_and_comment_and_bans_user(client, site_db):
    signup(client, "troll")
    token = csrf_from(client.get("/papers/2403.00002").text)
    r = client.post("/papers/2403.00002/comments", data={"body": "spam spam", "csrf_token": token}, follow_redirects=False)
    comment_id = int(r.headers["location"].split("#c")[1])
    # A normal user cannot moderate.
    assert client.post(f"/admin/comments/{comment_id}/hide", data={"csrf_token": token}).status_code == 403
    with TestClient(create_app(site_db)) as admin:
        login(admin, "admin", "admin-password")
        atoken = csrf_from(admin.get("/admin").text)
        admin.post(f"/admin/comments/{comment_id}/hide", data={"csrf_token": atoken, "next": "/papers/2403.00002"})
        admin.post("/admin/papers/2403.00001/hide", data={"csrf_token": atoken})
        admin.post("/admin/users/troll/ban", data={"csrf_token": atoken})
        assert "Hide paper" not in admin.get("/papers/2403.00001").text  # shows "Unhide paper"
    page = client.get("/papers/2403.00002").text
    assert "spam spam" not in page
    assert client.get("/papers/2403.00001").status_code == 404
    assert "Diffusion models" not in client.get("/date/2024-03-13").text
    r = client.post("/papers/2403.00002/comments", data={"body": "more spam", "csrf_token": token})
    assert r.status_code == 403 and "banned" in r.text
