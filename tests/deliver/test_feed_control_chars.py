"""Feeds never answer 500 for control characters (issue 12, finding 6): not in
the query (``/feeds/search.rss?q=%00``) and not in papers stored before
imports normalised their text (the XML writer cleans defensively)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from paperwire.store.models import Paper
from paperwire.web.app import create_app
from tests.web.conftest import seed

BAD = "Bad\x00 ti\x1btle\x0b with \ufffe controls\x7f"


@pytest.fixture
def client(db):
    seed(db)
    with db.session() as s:  # as an old importer stored it, bypassing normalisation
        s.execute(update(Paper).values(title=Paper.title + BAD.replace("\x00", ""), abstract=BAD.replace("\x00", ""),
                                       authors=["Nul\x1b[31m Author"]))
    with TestClient(create_app(db)) as c:
        yield c


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_trending_feed_with_control_characters(client, fmt):
    response = client.get(f"/feeds/trending.{fmt}")
    assert response.status_code == 200
    assert "\x1b" not in response.text and "\x0b" not in response.text


@pytest.mark.parametrize("q", ["%00", "sparse%00", "%1b%5b31m", "%ef%bf%be", "%0b"])
@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_search_feed_with_control_characters_in_the_query(client, q, fmt):
    response = client.get(f"/feeds/search.{fmt}?q={q}")
    assert response.status_code < 500
