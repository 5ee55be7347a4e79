"""The reader for saved Hugging Face ``/api/daily_papers`` responses."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.formats import detect_format, read_path
from paperwire.sources.hf_daily import parse_timestamp, read_hf_daily
from paperwire.sources.importer import import_items
from paperwire.store.models import FeaturedPaper
from paperwire.store.papers import count_papers, get_paper


def hf_entry(arxiv_id: str, title: str, *, featured: str, upvotes: int, comments: int, **paper_extra) -> dict:
    """One entry in the shape the endpoint returns (fields we ignore included)."""
    paper = {
        "id": arxiv_id,
        "authors": [
            {"_id": "65a1", "name": "Jared  Kaplan", "hidden": False, "user": {"user": "jkaplan"}},
            {"_id": "65a2", "name": "Sam McCandlish", "hidden": False},
        ],
        "publishedAt": "2020-01-23T02:43:38.000Z",
        "submittedOnDailyAt": featured,
        "title": title,
        "summary": "We study empirical scaling laws\nfor language model performance.",
        "upvotes": upvotes,
        "discussionId": "65b0",
        "ai_summary": "Bigger is better.",
        "ai_keywords": ["scaling laws"],
        **paper_extra,
    }
    return {
        "paper": paper,
        "publishedAt": featured,
        "title": title,
        "summary": paper["summary"],
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": comments,
        "isAuthorParticipating": False,
    }


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def response(tmp_path) -> Path:
    old_style = hf_entry("2001.08361", "Scaling Laws for Neural Language Models",
                         featured="2024-03-05T01:02:03.000Z", upvotes=42, comments=3)
    old_style["submittedBy"] = {"_id": "60f1", "avatarUrl": "/a.png", "fullname": "AK", "name": "akhaliq",
                                "type": "user", "isPro": False}
    new_style = hf_entry("2509.04664v2", "Why Language Models Hallucinate",
                         featured="2025-09-08T02:44:20.973Z", upvotes=7, comments=0,
                         submittedOnDailyBy={"_id": "6039", "fullname": "taesiri", "user": "taesiri"})
    return write_json(tmp_path / "daily_papers.json", [old_style, new_style])


def test_reads_entries_with_all_community_fields(tmp_path):
    path = response(tmp_path)
    assert detect_format(path) == "hf-daily"
    first, second = read_path(path)
    assert isinstance(first, PaperRecord)
    assert first.arxiv_id == "2001.08361"
    assert first.title == "Scaling Laws for Neural Language Models"
    assert first.abstract == "We study empirical scaling laws for language model performance."
    assert first.authors == ["Jared Kaplan", "Sam McCandlish"]
    assert first.submitted == datetime(2020, 1, 23, 2, 43, 38)
    assert first.featured_on == date(2024, 3, 5)
    assert (first.upvotes, first.num_comments, first.submitted_by) == (42, 3, "AK")
    assert first.source == "hf-daily" and first.origin == f"{path}:entry 0"
    assert second.arxiv_id == "2509.04664"  # version suffix dropped
    assert second.submitted_by == "taesiri"
    assert (second.upvotes, second.num_comments, second.featured_on) == (7, 0, date(2025, 9, 8))


def test_timestamps_are_naive_utc():
    assert parse_timestamp("2025-09-08T02:44:20.973Z") == datetime(2025, 9, 8, 2, 44, 20, 973000)
    assert parse_timestamp("2025-09-08T02:44:20+02:00") == datetime(2025, 9, 8, 0, 44, 20)


def test_bad_entries_name_their_index_and_reading_goes_on(tmp_path):
    good = hf_entry("2001.08361", "Scaling Laws for Neural Language Models", featured="2024-03-05T00:00:00Z",
                    upvotes=1, comments=0)
    no_title = hf_entry("2001.00001", "", featured="2024-03-05T00:00:00Z", upvotes=1, comments=0)
    bad_votes = hf_entry("2001.00002", "Votes", featured="2024-03-05T00:00:00Z", upvotes="many", comments=0)
    bad_date = hf_entry("2001.00003", "Date", featured="last tuesday", upvotes=1, comments=0)
    path = write_json(tmp_path / "mixed.json", [good, "just a string", no_title, bad_votes, bad_date, good])
    items = list(read_hf_daily(path))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["PaperRecord"] + ["InvalidRecord"] * 4 + ["PaperRecord"]
    assert [i.origin for i in items[1:5]] == [f"{path}:entry {n}" for n in (1, 2, 3, 4)]
    assert "JSON object" in items[1].reason
    assert "title" in items[2].reason
    assert "many" in items[3].reason
    assert "last tuesday" in items[4].reason


def test_broken_json_and_wrong_shape(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"paper": {"id": "2001.08361",\n  oops\n]', encoding="utf-8")
    (item,) = read_hf_daily(broken)
    assert isinstance(item, InvalidRecord)
    assert item.origin == f"{broken}:3" and "not valid JSON" in item.reason
    number = write_json(tmp_path / "number.json", 42)
    (item,) = read_hf_daily(number)
    assert isinstance(item, InvalidRecord) and "JSON list" in item.reason


def test_json_lines_and_gzip(tmp_path):
    entries = [hf_entry(f"2401.0000{i}", f"Paper {i}", featured="2024-01-0%dT00:00:00Z" % (i + 1),
                        upvotes=i, comments=i) for i in range(3)]
    lines = tmp_path / "daily.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in entries) + "\n\n{broken\n", encoding="utf-8")
    assert detect_format(lines) == "hf-daily"
    items = list(read_path(lines))
    assert [getattr(i, "title", None) for i in items[:3]] == ["Paper 0", "Paper 1", "Paper 2"]
    assert items[2].origin == f"{lines}:3" and items[2].featured_on == date(2024, 1, 3)
    assert isinstance(items[3], InvalidRecord) and items[3].origin == f"{lines}:5"
    packed = tmp_path / "daily.json.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        json.dump(entries, handle)
    assert [r.arxiv_id for r in read_hf_daily(packed)] == ["2401.00000", "2401.00001", "2401.00002"]


def test_wrapper_object_and_single_paper(tmp_path):
    entry = hf_entry("2001.08361", "Scaling Laws", featured="2024-03-05T00:00:00Z", upvotes=1, comments=0)
    wrapped = write_json(tmp_path / "wrapped.json", {"dailyPapers": [entry, entry]})
    assert len(list(read_hf_daily(wrapped))) == 2
    bare = write_json(tmp_path / "bare.json", entry["paper"])  # /api/papers/ID shape
    (record,) = read_hf_daily(bare)
    assert record.arxiv_id == "2001.08361" and record.featured_on == date(2024, 3, 5)


def test_daily_papers_page_entry_merges_with_hf_record(db, pages_files, tmp_path):
    page = next(p for p in pages_files if p.name.startswith("001"))
    import_items(db, read_path(page))
    with db.session() as session:
        before = count_papers(session)
    report = import_items(db, read_path(response(tmp_path)))
    assert (report.result.inserted, report.result.updated) == (1, 1)  # 2509.04664 is new
    with db.session() as session:
        assert count_papers(session) == before + 1
        paper = get_paper(session, "2001.08361")
        assert paper.title == "Scaling Laws for Neural Language Models"
        assert paper.authors == ["Jared Kaplan", "Sam McCandlish"]
        days = {(f.day, f.source, f.imported_upvotes) for f in session.query(FeaturedPaper).filter_by(paper_id=paper.id)}
    assert (date(2024, 3, 5), "hf-daily", 42) in days
    assert len(days) == 2  # the page's day is kept too


# --- the real lists in ../shared/corpus/hf-daily-papers -------------------------------------------

import pytest  # noqa: E402

from tests.conftest import SHARED_CORPUS  # noqa: E402

REAL = SHARED_CORPUS / "hf-daily-papers"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/corpus/hf-daily-papers")


def _real_entries(day: str) -> list[dict]:
    return json.loads((REAL / f"{day}.json").read_text(encoding="utf-8"))


@needs_real
def test_real_2025_list_lands_on_its_own_day_with_every_field(db):
    """A 2025 list is featured on submittedOnDailyAt's day, not spread over arXiv announcement days."""
    report = import_items(db, read_hf_daily(REAL / "2025-11-03.json"))
    entries = _real_entries("2025-11-03")
    assert report.read == len(entries) and report.invalid == 0
    with db.session() as session:
        days = {row.day for row in session.query(FeaturedPaper)}
        assert days == {date(2025, 11, 3)}
        first = entries[0]["paper"]
        paper = get_paper(session, first["id"])
        assert paper.github_repo == first["githubRepo"] and paper.github_stars == first["githubStars"]
        assert paper.project_page == first["projectPage"]
        assert paper.discussion_id == first["discussionId"]
        assert [a["name"] for a in paper.author_names] == [a["name"] for a in first["authors"]]
        featured = session.query(FeaturedPaper).filter_by(paper_id=paper.id).one()
        assert featured.imported_upvotes == first["upvotes"]
        assert featured.imported_comments == entries[0]["numComments"]
        assert featured.submitter["user"] == first["submittedOnDailyBy"]["user"]
        assert featured.featured_at == parse_timestamp(first["submittedOnDailyAt"])


