"""Per-address and per-account limits on verification and confirmation mails,
counted in the database (issue 12, item 2: no mail flood)."""

from __future__ import annotations

import httpx

from paperwire.settings import get_settings
from paperwire.store.delivery import Subscription
from tests.deliver.account_helpers import csrf, signup
from tests.deliver.conftest import add_subscription


def _no_interval(monkeypatch, **limits):
    monkeypatch.setenv("PAPERWIRE_MAIL_MIN_INTERVAL_SECONDS", "0")
    for name, value in limits.items():
        monkeypatch.setenv(f"PAPERWIRE_{name.upper()}", str(value))
    get_settings.cache_clear()


def test_a_handful_of_mails_per_address_a_day(db, smtp_server, live_site, monkeypatch):
    _no_interval(monkeypatch, mail_daily_per_address=5)
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        signup(client, "reader", "reader@example.org")
        pages = [client.post("/settings/email/resend", data={"csrf_token": csrf(client)}) for _ in range(6)]
    assert len(smtp_server.to("reader@example.org")) == 5
    assert all(p.status_code == 200 for p in pages) and "try again tomorrow" in pages[-1].text


def test_one_account_cannot_mail_many_addresses(db, smtp_server, live_site, monkeypatch):
    _no_interval(monkeypatch, mail_daily_per_account=3)
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        signup(client, "spammer")
        for i in range(5):
            last = client.post("/settings/email", data={"csrf_token": csrf(client), "email": f"v{i}@example.org"})
    assert len(smtp_server.messages) == 3 and "Your account asked for as many mails" in last.text


def test_anonymous_subscribe_form_sends_one_confirmation_per_interval(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url) as client:
        for _ in range(3):
            page = client.post("/subscribe", data={"email": "new@example.org", "csrf_token": csrf(client, "/subscribe")})
            assert page.status_code == 200 and "Check your inbox" in page.text  # the same answer every time
    assert len(smtp_server.to("new@example.org")) == 1


def test_subscription_linked_to_an_unverified_account_is_not_its_own(db, smtp_server, live_site):
    """A link made before verification existed (the takeover) gives the account no control."""
    from paperwire.store.community import create_user

    with db.session() as session:
        mallory = create_user(session, "mallory", "mallory-password", email="victim@example.org")
        mallory_id = mallory.id
    sub_id = add_subscription(db, "victim@example.org", user_id=mallory_id, topics={"keywords": ["cells"]})
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        token = csrf(client, "/login")
        client.post("/login", data={"username": "mallory", "password": "mallory-password", "csrf_token": token})
        page = client.get("/settings").text
        assert "cells" not in page  # the victim's topics are not shown
        client.post("/settings/digest", data={"csrf_token": csrf(client), "active": "", "keywords": "spam"})
    with db.session() as session:
        sub = session.get(Subscription, sub_id)
        assert sub.active and sub.topics["keywords"] == ["cells"]
