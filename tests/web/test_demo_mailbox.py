"""The demo's offline mail loop: a real aiosmtpd catcher, the real mailer and
site, and /demo/mailbox showing what was caught — escaped, HTML sandboxed.

The end-to-end test drives a real Chromium: subscribe, open the mailbox,
click the confirmation link, send a digest, use its one-click unsubscribe.
"""

from __future__ import annotations

import os
import re
import smtplib
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from paperwire.deliver.mail_catcher import MailCatcher, read_mailbox
from paperwire.demo_mail import demo_mailbox
from paperwire.settings import get_settings
from paperwire.web.app import create_app
from tests.web.conftest import XSS, csrf_from

HOSTILE_HTML = (f'<html><head><script>window.__pwned=3</script></head><body><p>Hi {XSS}</p>'
                '<a href="http://127.0.0.1:9/subscribe/confirm/abc">Confirm</a>'
                '<form action="http://evil.test/"><input name=x></form></body></html>')


def _send(port: int, subject: str = "Subject " + XSS) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "paperwire <digest@paperwire.local>"
    message["To"] = "reader@example.org"
    message["Date"] = "Mon, 12 Aug 2024 09:30:00 +0000"
    message["List-Unsubscribe"] = "<http://127.0.0.1:9/unsubscribe/tok123>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(f"Text {XSS}\nConfirm: http://127.0.0.1:9/subscribe/confirm/abc.\n")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


@pytest.fixture
def caught(tmp_path, monkeypatch):
    folder = tmp_path / "mailbox"
    with MailCatcher(folder) as catcher:
        _send(catcher.port)
    monkeypatch.setenv("PAPERWIRE_DEMO_MAILBOX", str(folder))
    get_settings.cache_clear()
    return folder


def test_catcher_stores_real_smtp_mail(caught):
    [mail] = read_mailbox(caught)
    assert mail.subject == "Subject " + XSS and mail.to == "reader@example.org"
    assert mail.unsubscribe == ["http://127.0.0.1:9/unsubscribe/tok123"] and mail.one_click
    assert mail.links == ["http://127.0.0.1:9/subscribe/confirm/abc"]


def test_mailbox_pages_escape_and_sandbox(db, caught):
    with TestClient(create_app(db)) as client:
        listing = client.get("/demo/mailbox")
        assert listing.status_code == 200 and 'href="/demo/mailbox"' in listing.text  # header link while on
        assert "<script>window.__pwned" not in listing.text and "&lt;script&gt;" in listing.text
        key = re.search(r'href="/demo/mailbox/([^"]+)"', listing.text).group(1)
        page = client.get(f"/demo/mailbox/{key}")
        assert page.status_code == 200
        html = page.text
        assert "<script>window.__pwned" not in html and "<img src=x" not in html
        iframe = re.search(r"<iframe[^>]*>", html).group(0)
        assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in iframe
        srcdoc = re.search(r'srcdoc="([^"]*)"', iframe).group(1)
        assert "__pwned=3" not in srcdoc and "evil.test" not in srcdoc  # script and form dropped
        assert 'target="_blank"' in srcdoc.replace("&#34;", '"').replace("&quot;", '"')
        assert '<a href="http://127.0.0.1:9/subscribe/confirm/abc"' in html
        assert 'action="http://127.0.0.1:9/unsubscribe/tok123"' in html and 'value="One-Click"' in html
        assert client.get("/demo/mailbox/..%2f..%2fetc").status_code == 404
        assert client.get("/demo/mailbox/nope").status_code == 404


def test_mailbox_is_a_404_unless_the_demo_turns_it_on(db):
    assert get_settings().demo_mailbox is None
    with TestClient(create_app(db)) as client:
        assert client.get("/demo/mailbox").status_code == 404
        assert 'href="/demo/mailbox"' not in client.get("/").text
        token = csrf_from(client.get("/subscribe").text)
        assert client.post("/demo/mailbox/send-digest", data={"csrf_token": token}).status_code == 404


def test_demo_wiring_points_the_site_at_the_catcher_and_restores_settings(db):
    before = get_settings().smtp_port
    with demo_mailbox("127.0.0.1", 8123) as page:
        assert page == "http://127.0.0.1:8123/demo/mailbox"
        settings = get_settings()
        assert settings.base_url == "http://127.0.0.1:8123" and settings.demo_mailbox is not None
        from paperwire.deliver.mailer import send_message
        from paperwire.deliver.render import build_confirm_message

        send_message(build_confirm_message(1, "new@example.org"), retries=0)
        [mail] = read_mailbox(settings.demo_mailbox)
        assert mail.to == "new@example.org"
        assert any(link.startswith("http://127.0.0.1:8123/subscribe/confirm/") for link in mail.links)
    assert get_settings().smtp_port == before and get_settings().demo_mailbox is None
    assert "PAPERWIRE_DEMO_MAILBOX" not in os.environ


@pytest.mark.browser
def test_newcomer_subscribes_confirms_and_unsubscribes_in_chromium(db, tmp_path):
    """The whole loop a newcomer clicks through in the demo, offline."""
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import seed

    seed(db)
    port = _free_port()
    with demo_mailbox("127.0.0.1", port) as page_url, _serve(db, port) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/subscribe")
        page.fill("input[name=email]", "newcomer@example.org")
        page.click("form[action='/subscribe'] button[type=submit]")
        page.goto(page_url)
        page.click("text=Confirm your paperwire digest subscription")
        page.click("a[href*='/subscribe/confirm/']")
        assert "confirm" in page.url
        if page.locator("form[action*='/subscribe/confirm/'] button").count():  # a confirm-by-POST page
            page.locator("form[action*='/subscribe/confirm/'] button").first.click()
        page.goto(page_url)
        page.click("text=Send the newest day's digest now")
        assert "Digests sent: 1" in page.content()
        page.locator("table.mailbox a").first.click()  # newest first: the digest
        page.click("text=One-click unsubscribe")
        assert page.locator("body").inner_text().lower().count("unsubscribed") >= 1
        assert page.evaluate("window.__pwned") is None
        browser.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _serve:
    """The real app under uvicorn in a thread, on ``port``."""

    def __init__(self, db, port: int):
        import threading

        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> str:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_mails_of_one_second_keep_their_delivery_order():
    """The Date header has whole seconds; the Maildir key's microseconds (of varying
    length) order mails of the same second, compared as numbers, not text."""
    from paperwire.deliver.mail_catcher import _delivered_at

    earlier, later = "1796174472.M99999P1Q1.host", "1796174472.M123456P1Q2.host"
    assert _delivered_at(later) > _delivered_at(earlier)
    assert "1796174472.M99999P1Q1.host" > "1796174472.M123456P1Q2.host"  # why text order failed
