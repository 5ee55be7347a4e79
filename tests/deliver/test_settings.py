"""The delivery part of /settings for a logged-in user, over real HTTP."""

from __future__ import annotations

import re

import httpx

from paperwire.settings import get_settings
from paperwire.store.community import create_user, start_session
from paperwire.store.delivery import Subscription, Webhook

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(db, live_site, *, admin=False) -> httpx.Client:
    with db.session() as session:
        user = create_user(session, "reader", "correct horse battery", email="reader@example.org", is_admin=admin,
                           email_verified=True)
        token = start_session(session, user)
    client = httpx.Client(base_url=live_site.url, cookies={"pw_session": token}, follow_redirects=True)
    return client


def test_settings_digest_feed_token_and_webhooks(db, papers, smtp_server, live_site, monkeypatch):
    with _login(db, live_site, admin=True) as client:
        page = client.get("/settings")
        assert page.status_code == 200 and 'id="delivery"' in page.text
        csrf = CSRF.search(page.text).group(1)
        saved = client.post("/settings/digest", data={
            "csrf_token": csrf, "active": "1", "frequency": "weekly", "trending": "1",
            "categories": "cs.LG, quant-ph", "keywords": "<b>diffusion</b>", "exclude_authors": "Spam Author"})
        # The account's address is verified (a mailed link), so its digest is active at once, with no second mail.
        assert saved.status_code == 200 and "settings were saved" in saved.text  # followed the redirect
        with db.session() as session:
            sub = session.query(Subscription).one()
            assert sub.frequency == "weekly" and sub.topics["categories"] == ["cs.LG", "quant-ph"]
            assert sub.exclusions["authors"] == ["Spam Author"] and sub.active
        assert smtp_server.messages == []
        page = client.get("/settings")
        assert "&lt;b&gt;diffusion&lt;/b&gt;" in page.text and "<b>diffusion</b>" not in page.text

        created = client.post("/settings/feed-token", data={"csrf_token": csrf})
        feed_url = re.search(r'id="feed-rss">([^<]+)<', created.text).group(1)
        assert client.get(feed_url.replace("http://paperwire.test", live_site.url)).status_code == 200
        client.post("/settings/feed-token/revoke", data={"csrf_token": csrf})
        assert client.get(feed_url).status_code == 404

        for private in ("http://127.1:9/x", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/"):
            refused = client.post("/settings/webhooks", data={"csrf_token": csrf, "url": private})
            assert refused.status_code == 422 and "not allowed" in refused.text
        monkeypatch.setenv("PAPERWIRE_OUTBOUND_ALLOW", "127.0.0.1")  # an intranet deployment
        get_settings.cache_clear()
        added = client.post("/settings/webhooks", data={"csrf_token": csrf, "url": "http://127.0.0.1:9/x?a=<i>",
                                                        "format": "slack", "frequency": "daily", "site_wide": "1"})
        assert added.status_code == 200 and "http://127.0.0.1:9/x?a=&lt;i&gt;" in added.text
        with db.session() as session:
            hook = session.query(Webhook).one()
            assert hook.user_id is None and hook.format == "slack"
        bad = client.post("/settings/webhooks", data={"csrf_token": csrf, "url": "ftp://example.org"})
        assert bad.status_code == 422
        tested = client.post(f"/settings/webhooks/{hook.id}/test", data={"csrf_token": csrf})
        assert "Test delivery failed" in tested.text and "failed_permanent" in tested.text  # history shows it
        assert client.post(f"/settings/webhooks/{hook.id}/delete", data={}).status_code == 403  # CSRF
        client.post(f"/settings/webhooks/{hook.id}/delete", data={"csrf_token": csrf})
        with db.session() as session:
            assert session.query(Webhook).count() == 0


def test_settings_forms_need_login(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url) as client:
        assert client.post("/settings/digest", data={}).status_code in (401, 403)
