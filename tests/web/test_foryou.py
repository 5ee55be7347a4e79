"""For you, library, onboarding and exclusions over HTTP (in-process ASGI client)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from paperwire.index.vectors import embed_all
from paperwire.rank.recommend import clear_model_cache
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.library import pending_harvest
from paperwire.web.app import create_app
from tests.web.conftest import csrf_from, signup


@pytest.fixture
def rich_client(site_db, kaggle_sample):
    """The seeded site plus the 200 categorised Kaggle papers, all embedded."""
    import_items(site_db, read_path(kaggle_sample))
    embed_all(site_db)
    clear_model_cache()
    with TestClient(create_app(site_db)) as c:
        yield c


def _post(client, url, data=None, **kw):
    csrf = csrf_from(client.get("/library").text)
    return client.post(url, data={"csrf_token": csrf, **(data or {})}, follow_redirects=False, **kw)


def _uids(html: str) -> list[str]:
    return re.findall(r'<article class="card rec" data-uid="([^"]+)"', html)


def test_personal_pages_need_login(client):
    r = client.get("/for-you", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/for-you"
    r = client.get("/api/foryou")
    assert r.status_code == 401 and "Authentication required" in r.json()["error"]
    assert client.get("/api/foryou", headers={"Authorization": "Bearer pw_nope"}).status_code == 401


def test_cold_start_shows_popular_with_a_hint(client):
    signup(client, "fresh")
    html = client.get("/for-you").text
    assert 'id="cold-start"' in html and "Popular on paperwire" in html
    assert _uids(html)[:2] == ["2403.00002", "2403.00001"]
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned" in html


def test_onboarding_then_signals_change_for_you(rich_client):
    client = rich_client
    signup(client, "onboarder")
    step1 = client.get("/onboarding").text
    assert 'value="hep-th"' in step1 and 'value="math"' in step1
    step2 = client.get("/onboarding?cat=astro-ph&cat=not-a-thing").text
    seeds = re.findall(r'name="seed" value="([^"]+)"', step2)
    assert len(seeds) == 8 and 'name="cat" value="not-a-thing"' not in step2
    r = client.post("/onboarding", data={"csrf_token": csrf_from(step2), "cat": "astro-ph", "seed": seeds[:4]},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
    page = client.get("/for-you").text
    assert 'id="cold-start"' not in page
    first = _uids(page)
    assert len(first) == 20 and not set(first) & set(seeds[:4])
    assert "Similar to" in page and "You follow the category" in page

    api = client.get("/api/foryou?limit=5").json()
    assert [x["paper"]["id"] for x in api] == first[:5] and api[0]["source"] == "model"
    assert {r["kind"] for x in api for r in x["reasons"]} >= {"similar", "follow"}
    assert all(r["uid"] in seeds[:4] for x in api for r in x["reasons"] if r["kind"] == "similar")

    # Dismiss the top pick with the card button: it is gone and the list retrains.
    r = _post(client, f"/papers/{first[0]}/library", {"action": "dismiss", "next": "/for-you"})
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
    after = _uids(client.get("/for-you").text)
    assert first[0] not in after and after != first
    # Upvote through the API with the session + CSRF header: the paper leaves "for you" too.
    csrf = csrf_from(client.get("/").text)
    assert client.post(f"/api/papers/{after[0]}/upvote", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert after[0] not in _uids(client.get("/for-you").text)
    trending = client.get("/api/foryou/trending").json()
    assert trending and all(abs(t["score"] - (0.5 * t["trend"] + 0.5 * t["personal"])) < 1e-3 for t in trending)


def test_save_dismiss_api_and_csrf(client):
    signup(client, "saver")
    assert client.post("/api/papers/2403.00001/save").status_code == 403  # session without CSRF header
    assert client.post("/papers/2403.00001/library", data={"action": "save"}).status_code == 403
    csrf = {"X-CSRF-Token": csrf_from(client.get("/").text)}
    assert client.post("/api/papers/2403.00001/save", headers=csrf).json() == {"saved": True, "dismissed": False}
    assert client.post("/api/papers/2403.00001/dismiss", headers=csrf).json() == {"saved": True, "dismissed": True}
    assert client.post("/api/papers/2403.00001/save", headers=csrf).json() == {"saved": True, "dismissed": False}
    assert client.delete("/api/papers/2403.00001/save", headers=csrf).json() == {"saved": False, "dismissed": False}
    assert client.post("/api/papers/9999.99999/save", headers=csrf).status_code == 404
    r = client.post("/api/papers/2403.00001/save?collection=424242", headers=csrf)
    assert r.status_code == 404 and r.json()["error"] == "No such collection."
    assert _post(client, "/papers/2403.00001/library", {"action": "explode"}).status_code == 422
    # Dismissed papers disappear from the daily page for this user only.
    client.post("/api/papers/2403.00002/dismiss", headers=csrf)
    assert "Sparse transformers" not in client.get("/date/2024-03-13").text
    with TestClient(client.app) as anonymous:
        assert "Sparse transformers" in anonymous.get("/date/2024-03-13").text


def test_exclusions_apply_to_pages_search_and_for_you(client):
    signup(client, "excluder")
    assert _post(client, "/library/exclusions", {"kind": "category", "value": "cs.CR"}).status_code == 303
    assert _post(client, "/library/exclusions", {"kind": "word", "value": "sparse"}).status_code == 303
    r = _post(client, "/library/exclusions", {"kind": "category", "value": "<b>x</b>"})
    assert r.status_code == 422 and "not an arXiv category" in r.text and "<b>x</b>" not in r.text
    assert "Title &lt;script&gt;" not in client.get("/week/2024-W11").text
    assert "Sparse transformers" not in client.get("/").text and "Diffusion models" in client.get("/").text
    assert "Sparse transformers" not in client.get("/hot").text
    search = client.get("/search?q=sparse&mode=lexical").text
    assert 'id="excluded-note"' in search and "Sparse transformers" not in search
    assert "transformers at scale" in client.get("/search?q=sparse&mode=lexical&all=1").text
    uids = _uids(client.get("/for-you").text)
    assert "2403.00002" not in uids and "2403.00003" not in uids
    _post(client, "/library/exclusions", {"kind": "word", "value": "sparse", "remove": "true"})
    assert "Sparse transformers" in client.get("/").text


def test_library_collections_import_and_export(client):
    signup(client, "librarian")
    csrf = {"X-CSRF-Token": csrf_from(client.get("/").text)}
    client.post("/api/papers/2403.00003/save", headers=csrf)
    html = client.get("/library").text
    assert "Saved (1)" in html and "&lt;script&gt;window.__pwned" in html and "<script>window.__pwned" not in html
    r = _post(client, "/library/collections", {"name": "Reading <group>"})
    assert r.status_code == 303
    cid = int(re.search(r"c=(\d+)", r.headers["location"]).group(1))
    assert _post(client, "/library/collections", {"name": "reading <GROUP>"}).status_code == 422
    bib = b"@misc{a, title={Sparse transformers at scale}}\n@misc{b, eprint={2501.00042}, archivePrefix={arXiv}}"
    csrf_token = csrf_from(client.get(f"/library?c={cid}").text)
    r = client.post("/library/import", data={"csrf_token": csrf_token, "c": str(cid)},
                    files={"file": ("refs.bib", bib, "application/x-bibtex")})
    assert r.status_code == 200 and "1 saved" in r.text and "1 queued for harvest" in r.text
    with client.app.state.db.session() as session:
        assert pending_harvest(session) == ["2501.00042"]
    r = client.post("/library/import", data={"csrf_token": csrf_token},
                    files={"file": ("refs.json", b"[{broken", "application/json")})
    assert r.status_code == 422 and "not valid CSL-JSON" in r.text
    collections = client.get("/api/library").json()
    assert [(c["name"], c["papers"]) for c in collections] == [("Saved", 1), ("Reading <group>", 1)]

    r = client.get(f"/library/export?format=ris&c={cid}")
    assert r.status_code == 200 and 'filename="paperwire-reading--group.ris"' in r.headers["content-disposition"]
    assert "TI  - Sparse transformers at scale" in r.text and "Diffusion" not in r.text
    whole = client.get("/api/library/export?format=csljson").json()
    assert {item["id"] for item in whole} == {"2403.00002", "2403.00003"}
    bibtex = client.get("/library/export?format=bibtex").text
    assert bibtex.count("@misc{") == 2 and "eprint = {2403.00003}" in bibtex
    r = client.get("/api/library/export?format=docx")
    assert r.status_code == 422 and "Unknown format" in r.json()["error"]
    assert client.get("/api/library/export?collection=999999").status_code == 404


def test_openapi_lists_the_personal_endpoints(client):
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/api/foryou", "/api/foryou/trending", "/api/papers/{paper_id}/save", "/api/papers/{paper_id}/dismiss",
            "/api/library", "/api/library/export"} <= paths


# --- in a real browser ------------------------------------------------------

@pytest.fixture
def rich_site(site_db, kaggle_sample):
    import_items(site_db, read_path(kaggle_sample))
    embed_all(site_db)
    clear_model_cache()
    return site_db


@pytest.mark.browser
def test_browser_onboarding_feedback_and_export(rich_site, live_server, tmp_path):
    from pathlib import Path

    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS as ARGS
    from tests.web.test_browser import SHOTS

    sync_api = pytest.importorskip("playwright.sync_api")

    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        page.goto(live_server + "/signup")
        page.fill("input[name=username]", "browser_fy")
        page.fill("input[name=password]", "a-long-password")
        page.click("form.stack button[type=submit]")
        page.click("a:has-text('For you')")
        assert page.locator("#cold-start").count() == 1

        # Onboarding: a category, then three seed papers.
        page.goto(live_server + "/onboarding")
        page.check("input[name=cat][value='astro-ph']")
        page.click("#pick-categories button[type=submit]")
        seeds = page.locator("#pick-seeds input[name=seed]")
        chosen = [seeds.nth(i).get_attribute("value") for i in range(3)]
        for i in range(3):
            seeds.nth(i).check()
        page.click("#pick-seeds button[type=submit]")
        page.wait_for_url("**/for-you")
        assert page.locator("#cold-start").count() == 0
        cards = page.locator("article.card.rec")
        first = [cards.nth(i).get_attribute("data-uid") for i in range(5)]
        assert not set(first) & set(chosen)
        assert page.locator("ul.why li.reason.similar").count() >= 1
        page.screenshot(path=str(SHOTS / "foryou.png"), full_page=True)

        # Not interested: the card goes away and the list is recomputed.
        cards.first.locator("button.dismiss").click()
        page.wait_for_url("**/for-you")
        after = [cards.nth(i).get_attribute("data-uid") for i in range(5)]
        assert first[0] not in after

        # Upvote, then reload: an upvoted paper is not recommended any more.
        target = after[0]
        vote = page.locator(f"article[data-uid='{target}'] form.vote")
        with page.expect_response(lambda r: r.url.endswith(f"/papers/{target}/vote")) as response:
            vote.locator("button").click()
        assert response.value.status in (200, 303)  # JS fetch, or the plain form post it falls back to
        page.goto(live_server + "/for-you")
        assert page.locator(f"article[data-uid='{target}']").count() == 0

        # Export the library as CSL-JSON.
        page.click("a:has-text('Library')")
        with page.expect_download() as info:
            page.click("a.export:has-text('CSL-JSON')")
        path = tmp_path / "library.json"
        info.value.save_as(str(path))
        exported = {item["id"] for item in json.loads(path.read_text())}
        assert exported == set(chosen)
        assert page.evaluate("window.__pwned === undefined")
        browser.close()
