"""/map and /api/map: the stored layout as compact JSON, the empty state, bad input is a 4xx."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.rank.map_publish import publish_map
from paperwire.store.community import get_user
from paperwire.store.embeddings import save_vectors
from paperwire.store.library import save_paper
from paperwire.store.models import Paper
from paperwire.web.app import create_app
from tests.web.conftest import XSS, login

MODEL = "test-map-model"


@pytest.fixture
def mapped(site_db):
    """The seeded site with vectors for its three papers and a published map."""
    with site_db.session() as session:
        papers = session.scalars(select(Paper).order_by(Paper.id)).all()
        rng = np.random.default_rng(1)
        X = rng.normal(size=(len(papers), 16)).astype(np.float32)
        save_vectors(session, MODEL, [(p.id, p.content_hash) for p in papers], X, datetime(2024, 3, 1))
    report = publish_map(site_db, model=MODEL)
    assert report.built
    return site_db


def test_empty_state_before_any_layout(client):
    r = client.get("/api/map")
    assert r.status_code == 200
    assert r.json()["generation"] is None and r.json()["ids"] == []
    page = client.get("/map")
    assert page.status_code == 200 and 'id="map-empty"' in page.text and "paper-map" not in page.text
    assert client.get("/api/map/clusters/0").status_code == 404


def test_points_clusters_and_hover_details(mapped):
    with TestClient(create_app(mapped)) as client:
        data = client.get("/api/map").json()
        assert data["total"] == data["count"] == 3
        assert len(data["ids"]) == len(data["x"]) == len(data["y"]) == len(data["cluster"]) == 3
        assert data["clusters"] and data["mine"] == [] and data["foryou"] == []
        x0, y0, x1, y1 = data["bounds"]
        assert x0 <= min(data["x"]) and max(data["x"]) <= x1
        # A box around one point returns just it; a sample of one is one point.
        i = 0
        box = f"{data['x'][i] - 0.001},{data['y'][i] - 0.001},{data['x'][i] + 0.001},{data['y'][i] + 0.001}"
        assert client.get("/api/map", params={"bbox": box}).json()["ids"] == [data["ids"][i]]
        assert client.get("/api/map", params={"sample": 1}).json()["count"] == 1
        # Hover: the title as data (the page sets it as text); a click redirects to the paper page.
        xss_id = next(pid for pid in data["ids"] if XSS in client.get(f"/api/map/points/{pid}").json()["title"])
        assert client.get(f"/api/map/points/{xss_id}").json()["url"] == "/papers/2403.00003"
        r = client.get(f"/map/paper/{xss_id}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/papers/2403.00003"
        cluster = client.get(f"/api/map/clusters/{data['clusters'][0]['id']}").json()
        assert cluster["papers"] and {"uid", "title", "url"} <= set(cluster["papers"][0])
        page = client.get("/map")
        assert "/static/vendor/deckgl/deck.gl.min.js" in page.text and 'data-mode="browse"' in page.text
        assert client.get("/static/vendor/deckgl/deck.gl.min.js").status_code == 200


def test_the_users_library_is_highlighted(mapped):
    with mapped.session() as session:
        admin = get_user(session, "admin")
        paper_id = session.scalar(select(Paper.id).where(Paper.arxiv_id == "2403.00002"))
        save_paper(session, admin.id, paper_id)
    with TestClient(create_app(mapped)) as client:
        login(client, "admin", "admin-password")
        assert client.get("/api/map").json()["mine"] == [paper_id]


@pytest.mark.parametrize("query", [
    "sample=0", "sample=100001", "sample=abc", "bbox=1,2,3", "bbox=a,b,c,d", "bbox=1,2,0,3", "bbox=nan,0,1,1",
    "bbox=inf,0,1,1", "bbox=" + "9" * 300,
])
def test_bad_parameters_are_4xx_with_a_reason(mapped, query):
    with TestClient(create_app(mapped)) as client:
        r = client.get("/api/map?" + query)
        assert 400 <= r.status_code < 500, (query, r.status_code)
        assert r.json()["error"]


@pytest.mark.parametrize("path", ["/api/map/points/0", "/api/map/points/99999999999999999999", "/api/map/points/x",
                                  "/api/map/points/999999", "/api/map/clusters/-1", "/api/map/clusters/9999",
                                  "/api/map/clusters/0?limit=0", "/map/paper/999999", "/map/paper/abc"])
def test_bad_ids_are_4xx(mapped, path):
    with TestClient(create_app(mapped)) as client:
        r = client.get(path, follow_redirects=False)
        assert 400 <= r.status_code < 500, (path, r.status_code)


def test_onboarding_offers_the_map_only_once_there_is_one(client):
    from tests.web.conftest import signup

    signup(client, "newcomer")
    assert 'id="pick-from-map"' not in client.get("/onboarding").text
    assert 'data-mode="pick"' not in client.get("/onboarding?from=map").text  # no map: the categories instead


def test_onboarding_from_the_map(mapped):
    from tests.web.conftest import signup

    with TestClient(create_app(mapped)) as client:
        signup(client, "newcomer")
        assert 'id="pick-from-map"' in client.get("/onboarding").text
        picking = client.get("/onboarding?from=map").text
        assert 'data-mode="pick"' in picking and 'id="pick-seeds"' in picking
