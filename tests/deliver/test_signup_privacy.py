"""No e-mail enumeration at sign-up: the same answer whether or not the address
is registered; the address's owner gets a notice instead (issue 12, item 9)."""

from __future__ import annotations

import re

import httpx

from paperwire.store.community import User, create_user
from tests.deliver.account_helpers import body, csrf


def _attempt(live_site, username: str, address: str) -> tuple:
    with httpx.Client(base_url=live_site.url) as client:
        token = csrf(client, "/signup")
        response = client.post("/signup", data={"username": username, "password": "correct-horse", "email": address,
                                                "csrf_token": token})
        landing = client.get(response.headers.get("location", "/"))
        settings = client.get("/settings").text
    flash = re.search(r'class="flash[^"]*"[^>]*>(.*?)</p>', landing.text, re.S)
    email_section = re.search(r'<div id="email">(.*?)</div>', settings, re.S).group(1)
    email_section = re.sub(r'value="[^"]*"', "", email_section.replace(address, "ADDRESS"))
    return response.status_code, response.headers.get("location"), flash and flash.group(1), email_section


def test_signup_answers_the_same_for_a_registered_address(db, smtp_server, live_site):
    with db.session() as session:
        create_user(session, "owner", "owner-password", email="taken@example.org", email_verified=True)
    taken = _attempt(live_site, "newcomer1", "taken@example.org")
    fresh = _attempt(live_site, "newcomer2", "fresh@example.org")
    assert taken == fresh
    assert taken[0] == 303 and "check your inbox" in taken[2].lower()
    [notice] = smtp_server.to("taken@example.org")
    assert "/account/verify/" not in body(notice) and "owner" in body(notice)
    [link] = smtp_server.to("fresh@example.org")
    assert "/account/verify/" in body(link)
    with db.session() as session:
        owner = session.query(User).filter_by(username="owner").one()
        newcomer = session.query(User).filter_by(username="newcomer1").one()
    assert owner.email == "taken@example.org" and newcomer.email is None


def test_same_answer_when_the_case_of_a_registered_address_differs(db, smtp_server, live_site):
    with db.session() as session:
        create_user(session, "owner", "owner-password", email="taken@example.org", email_verified=True)
    taken = _attempt(live_site, "newcomer1", "TAKEN@example.org")
    fresh = _attempt(live_site, "newcomer2", "FRESH@example.org")
    assert taken == fresh
