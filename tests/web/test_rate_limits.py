"""Rate limits on every write, per account and per client address, and a
client address that a client cannot choose (forwarded headers only from
configured proxies)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperwire.settings import get_settings
from paperwire.store.community import create_user, issue_api_token
from paperwire.web.app import create_app
from tests.sources.upstream_server import FakePaper, UpstreamServer
from tests.web.conftest import csrf_from, login, signup


def _env(monkeypatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"PAPERWIRE_{name.upper()}", value)
    get_settings.cache_clear()


def _wrong_login(client, username="admin", xff: str | None = None):
    token = csrf_from(client.get("/login").text)
    headers = {"X-Forwarded-For": xff} if xff else {}
    return client.post("/login", data={"username": username, "password": "wrong-password", "csrf_token": token},
                       headers=headers)


@pytest.fixture(autouse=True)
def _three_logins(monkeypatch):
    """Few attempts per test (each password check costs argon2 time)."""
    _env(monkeypatch, rate_limit_login="3/300")


def test_client_chosen_forwarded_for_does_not_change_the_limited_address(client):
    """No proxy configured (the default): X-Forwarded-For is ignored, all come from one address."""
    codes = [_wrong_login(client, username=f"user{i}", xff=f"203.0.113.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_address_it_appended_counts_not_the_clients(site_db, monkeypatch):
    _env(monkeypatch, forwarded_allow_ips="testclient")
    with TestClient(create_app(site_db)) as client:
        # nginx with $proxy_add_x_forwarded_for: "<what the client sent>, <real address>".
        codes = [_wrong_login(client, username=f"user{i}", xff=f"198.51.100.{i}, 203.0.113.7").status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]
        # Another real client behind the same proxy is not affected.
        assert _wrong_login(client, username="someone", xff="203.0.113.8").status_code == 401


def test_login_failures_are_limited_per_account_across_addresses(site_db, monkeypatch):
    _env(monkeypatch, forwarded_allow_ips="testclient")
    with TestClient(create_app(site_db)) as client:
        codes = [_wrong_login(client, xff=f"203.0.113.{i}").status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        r = _wrong_login(client, xff="203.0.113.200")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_successful_logins_do_not_count(client):
    for _ in range(5):
        login(client, "admin", "admin-password")
    assert _wrong_login(client).status_code == 401


def _paper_form(client, uid="2403.00001"):
    return csrf_from(client.get(f"/papers/{uid}").text)


def test_comments_are_limited_per_account_with_retry_after(client, monkeypatch):
    _env(monkeypatch, rate_limit_comment="3/600")
    signup(client, "chatty")
    token = _paper_form(client)
    codes = [client.post("/papers/2403.00001/comments", data={"body": f"comment {i}", "csrf_token": token},
                         follow_redirects=False).status_code for i in range(4)]
    assert codes == [303, 303, 303, 429]
    r = client.post("/papers/2403.00001/comments", data={"body": "again", "csrf_token": token})
    assert r.status_code == 429 and "text/html" in r.headers["content-type"]
    assert "Too many" in r.text and 0 < int(r.headers["retry-after"]) <= 600


def test_api_votes_are_limited_per_account_and_answer_json(site_db, monkeypatch):
    _env(monkeypatch, rate_limit_vote="2/60")
    with site_db.session() as session:
        user = create_user(session, "voter", "voter-password")
        _, secret = issue_api_token(session, user, "cli")
    with TestClient(create_app(site_db)) as client:
        auth = {"Authorization": f"Bearer {secret}"}
        codes = [client.post("/api/papers/2403.00001/upvote", headers=auth).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = client.delete("/api/papers/2403.00001/upvote", headers=auth)
        assert r.status_code == 429 and set(r.json()) == {"error", "detail"} and "retry-after" in r.headers


def test_writes_are_limited_per_address_across_accounts(client, monkeypatch):
    _env(monkeypatch, rate_limit_signup="2/3600")
    signup(client, "first")
    client.cookies.clear()
    signup(client, "second")
    client.cookies.clear()
    token = csrf_from(client.get("/signup").text)
    r = client.post("/signup", data={"username": "third", "password": "correct-horse", "csrf_token": token})
    assert r.status_code == 429


def test_settings_and_library_writes_are_limited(client, monkeypatch):
    _env(monkeypatch, rate_limit_write="2/600")
    signup(client, "writer")
    token = csrf_from(client.get("/settings").text)
    codes = [client.post("/library/follows", data={"csrf_token": token, "kind": "keyword", "value": f"w{i}"},
                         follow_redirects=False).status_code for i in range(3)]
    assert codes[2] == 429


def test_unknown_arxiv_ids_are_looked_up_at_a_polite_rate_and_misses_are_remembered(client, monkeypatch):
    with UpstreamServer([FakePaper("2401.00042", "A fetched paper")]) as arxiv:
        _env(monkeypatch, arxiv_api_url=arxiv.api_url, harvest_delay="30")
        signup(client, "submitter")
        token = csrf_from(client.get("/submit").text)

        def submit(text):
            return client.post("/submit", data={"arxiv": text, "csrf_token": token}, follow_redirects=False)

        assert submit("2401.99999").status_code == 404
        assert len(arxiv.requests) == 1
        again = submit("2401.99999")  # remembered: no second request
        assert again.status_code == 404 and len(arxiv.requests) == 1
        paced = submit("2401.00042")  # a new lookup within 30 s of the last one waits
        assert paced.status_code == 429 and int(paced.headers["retry-after"]) > 0
        assert "arXiv" in paced.text and len(arxiv.requests) == 1


@pytest.mark.parametrize("value", ["ten per minute", "0/60", "5/0", "-1/5"])
def test_bad_limit_settings_are_refused_with_the_variable_name(monkeypatch, value):
    monkeypatch.setenv("PAPERWIRE_RATE_LIMIT_COMMENT", value)
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="rate_limit_comment"):
        get_settings()


def test_limits_keyed_on_long_typed_names_fit_the_table(db):
    """A 10,000-character user name in a limiter key (login:user:…) was a 500 on PostgreSQL."""
    from datetime import timedelta

    from paperwire.store.community import rate_wait, record_attempt

    long_key = "login:user:" + "a" * 10_000
    with db.session() as session:
        assert rate_wait(session, long_key, limit=2, window=timedelta(minutes=5), record=False) == 0
        record_attempt(session, long_key)
        record_attempt(session, long_key)
    with db.session() as session:
        assert rate_wait(session, long_key, limit=2, window=timedelta(minutes=5), record=False) > 0
