"""Cards and paper pages of real imported Hugging Face days: authors,
organisation, code link with stars, labelled AI summary, keyword searches,
arXiv/PDF links, honest upvotes ("N on Hugging Face · M here"), citation;
every source field escaped and only http(s) links followed."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from paperwire.records import PaperRecord
from paperwire.sources.hf_daily import read_hf_daily
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, vote
from paperwire.store.papers import get_paper, upsert_papers
from paperwire.web.app import create_app
from tests.conftest import SHARED_CORPUS

LISTS = SHARED_CORPUS / "hf-daily-papers"
DAYS = ["2024-06-04", "2025-06-11", "2025-12-31"]
XSS = '<script>window.__pwned=1</script><img src=x onerror="alert(1)">'


def _entries(day: str) -> list[dict]:
    return json.loads((LISTS / f"{day}.json").read_text(encoding="utf-8"))


@pytest.fixture
def real_client(db):
    if not LISTS.is_dir():
        pytest.skip("shared corpus not available")
    for day in DAYS:
        import_items(db, read_hf_daily(LISTS / f"{day}.json"))
    with TestClient(create_app(db)) as client:
        yield client


def test_real_day_cards_show_authors_org_code_stars_summary_and_links(real_client):
    page = real_client.get("/date/2025-12-31").text
    assert "Unknown authors" not in page
    entries = _entries("2025-12-31")
    for entry in entries:
        paper = entry["paper"]
        assert html.escape(paper["authors"][0]["name"], quote=False) in page
        assert f'href="https://arxiv.org/abs/{paper["id"]}"' in page
        assert f'href="https://arxiv.org/pdf/{paper["id"]}"' in page
    assert ">ByteDance</span>" in page  # organisation
    assert 'href="https://github.com/test-time-training/e2e"' in page and "Code ★ 80" in page
    assert "5 on Hugging Face · 0 here" in page
    assert "submitted by binxia" in page and "2 comments" in page


def test_real_day_shows_the_labelled_ai_summary_keywords_and_project_page(real_client):
    page = real_client.get("/date/2025-06-11").text
    first = _entries("2025-06-11")[0]["paper"]
    assert "AI summary from Hugging Face" in page
    assert html.escape(" ".join(first["ai_summary"].split())[:60], quote=False) in page
    keyword = first["ai_keywords"][0]
    assert f'href="/search?q={keyword.replace(" ", "%20")}"' in page
    assert f'href="{first["projectPage"]}"' in page


def test_2024_day_has_authors_and_links_too(real_client):
    page = real_client.get("/date/2024-06-04").text
    assert "Unknown authors" not in page and "Yubo Wang" in page
    assert 'href="https://arxiv.org/pdf/2406.01574"' in page


def test_paper_page_shows_source_facts_votes_here_and_a_full_citation(real_client, db):
    entry = _entries("2025-12-31")[1]
    paper = entry["paper"]
    with db.session() as session:
        vote(session, create_user(session, "carol", "correct-horse"), get_paper(session, paper["id"]))
    page = real_client.get(f"/papers/{paper['id']}").text
    assert f"{paper['upvotes']} on Hugging Face · 1 here" in page
    assert "Code ★ 80" in page and 'href="https://arxiv.org/abs/2512.23675"' in page
    for author in paper["authors"]:
        assert html.escape(author["name"], quote=False) in page
    bib = real_client.get(f"/papers/{paper['id']}/cite.bib").text
    assert "eprint = {2512.23675}" in bib and "year = {2025}" in bib
    assert "url = {https://arxiv.org/abs/2512.23675}" in bib
    first_author = paper["authors"][0]["name"].split()  # BibTeX writes "Family, Given"
    assert f"{first_author[-1]}, {' '.join(first_author[:-1])}" in bib and " and " in bib
    first = _entries("2025-06-11")[0]["paper"]
    page = real_client.get(f"/papers/{first['id']}").text
    assert "AI summary from Hugging Face" in page
    assert all(f'href="/search?q={k.replace(" ", "%20")}"' in page for k in first["ai_keywords"][:3])


def test_source_fields_are_escaped_and_only_http_links_followed(client, site_db):
    with site_db.session() as session:
        upsert_papers(session, [PaperRecord(
            title="Evil paper", arxiv_id="2403.00009", authors=["Mallory"], source="hf-daily",
            featured_on=date(2024, 3, 13), upvotes=1, ai_summary="Summary " + XSS, ai_summary_source="Hugging Face",
            ai_keywords=["key " + XSS], organization={"name": "org", "fullname": "Org " + XSS},
            github_repo="javascript:alert(1)", project_page="https://ok.example/" + '"><script>x</script>',
            submitted_by="sub " + XSS,
        )])
    for url in ("/date/2024-03-13", "/papers/2403.00009"):
        page = client.get(url).text
        assert "<script>window.__pwned" not in page and 'onerror="alert(1)"' not in page
        assert "javascript:alert" not in page and "<script>x</script>" not in page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
