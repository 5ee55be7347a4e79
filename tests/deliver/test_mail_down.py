"""When no SMTP server answers, the user gets a clear message and nothing is
left behind: no pending subscription, account or address (issue 14)."""

from __future__ import annotations

import httpx
import pytest

from paperwire.settings import get_settings
from paperwire.store.community import User
from paperwire.store.delivery import Subscription, SubscriptionChange
from tests.deliver.account_helpers import csrf, save_digest, signup, verified_account
from tests.deliver.conftest import add_subscription, free_port


@pytest.fixture
def smtp_down(monkeypatch):
    def stop():
        monkeypatch.setenv("PAPERWIRE_SMTP_PORT", str(free_port()))  # nothing listens there
        get_settings.cache_clear()
    return stop


def test_subscribe_with_mail_server_down_leaves_no_rows(db, smtp_server, live_site, smtp_down):
    smtp_down()
    with httpx.Client(base_url=live_site.url) as client:
        response = client.post("/subscribe", data={"email": "new@example.org", "csrf_token": csrf(client, "/subscribe")})
    assert response.status_code == 503 and "could not send" in response.text and "try again" in response.text
    assert 'name="email"' in response.text  # the form again, filled in
    with db.session() as session:
        assert session.query(Subscription).count() == 0


def test_signup_with_mail_server_down_creates_no_account(db, smtp_server, live_site, smtp_down):
    smtp_down()
    with httpx.Client(base_url=live_site.url) as client:
        response = signup(client, "reader", "reader@example.org")
    assert response.status_code == 503 and "could not send" in response.text
    with db.session() as session:
        assert session.query(User).count() == 0


def test_address_change_and_subscription_change_with_mail_server_down(db, papers, smtp_server, live_site, smtp_down):
    sub_id = add_subscription(db, "reader@example.org")
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        verified_account(client, smtp_server, live_site, "reader", "reader@example.org")
        smtp_down()
        changed = client.post("/settings/email", data={"csrf_token": csrf(client), "email": "other@example.org"})
        assert changed.status_code == 503 and "could not send" in changed.text
        saved = save_digest(client, active="1", keywords="x")
        assert saved.status_code == 503 and "could not send" in saved.text
    with db.session() as session:
        user = session.query(User).one()
        assert user.pending_email is None and user.email == "reader@example.org"
        assert session.query(SubscriptionChange).count() == 0
        assert session.get(Subscription, sub_id).user_id is None
