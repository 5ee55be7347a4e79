"""Accounts and safety: CSRF, rate limits, sessions, admin moderation."""

from __future__ import annotations

import pytest
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


HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc", "/openapi.json", "/api/daily_papers", "/feeds/trending.rss",
                                  "/static/style.css", "/login", "/no-such-page", "/api/no-such-thing"])
def test_every_route_has_the_security_headers(client, path):
    r = client.get(path)
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    csp = r.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp, (path, directive)
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_templates_have_no_inline_scripts_or_handlers():
    """``script-src 'self'`` would block them: everything runs from /static."""
    import re

    from paperwire.web.deps import TEMPLATES_DIR

    for template in TEMPLATES_DIR.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template


def _boom_app(site_db):
    from paperwire.web.app import create_app

    app = create_app(site_db)

    def boom():
        raise RuntimeError("secret internals /etc/paperwire")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)
    return app


def test_errors_are_uniform_html_for_pages_and_json_for_api_and_feeds(site_db):
    from fastapi.testclient import TestClient

    with TestClient(_boom_app(site_db)) as client:
        cases = [("GET", "/no-such-page", 404), ("DELETE", "/login", 405), ("GET", "/boom", 500),
                 ("GET", "/date/not-a-date", None)]
        for method, path, status in cases:
            r = client.request(method, path)
            if status:
                assert r.status_code == status, path
            assert r.status_code >= 400 and "text/html" in r.headers["content-type"], path
            assert "Traceback" not in r.text and "secret internals" not in r.text
            assert r.headers["content-security-policy"]
        api_cases = [("GET", "/api/no-such-thing", 404), ("DELETE", "/api/daily_papers", 405),
                     ("GET", "/api/boom", 500), ("GET", "/api/daily_papers?limit=nope", 422),
                     ("GET", "/feeds/trending.xyz", 404), ("POST", "/feeds/trending.rss", 405)]
        for method, path, status in api_cases:
            r = client.request(method, path)
            assert r.status_code == status, (path, r.status_code)
            assert set(r.json()) == {"error", "detail"}, path
            assert "secret internals" not in r.text
