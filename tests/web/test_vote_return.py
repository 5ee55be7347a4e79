"""Voting returns to the page the vote was cast on, query string included
(issue 14: voting on ``/?p=1`` landed on page 1), and the script posts to the
form's real address (an input named ``action`` shadows ``form.action``)."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import csrf_from, signup

APP_JS = Path(__file__).resolve().parents[2] / "src" / "paperwire" / "web" / "static" / "app.js"


def test_vote_form_remembers_the_query_string(client):
    signup(client, "pager")
    html = client.get("/?p=0").text
    assert 'name="next" value="/?p=0"' in html
    html = client.get("/hot?p=0").text
    assert 'name="next" value="/hot?p=0"' in html


def test_plain_vote_post_redirects_back_with_the_query(client):
    signup(client, "pager2")
    token = csrf_from(client.get("/").text)
    r = client.post("/papers/2403.00002/vote", data={"action": "up", "csrf_token": token, "next": "/?p=1"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/?p=1"


def test_script_does_not_read_the_shadowed_form_action():
    source = APP_JS.read_text()
    assert "fetch(form.action" not in source
    assert 'form.getAttribute("action")' in source