@needs_real
def test_real_ai_summary_keywords_and_organisation_are_kept(db):
    entries = _real_entries("2025-10-03")
    with_org = next(e for e in entries if e.get("organization"))
    with_ai = next(e for e in entries if e["paper"].get("ai_summary"))
    import_items(db, read_hf_daily(REAL / "2025-10-03.json"))
    with db.session() as session:
        org_paper = get_paper(session, with_org["paper"]["id"])
        assert org_paper.organization == {
            "name": with_org["organization"]["name"], "fullname": with_org["organization"]["fullname"]}
        ai_paper = get_paper(session, with_ai["paper"]["id"])
        assert ai_paper.ai_summary == " ".join(with_ai["paper"]["ai_summary"].split())
        assert ai_paper.ai_summary_source == "Hugging Face"
        assert ai_paper.ai_keywords == with_ai["paper"]["ai_keywords"]


@needs_real
def test_real_2024_list_uses_the_lists_date_for_late_evening_submissions(db):
    """2024 format: no submittedOnDailyAt; entries submitted at 23:xx UTC belong to the next day's list."""
    entries = _real_entries("2024-12-02")
    assert any(e["publishedAt"].startswith("2024-12-01") for e in entries)
    import_items(db, read_hf_daily(REAL / "2024-12-02.json"))
    with db.session() as session:
        assert {row.day for row in session.query(FeaturedPaper)} == {date(2024, 12, 2)}
        assert session.query(FeaturedPaper).count() == len(entries)


