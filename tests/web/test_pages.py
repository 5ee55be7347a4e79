"""HTML pages over HTTP: daily navigation, paper page, escaping, errors."""

from __future__ import annotations

from tests.web.conftest import XSS, csrf_from, signup


def test_home_shows_latest_day_ranked_by_upvotes(client):
    html = client.get("/").text
    assert "Wednesday, March 13, 2024" in html
    assert html.index("Sparse transformers at scale") < html.index("Diffusion models")
    assert "submitted by ada" in html
    assert 'href="/date/2024-03-11"' in html  # previous day with papers
    assert "csrf_token" not in html  # anonymous pages carry no token (cacheable)


def test_week_and_month_views_and_navigation(client):
    week = client.get("/week/2024-W11").text
    assert "Sparse transformers" in week and "Title &lt;script&gt;" in week
    # Only week with papers: no links to the empty W10 or the future W12 (see test_period_nav.py).
    assert 'href="/week/2024-W10"' not in week and 'href="/week/2024-W12"' not in week
    month = client.get("/month/2024-03").text
    assert "3 papers" in month
    assert "No papers were featured" in client.get("/month/2023-01").text


def test_bad_period_values_are_clear_errors(client):
    response = client.get("/date/2024-13-45")
    assert response.status_code == 422 and "expected YYYY-MM-DD" in response.text
    assert client.get("/week/2024-W99").status_code == 422
    assert client.get("/month/march").status_code == 422


def test_imported_xss_is_escaped_everywhere(client):
    api = client.get("/api/papers/2403.00003")  # JSON is data: raw text, never sniffed as HTML
    assert api.headers["content-type"] == "application/json" and api.headers["x-content-type-options"] == "nosniff"
    for url in ("/date/2024-03-11", "/papers/2403.00003", "/users/admin"):
        body = client.get(url).text
        assert "<script>window.__pwned" not in body, url
        assert 'onerror="window' not in body, url
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in client.get("/papers/2403.00003").text


def test_paper_page_metadata_links_and_bibtex(client):
    html = client.get("/papers/2403.00001").text
    assert "https://arxiv.org/abs/2403.00001" in html and "https://arxiv.org/pdf/2403.00001" in html
    assert "Ada Lovelace" in html and "cs.CV" in html
    assert "$x^2 + y^2 = 1$" in html  # raw LaTeX kept for KaTeX to typeset
    bib = client.get("/papers/2403.00001/cite.bib")
    assert bib.status_code == 200 and bib.text.startswith("@misc{lovelace2024diffusion,")
    assert "eprint = {2403.00001}" in bib.text and "author = {Lovelace, Ada and Turing, Alan}" in bib.text
    assert client.get("/papers/9999.99999").status_code == 404


