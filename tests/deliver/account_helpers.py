"""Helpers for the account e-mail tests: sign up, verify and save settings over real HTTP."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERIFY_LINK = re.compile(r"http://paperwire\.test/account/verify/\S+")
CHANGE_LINK = re.compile(r"http://paperwire\.test/subscribe/change/\S+")


def csrf(client: httpx.Client, path: str = "/settings") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def local(url: str, live_site) -> str:
    return url.replace("http://paperwire.test", live_site.url)


def signup(client: httpx.Client, username: str, email: str = "", password: str = "correct-horse") -> httpx.Response:
    token = csrf(client, "/signup")
    return client.post("/signup", data={"username": username, "password": password, "email": email,
                                        "csrf_token": token})


def follow_link(client: httpx.Client, link: str, live_site) -> httpx.Response:
    """Open a mailed link (a page with one button) and press its button."""
    url = local(link, live_site)
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(url, data={"csrf_token": CSRF.search(page.text).group(1)})


def verify_latest(client: httpx.Client, smtp_server, address: str, live_site) -> httpx.Response:
    link = VERIFY_LINK.search(body(smtp_server.to(address)[-1])).group(0)
    return follow_link(client, link, live_site)


def verified_account(client: httpx.Client, smtp_server, live_site, username: str, address: str) -> None:
    response = signup(client, username, address)
    assert response.status_code == 200, response.text
    assert verify_latest(client, smtp_server, address, live_site).status_code == 200


def save_digest(client: httpx.Client, **fields) -> httpx.Response:
    data = {"csrf_token": csrf(client), "frequency": "daily", "trending": "1", **fields}
    return client.post("/settings/digest", data=data)