@needs_real
@pytest.mark.parametrize("day", ["2024-12-11", "2025-01-09", "2025-01-10"])
def test_real_damaged_lists_name_file_and_entry_and_write_nothing(db, day):
    from paperwire.sources.importer import ImportFailed

    path = REAL / f"{day}.json"
    items = list(read_hf_daily(path))
    assert items and all(isinstance(i, InvalidRecord) for i in items)
    assert f"{path}:entry 0" in str(items[0]) and "Python repr" in str(items[0])
    with pytest.raises(ImportFailed):
        import_items(db, read_hf_daily(path))
    with db.session() as session:
        assert count_papers(session) == 0
    report = import_items(db, read_hf_daily(path), skip_invalid=True)
    assert report.invalid == len(items) and report.read == 0


@needs_real
def test_wrapped_damaged_list_is_detected_as_hf_daily():
    assert detect_format(REAL / "2025-01-10.json") == "hf-daily"


@needs_real
def test_every_real_list_reads_without_an_exception():
    good = bad = 0
    for path in sorted(REAL.glob("*.json")):
        for item in read_hf_daily(path):
            if isinstance(item, InvalidRecord):
                bad += 1
            else:
                good += 1
                assert item.featured_on is not None and item.title
    assert good > 5000 and bad > 0
