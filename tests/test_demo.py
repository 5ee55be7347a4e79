"""``paperwire demo`` on real data: the bundled Hugging Face lists of 2025-11/12,
the five Daily-Papers pages and the Kaggle sample."""

from __future__ import annotations

import html
import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.demo import PAGES_SAVED_ON, demo_files, demo_folder, load_demo
from paperwire.ids import title_key
from paperwire.rank.trending import featured_days, trending
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import get_paper
from paperwire.web.app import create_app
from tests.conftest import SHARED_CORPUS

HF_DIR = demo_folder() / "hf-daily"
LAST_LIST = HF_DIR / "2025-12-31.json"


def test_bundled_lists_are_the_real_last_60_days_and_small():
    files = sorted(HF_DIR.glob("*.json"))
    assert files[0].name == "2025-11-03.json" and files[-1].name == "2025-12-31.json" and len(files) == 42
    assert sum(f.stat().st_size for f in files) < 5_000_000
    shared = SHARED_CORPUS / "hf-daily-papers"
    if shared.is_dir():  # byte for byte the shared copies
        assert all(f.read_bytes() == (shared / f.name).read_bytes() for f in files)
    assert set(files) <= set(demo_files()) and not set(files) & set(demo_files(real_days=False))


@pytest.fixture
def demo_site(db):
    """The loaded demo (one load per test: it embeds ~1,100 papers, so the checks share it)."""
    return db, load_demo(db, log=lambda *_: None), None


def test_demo_holds_real_data_shows_its_latest_day_and_reloads_idempotently(demo_site):
    db, summary, _ = demo_site
    assert "new papers" in summary
    entries = json.loads(LAST_LIST.read_text())
    with db.session() as s:
        days = featured_days(s)
        # the real lists make the days; the saved pages join the catalogue without a day of their own
        assert date(2025, 11, 3) in days and days[-1] == date(2025, 12, 31)
        first = entries[0]["paper"]
        paper = get_paper(s, first["id"])
        assert paper.title == " ".join(first["title"].split())
        assert paper.authors == [a["name"] for a in first["authors"]]
        assert paper.organization == {"name": first["organization"]["name"], "fullname": first["organization"]["fullname"]}
        # 543 of the 637 bundled entries carry Hugging Face's AI summary
        assert s.scalar(select(func.count()).select_from(Paper).where(Paper.ai_summary_source == "Hugging Face")) >= 500
        ranked = trending(s, period="day", day=date(2025, 12, 31), limit=200)
    by_uid = {e.paper.uid: e for e in ranked}
    assert len(ranked) == len(entries)
    for entry in entries:  # Hugging Face's own counts, demo votes kept apart
        shown = by_uid[entry["paper"]["id"]]
        assert shown.source_upvotes == entry["paper"]["upvotes"]
        assert shown.source_comments == entry["numComments"]
        assert shown.upvotes == shown.source_upvotes + shown.local_upvotes
    with db.session() as s:  # the demo accounts voted on the real days too, counted apart
        december = trending(s, period="month", day=date(2025, 12, 31), limit=500)
    assert any(e.local_upvotes for e in december)
    assert all(e.upvotes == e.source_upvotes + e.local_upvotes for e in december)
    assert [e.upvotes for e in ranked] == sorted((e.upvotes for e in ranked), reverse=True)
    _home_shows_the_latest_day_with_papers_not_an_empty_today(db)
    _loading_the_demo_again_adds_nothing(db)


def _home_shows_the_latest_day_with_papers_not_an_empty_today(db):
    with TestClient(create_app(db)) as client:
        home = client.get("/")
        assert home.status_code == 200
        entries = json.loads(LAST_LIST.read_text())
        assert "December 31, 2025" in home.text and f"{len(entries)} papers" in home.text
        assert "Nothing has been featured today yet; this is the latest day with papers." in home.text
        assert "Unknown authors" not in home.text  # a newcomer's first page shows real papers
        first = entries[0]["paper"]
        assert html.escape(first["authors"][0]["name"], quote=False) in home.text
        assert f'href="https://arxiv.org/abs/{first["id"]}"' in home.text
        day = client.get("/date/2025-12-31")
        top = json.loads(LAST_LIST.read_text())[0]["paper"]["title"]
        assert html.escape(" ".join(top.split()), quote=False) in day.text
        assert client.get("/date/2025-12-31").status_code == 200


