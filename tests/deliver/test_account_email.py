"""Account e-mail addresses: verified by a mailed link before any digest or
subscription link, and another account can never take over an address's
subscription (issue 12, item 2; issue 14's settings walk)."""

from __future__ import annotations

import httpx

from paperwire.store.community import User
from paperwire.store.delivery import Subscription
from tests.deliver.account_helpers import (
    CHANGE_LINK, VERIFY_LINK, body, csrf, follow_link, save_digest, signup, verified_account, verify_latest,
)
from tests.deliver.conftest import add_subscription


def _sub(db, sub_id: int) -> Subscription:
    with db.session() as session:
        return session.get(Subscription, sub_id)


def test_attacker_signing_up_with_victims_address_cannot_touch_their_subscription(db, papers, smtp_server, live_site):
    victim_sub = add_subscription(db, "victim@example.org", topics={"categories": ["cs.LG"]})
    before = _sub(db, victim_sub)
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as attacker:
        assert signup(attacker, "mallory", "victim@example.org").status_code == 200
        for active in ("1", "", "1", ""):
            saved = save_digest(attacker, active=active, frequency="weekly", keywords="crypto spam")
            assert saved.status_code == 200, saved.text  # a clear page, never a 422 or 500
        assert "verify" in saved.text.lower()
    after = _sub(db, victim_sub)
    assert after.user_id is None and after.frequency == "daily" and after.topics == before.topics
    assert after.confirmed_at == before.confirmed_at and after.unsubscribed_at is None
    with db.session() as session:
        assert session.query(Subscription).count() == 1
    # The victim got the verification mail of the sign-up at most; following none of it, nothing changes.
    assert len(smtp_server.to("victim@example.org")) <= 1


