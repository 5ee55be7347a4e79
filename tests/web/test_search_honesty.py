"""The search page counts only papers with the words and labels the rest
"Related by meaning" (issue 14)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from paperwire.demo import load_demo
from paperwire.web.app import create_app


@pytest.fixture
def demo_client(db):
    load_demo(db, log=lambda *_: None)
    with TestClient(create_app(db)) as c:
        yield c


def test_rare_word_shows_only_its_matches(demo_client, db):
    from tests.index.test_related_results import papers_containing

    expected = papers_containing(db, "sinkhorn")
    html = demo_client.get("/search", params={"q": "sinkhorn"}).text
    assert f"{expected} paper{'s' if expected != 1 else ''} with your words" in html
    results = html.split('id="related"')[0]
    assert len(re.findall(r'<article class="card compact">', results)) == expected


def test_nonsense_query_is_an_honest_empty_page(demo_client):
    html = demo_client.get("/search", params={"q": "xqzvbn flurbl"}).text
    assert "No papers match" in html
    assert "with your words" not in html  # no count of padding
    assert 'id="related"' not in html


def test_related_block_is_labelled(demo_client):
    html = demo_client.get("/search", params={"q": "optimal transport"}).text
    assert re.search(r"\d+ papers? with your words", html)
    assert 'id="related"' in html and "Related by meaning" in html
    assert "do not contain your words" in html