def test_security_headers_and_vendored_assets(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert client.get("/static/vendor/katex/katex.min.js").status_code == 200
    assert client.get("/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2").status_code == 200
    assert "http://" not in response.text.replace("http://testserver", "") and "https://cdn" not in response.text


def test_comment_thread_and_xss_in_comment(client):
    signup(client, "carol")
    page = client.get("/papers/2403.00002").text
    token = csrf_from(page)
    r = client.post("/papers/2403.00002/comments", data={"body": XSS, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    parent_id = int(r.headers["location"].split("#c")[1])
    client.post("/papers/2403.00002/comments", data={"body": "a reply", "parent_id": parent_id, "csrf_token": token})
    html = client.get("/papers/2403.00002").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html and "<script>window.__pwned" not in html
    assert html.index(f'id="c{parent_id}"') < html.index("a reply")
    assert "2 comments" in html
    empty = client.post("/papers/2403.00002/comments", data={"body": "  ", "csrf_token": token})
    assert empty.status_code == 422 and "cannot be empty" in empty.text


def test_vote_form_and_json_enhancement(client):
    signup(client, "dave")
    token = csrf_from(client.get("/").text)
    r = client.post("/papers/2403.00001/vote", data={"action": "up", "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = client.post("/papers/2403.00001/vote", data={"action": "up", "csrf_token": token},
                    headers={"accept": "application/json"})
    assert r.json() == {"upvotes": 13, "voted": True}  # idempotent: 12 imported + 1
    r = client.post("/papers/2403.00001/vote", data={"action": "down", "csrf_token": token},
                    headers={"accept": "application/json"})
    assert r.json() == {"upvotes": 12, "voted": False}
    r = client.post("/papers/2403.00001/vote", data={"action": "up", "csrf_token": token, "next": "//evil.example"},
                    follow_redirects=False)
    assert r.headers["location"] == "/papers/2403.00001"  # no open redirect
    assert "/users/dave" in client.get("/").text
    assert "2403.00001" in client.get("/users/dave?tab=upvoted").text


def test_anonymous_vote_goes_to_login(client):
    client.get("/")
    r = client.get("/")
    assert 'href="/login?next=' in r.text


def test_demo_community_is_idempotent(site_db):
    from paperwire.web.demo_users import load_demo_community

    assert "demo accounts already present" == load_demo_community(site_db)  # seed already made "admin"


def test_demo_community_creates_accounts(db):
    from datetime import date

    from paperwire.records import PaperRecord
    from paperwire.store.community import authenticate
    from paperwire.store.papers import upsert_papers
    from paperwire.web.demo_users import load_demo_community

    with db.session() as s:
        upsert_papers(s, [PaperRecord(title=f"Paper {i}", featured_on=date(2024, 1, 1), source="t") for i in range(40)])
    assert "5 users" in load_demo_community(db)
    with db.session() as s:
        assert authenticate(s, "admin", "paperwire-demo").is_admin
    assert load_demo_community(db) == "demo accounts already present"


def _cards(html: str) -> list[str]:
    import re

    return re.findall(r'<article class="card">.*?<a href="/papers/([^"]+)" class="math">', html, re.S)


def test_exclusions_and_dismissals_filter_before_paging(site_db, client):
    """A logged-in user's daily page and hot list are full pages of what they may see, with totals to match."""
    from fastapi.testclient import TestClient

    from paperwire.records import PaperRecord
    from paperwire.store.papers import upsert_papers
    from tests.web.conftest import DAY2

    filler = [PaperRecord(title=f"Filler paper {i}", arxiv_id=f"2403.{1000 + i}", abstract="Plain.",
                          authors=["Ann Lee"], categories=["cs.LG"], featured_on=DAY2, upvotes=100 + i, source="test")
              for i in range(60)]
    odd = [PaperRecord(title=f"An odd result {i}", arxiv_id=f"2403.{2000 + i}", abstract="Plain.", authors=["Bo Li"],
                       categories=["cs.LG"], featured_on=DAY2, upvotes=500 + i, source="test") for i in range(6)]
    godd = PaperRecord(title="Godd oddly named", arxiv_id="2403.03000", abstract="Plain.", authors=["Cy Wu"],
                       categories=["cs.LG"], featured_on=DAY2, upvotes=50, source="test")
    with site_db.session() as s:
        upsert_papers(s, filler + odd + [godd])
    with TestClient(client.app) as anonymous:
        page = anonymous.get("/date/2024-03-13").text
        assert "69 papers" in page and "Page 1 of 2" in page and len(_cards(page)) == 50
        assert len(_cards(anonymous.get("/hot?p=1").text)) == 20  # 70 featured papers in all

    signup(client, "picky")
    token = csrf_from(client.get("/library").text)
    r = client.post("/library/exclusions", data={"kind": "word", "value": "odd", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    for uid in ("2403.1059", "2403.1058", "2403.1057"):  # the three best filler papers
        assert client.post(f"/api/papers/{uid}/dismiss", headers={"X-CSRF-Token": token}).status_code == 200
    hidden = {"2403.1059", "2403.1058", "2403.1057"} | {f"2403.{2000 + i}" for i in range(6)}

    # daily: 69 - 6 excluded - 3 dismissed = 60 papers, 50 + 10
    first = client.get("/date/2024-03-13").text
    assert "60 papers" in first and "Page 1 of 2" in first and 'href="?p=1"' in first
    assert _cards(first) == [f"2403.{1000 + i}" for i in range(56, -1, -1)][:50]
    second = client.get("/date/2024-03-13?p=1").text
    assert "Page 2 of 2" in second and 'href="?p=2"' not in second
    assert len(_cards(second)) == 10 and '<div class="rank">51</div>' in second
    shown = _cards(first) + _cards(second)
    assert len(set(shown)) == 60 and not hidden & set(shown) and "2403.03000" in shown  # "Godd oddly" stays
    week = client.get("/week/2024-W11").text
    assert "61 papers" in week and len(_cards(week)) == 50  # + the paper of March 11

    # hot: 70 featured - 9 = 61, 50 + 11
    hot_first = client.get("/hot").text
    assert len(_cards(hot_first)) == 50 and 'href="?p=1"' in hot_first and not hidden & set(_cards(hot_first))
    hot_second = client.get("/hot?p=1").text
    assert len(_cards(hot_second)) == 11 and 'href="?p=2"' not in hot_second

    # exactly one page left: no link to an empty next page
    for i in range(11):
        client.post(f"/api/papers/2403.{1000 + i}/dismiss", headers={"X-CSRF-Token": token})
    hot_only = client.get("/hot").text
    assert len(_cards(hot_only)) == 50 and 'href="?p=1"' not in hot_only
    day_only = client.get("/date/2024-03-13").text
    assert "49 papers" in day_only and len(_cards(day_only)) == 49 and "Page 1 of" not in day_only

    with TestClient(client.app) as anonymous:  # others still see everything
        assert "69 papers" in anonymous.get("/date/2024-03-13").text