def test_verification_link_makes_the_address_the_accounts(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        assert signup(client, "reader", "Reader@Example.org").status_code == 200
        [mail] = smtp_server.to("Reader@example.org")
        assert mail["Subject"] == "Verify your paperwire e-mail address"
        page = client.get("/settings")
        assert 'name="email"' in page.text and "waiting for verification" in page.text
        link = VERIFY_LINK.search(body(mail)).group(0)
        # A link scanner's GET changes nothing.
        with httpx.Client() as scanner:
            assert scanner.get(link.replace("http://paperwire.test", live_site.url)).status_code == 200
        with db.session() as session:
            assert session.query(User).filter_by(username="reader").one().email_verified_at is None
        done = follow_link(client, link, live_site)
        assert done.status_code == 200 and "verified" in done.text
        assert follow_link(client, link, live_site).status_code == 200  # a second click is harmless
        with db.session() as session:
            user = session.query(User).filter_by(username="reader").one()
            assert user.email == "Reader@example.org" and user.email_verified_at is not None
            assert user.pending_email is None
        assert "Reader@example.org" in client.get("/settings").text and "verified" in client.get("/settings").text


def test_tampered_or_foreign_verification_links_are_refused(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        signup(client, "reader", "reader@example.org")
        link = VERIFY_LINK.search(body(smtp_server.to("reader@example.org")[-1])).group(0)
        local = link.replace("http://paperwire.test", live_site.url)
        assert client.get(local[:-3] + "xyz").status_code == 400
        # The owner changes the address before clicking: the old link no longer verifies anything.
        changed = client.post("/settings/email", data={"csrf_token": csrf(client), "email": "new@example.org"})
        assert changed.status_code == 200
        page = client.get(local)
        assert page.status_code == 200
        refused = client.post(local, data={"csrf_token": csrf(client, local.replace(live_site.url, ""))})
        assert refused.status_code == 400
    with db.session() as session:
        user = session.query(User).filter_by(username="reader").one()
        assert user.email is None and user.pending_email == "new@example.org"


def test_settings_email_field_change_and_resend(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        assert signup(client, "newcomer").status_code == 200  # no address at sign-up
        page = client.get("/settings")
        assert 'name="email"' in page.text
        bad = client.post("/settings/email", data={"csrf_token": csrf(client), "email": "<b>nope"})
        assert bad.status_code == 422 and "&lt;b&gt;nope" in bad.text and "<b>nope" not in bad.text
        added = client.post("/settings/email", data={"csrf_token": csrf(client), "email": "me@example.org"})
        assert added.status_code == 200 and "me@example.org" in added.text
        assert len(smtp_server.to("me@example.org")) == 1
        resent = client.post("/settings/email/resend", data={"csrf_token": csrf(client)})
        assert resent.status_code == 200 and "minutes" in resent.text  # rate-limited, said clearly
        assert len(smtp_server.to("me@example.org")) == 1
        assert verify_latest(client, smtp_server, "me@example.org", live_site).status_code == 200
        # Digest box works once verified: no 422, the account's own subscription, no confirmation mail needed.
        saved = save_digest(client, active="1", frequency="weekly", categories="cs.LG")
        assert saved.status_code == 200 and "saved" in saved.text
    with db.session() as session:
        sub = session.query(Subscription).one()
        assert sub.email == "me@example.org" and sub.active and sub.frequency == "weekly"


def test_digest_box_without_verified_address_explains_instead_of_422(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        signup(client, "newcomer")
        saved = save_digest(client, active="1")
        assert saved.status_code == 200 and "e-mail address" in saved.text
    with db.session() as session:
        assert session.query(Subscription).count() == 0
    assert smtp_server.messages == []


def test_toggling_active_sends_no_mail_flood(db, papers, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        verified_account(client, smtp_server, live_site, "toggler", "toggler@example.org")
        before = len(smtp_server.messages)
        for i in range(10):
            assert save_digest(client, active="1" if i % 2 == 0 else "").status_code == 200
        assert len(smtp_server.messages) - before <= 1
    with db.session() as session:
        assert not session.query(Subscription).one().active  # the last toggle was "off"


def test_anonymous_subscription_changes_only_through_the_addresss_confirmation(db, papers, smtp_server, live_site):
    """Even the verified owner of an address changes its anonymous subscription via a mail to it."""
    sub_id = add_subscription(db, "reader@example.org", topics={"keywords": ["proteins"]})
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as client:
        verified_account(client, smtp_server, live_site, "reader", "reader@example.org")
        before = len(smtp_server.messages)
        for i in range(10):
            saved = save_digest(client, active="1" if i % 2 == 0 else "", frequency="weekly", keywords="diffusion")
            assert saved.status_code == 200
        assert len(smtp_server.messages) - before == 1  # one confirmation, then the per-address limit
        assert _sub(db, sub_id).user_id is None and _sub(db, sub_id).topics["keywords"] == ["proteins"]
        link = CHANGE_LINK.search(body(smtp_server.messages[-1])).group(0)
        assert follow_link(client, link, live_site).status_code == 200
    sub = _sub(db, sub_id)
    with db.session() as session:
        user = session.query(User).filter_by(username="reader").one()
    # The newest settings saved (the 10th: paused) are what the confirmation applied.
    assert sub.user_id == user.id and sub.frequency == "weekly" and sub.topics["keywords"] == ["diffusion"]
    assert sub.unsubscribed_at is not None


def test_address_of_another_account_is_never_linked(db, papers, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as owner:
        verified_account(owner, smtp_server, live_site, "owner", "owner@example.org")
        save_digest(owner, active="1", keywords="graphs")
    with httpx.Client(base_url=live_site.url, follow_redirects=True) as attacker:
        signup(attacker, "mallory")
        attacker.post("/settings/email", data={"csrf_token": csrf(attacker), "email": "owner@example.org"})
        save_digest(attacker, active="", keywords="spam")
    with db.session() as session:
        sub = session.query(Subscription).one()
        owner_id = session.query(User).filter_by(username="owner").one().id
        mallory = session.query(User).filter_by(username="mallory").one()
    assert sub.user_id == owner_id and sub.active and sub.topics["keywords"] == ["graphs"]
    assert mallory.email is None
    # The owner's own verification mail, then at most a notice: no link that would hand the address over.
    later = smtp_server.to("owner@example.org")[1:]
    assert len(later) <= 1 and all("/account/verify/" not in body(m) for m in later)


def test_anonymous_form_does_not_change_a_paused_subscription(db, papers, smtp_server, live_site):
    """Re-subscribing a paused address only mails it a link; its settings stay until the link is clicked."""
    sub_id = add_subscription(db, "paused@example.org", frequency="weekly", topics={"keywords": ["graphs"]})
    with db.session() as session:
        from paperwire.store.papers import utcnow

        session.get(Subscription, sub_id).unsubscribed_at = utcnow()
    with httpx.Client(base_url=live_site.url) as client:
        page = client.post("/subscribe", data={"email": "paused@example.org", "frequency": "daily",
                                               "keywords": "spam", "csrf_token": csrf(client, "/subscribe")})
        assert page.status_code == 200
    sub = _sub(db, sub_id)
    assert sub.frequency == "weekly" and sub.topics["keywords"] == ["graphs"] and sub.confirmed_at is not None
    assert len(smtp_server.to("paused@example.org")) == 1  # the owner may revive it from that mail