def _loading_the_demo_again_adds_nothing(db):
    with db.session() as s:
        before = (s.scalar(select(func.count()).select_from(Paper)), s.scalar(select(func.count()).select_from(FeaturedPaper)))
    assert load_demo(db, log=lambda *_: None).startswith("0 new papers")
    with db.session() as s:
        assert (s.scalar(select(func.count()).select_from(Paper)), s.scalar(select(func.count()).select_from(FeaturedPaper))) == before


def test_pages_are_dated_from_their_content_not_the_checkout():
    days = {p.name[:3]: next(iter(read_path(p, saved_on=PAGES_SAVED_ON))).featured_on for p in sorted(demo_folder().glob("*.txt"))}
    assert days == {"000": date(2025, 8, 12), "001": date(2026, 1, 9), "002": date(2025, 4, 29),
                    "003": date(2025, 5, 9), "004": date(2026, 1, 9)}


def test_title_only_page_papers_merge_into_the_real_hugging_face_record(db):
    """Measured: no page paper of the demo is in the 60 bundled days or the Kaggle sample;
    page 001 shares three titles with older real lists, and those do merge."""
    shared = SHARED_CORPUS / "hf-daily-papers"
    if not shared.is_dir():
        pytest.skip("needs ../shared/corpus/hf-daily-papers")
    page = demo_folder() / "001_91b6e8fe1c331204.txt"
    lists = [shared / f"{d}.json" for d in ("2024-11-07", "2024-11-28", "2025-04-02")]
    page_keys = {title_key(r.title) for r in read_path(page, saved_on=PAGES_SAVED_ON)}
    import_items(db, read_path(page, saved_on=PAGES_SAVED_ON))
    for path in lists:
        import_items(db, read_path(path))
    with db.session() as s:
        merged = s.scalars(select(Paper).where(Paper.title_key.in_(page_keys), Paper.arxiv_id.is_not(None))).all()
        assert len(merged) == 3
        for paper in merged:  # one row, with the page's day and the list's day
            assert s.scalar(select(func.count()).select_from(Paper).where(Paper.title_key == paper.title_key)) == 1
            days = set(s.scalars(select(FeaturedPaper.day).where(FeaturedPaper.paper_id == paper.id)))
            assert PAGES_SAVED_ON in days and len(days) == 2
    kaggle = {title_key(r.title) for r in read_path(demo_folder() / "arxiv-metadata-sample.jsonl")}
    bundled = {title_key(r.title) for f in HF_DIR.glob("*.json") for r in read_path(f)}
    assert not page_keys & kaggle and not page_keys & bundled


def test_home_on_a_day_with_papers_today_has_no_note(db):
    from paperwire.records import PaperRecord
    from paperwire.store.papers import upsert_papers, utcnow

    with db.session() as s:
        upsert_papers(s, [PaperRecord(title="Featured today", featured_on=utcnow().date(), upvotes=1, source="test")])
    with TestClient(create_app(db)) as client:
        home = client.get("/").text
    assert "Featured today" in home and "Nothing has been featured today" not in home


def test_the_shipped_vectors_cover_every_demo_paper(demo_site):
    """``scripts/demo`` starts without embedding: every demo paper's vector ships in
    ``data/demo/vectors/`` (rebuild with ``bench/build_demo_vectors.py`` when this fails)."""
    import hashlib
    import sqlite3

    from paperwire.index.embeddings import CachingEmbedder, get_embedder, paper_text

    db, _, _ = demo_site
    embedder = get_embedder()
    inner = embedder.inner if isinstance(embedder, CachingEmbedder) else embedder
    shipped = demo_folder() / "vectors" / CachingEmbedder(inner, demo_folder() / "vectors").file.name
    assert shipped.is_file(), f"no shipped vectors for {inner.name}: run bench/build_demo_vectors.py"
    with db.session() as s:
        texts = [paper_text(title, abstract) for title, abstract in s.execute(select(Paper.title, Paper.abstract))]
    conn = sqlite3.connect(shipped)
    try:
        keys = {row[0] for row in conn.execute("SELECT key FROM vectors")}
    finally:
        conn.close()
    missing = [t[:60] for t in texts if hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest() not in keys]
    assert len(texts) > 1000 and not missing, missing[:5]
