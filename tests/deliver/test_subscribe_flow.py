"""The whole mail path over real HTTP and SMTP: subscribe, confirm, receive,
one-click unsubscribe (RFC 8058), and no more mail afterwards."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from paperwire.deliver.send import send_digests
from tests.deliver.conftest import DAY, add_papers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return CSRF.search(page.text).group(1)


def _local(url: str, live_site) -> str:
    return url.replace("http://paperwire.test", live_site.url)


def test_subscribe_confirm_receive_unsubscribe(db, papers, smtp_server, live_site):
    add_papers(db, [{"title": "Next Day Paper", "upvotes": 3}], day=DAY + timedelta(days=1))
    with httpx.Client(base_url=live_site.url) as client:
        token = _csrf(client, "/subscribe")
        response = client.post("/subscribe", data={"email": "new.reader@example.org", "frequency": "daily",
                                                   "csrf_token": token})
        assert response.status_code == 200 and "Check your inbox" in response.text
        # Nothing is sent before confirmation.
        assert send_digests(db, day=DAY).due == 0
        [confirmation] = smtp_server.to("new.reader@example.org")
        assert confirmation["Subject"] == "Confirm your paperwire digest subscription"
        link = re.search(r"http://paperwire\.test/subscribe/confirm/\S+", confirmation.get_body(("plain",)).get_content()).group(0)
        confirmed = client.get(_local(link, live_site))
        assert confirmed.status_code == 200 and "subscribed" in confirmed.text

        report = send_digests(db, day=DAY)
        assert report.sent == 1
        digest = smtp_server.to("new.reader@example.org")[-1]
        assert digest.get_content_type() == "multipart/alternative"
        assert {p.get_content_type() for p in digest.iter_parts()} == {"text/plain", "text/html"}
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = re.fullmatch(r"<(\S+)>", digest["List-Unsubscribe"].strip()).group(1)

    # A mail provider's one-click POST: no cookies, no CSRF token, no login.
    with httpx.Client() as provider:
        page = provider.get(_local(unsubscribe, live_site))
        assert page.status_code == 200 and "Unsubscribe" in page.text  # GET changes nothing
        assert send_digests(db, day=DAY + timedelta(days=1)).sent == 1
        one_click = provider.post(_local(unsubscribe, live_site), data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
    before = len(smtp_server.messages)
    after = send_digests(db, day=DAY + timedelta(days=2))
    assert (after.due, after.sent) == (0, 0) and len(smtp_server.messages) == before


def test_subscribe_form_rejects_bad_input_and_forgery(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url) as client:
        token = _csrf(client, "/subscribe")
        bad = client.post("/subscribe", data={"email": "<script>alert(1)</script>", "csrf_token": token})
        assert bad.status_code == 422
        assert "valid email" in bad.text and "<script>alert(1)</script>" not in bad.text
        assert "&lt;script&gt;" in bad.text
        forged = client.post("/subscribe", data={"email": "victim@example.org"})
        assert forged.status_code == 403
    assert smtp_server.messages == []


def test_tampered_tokens_are_refused(db, smtp_server, live_site):
    with httpx.Client(base_url=live_site.url) as client:
        assert client.get("/subscribe/confirm/not-a-token").status_code == 400
        assert client.post("/unsubscribe/eyJzIjoxfQ.forged", data={"List-Unsubscribe": "One-Click"}).status_code == 400


def test_resubscribing_an_active_address_sends_nothing(db, smtp_server, live_site):
    from tests.deliver.conftest import add_subscription

    add_subscription(db, "known@example.org")
    with httpx.Client(base_url=live_site.url) as client:
        token = _csrf(client, "/subscribe")
        response = client.post("/subscribe", data={"email": "known@example.org", "csrf_token": token})
    assert response.status_code == 200 and "Check your inbox" in response.text  # no address probing
    assert smtp_server.messages == []
