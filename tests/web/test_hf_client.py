"""Contract test: the official ``huggingface_hub`` client reads paperwire's API.

Real Hugging Face lists (2024 and 2025 format) are imported, the app runs
under uvicorn on a local port, and ``HfApi(endpoint=...)`` — unchanged — lists
days, reads papers and searches. Each day must come back with exactly the
papers, order and upvotes of the saved file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, constants  # noqa: E402
from huggingface_hub.utils import parse_datetime  # noqa: E402

from paperwire.sources.hf_daily import read_hf_daily  # noqa: E402
from paperwire.sources.importer import import_items  # noqa: E402
from paperwire.store.community import create_user, vote  # noqa: E402
from paperwire.store.papers import get_paper  # noqa: E402
from tests.conftest import SHARED_CORPUS  # noqa: E402

LISTS = SHARED_CORPUS / "hf-daily-papers"
#: Two 2024-format days and three 2025-format days, all with upvote ties.
DAYS = ["2024-05-28", "2024-06-04", "2025-06-09", "2025-06-11", "2025-12-31"]


def _entries(day: str) -> list[dict]:
    return json.loads((LISTS / f"{day}.json").read_text(encoding="utf-8"))


@pytest.fixture
def site_db(db):
    """The real lists, no demo seed (the web conftest's ``live_server`` uses this)."""
    if not LISTS.is_dir():
        pytest.skip("shared corpus not available")
    for day in DAYS:
        report = import_items(db, read_hf_daily(LISTS / f"{day}.json"))
        assert report.result.inserted + report.result.updated + report.result.unchanged > 0
    return db


@pytest.fixture
def api(live_server, monkeypatch):
    """The real client pointed at the local server (offline mode would refuse even localhost)."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return HfApi(endpoint=live_server, token=False)


@pytest.mark.parametrize("day", DAYS)
def test_each_day_has_the_files_papers_order_and_upvotes(api, day):
    got = list(api.list_daily_papers(date=day))
    want = _entries(day)
    assert [(p.id, p.upvotes) for p in got] == [(e["paper"]["id"], e["paper"]["upvotes"]) for e in want]
    for paper, entry in zip(got, want):
        assert paper.title == " ".join(entry["paper"]["title"].split())  # the store keeps one title
        assert paper.comments == entry["numComments"]
        assert [a.name for a in paper.authors] == [a["name"] for a in entry["paper"]["authors"]]
        assert paper.published_at == parse_datetime(entry["paper"]["publishedAt"])
        featured = entry["paper"].get("submittedOnDailyAt") or entry["publishedAt"]  # 2024 lists: top level
        assert paper.submitted_at == parse_datetime(featured)
        if entry.get("submittedBy"):
            assert paper.submitted_by.name == entry["submittedBy"]["name"]
            assert paper.submitted_by.fullname == entry["submittedBy"]["fullname"]
        else:  # the 2024 lists name no submitter
            assert paper.submitted_by is None
        if entry.get("organization"):
            assert paper.organization.name == entry["organization"]["name"]


def test_paper_info_fields_equal_the_file(api):
    entry = next(e for e in _entries("2025-06-11") if e["paper"].get("githubRepo") and e["paper"].get("ai_summary"))
    source = entry["paper"]
    info = api.paper_info(source["id"])
    assert info.id == source["id"] and info.title == " ".join(source["title"].split())
    assert info.summary == " ".join(source["summary"].split())
    assert [a.name for a in info.authors] == [a["name"] for a in source["authors"]]
    claimed = [(a.name, a.user.username) for a in info.authors if a.user]
    assert claimed == [(a["name"], a["user"]["user"]) for a in source["authors"] if a.get("user")]
    assert info.upvotes == source["upvotes"] and info.comments == entry["numComments"]
    assert info.ai_summary == " ".join(source["ai_summary"].split())
    assert info.ai_keywords == source["ai_keywords"]
    assert info.github_repo == source["githubRepo"] and info.github_stars == source.get("githubStars")
    assert info.project_page == source.get("projectPage")
    assert info.discussion_id == source["discussionId"]
    assert info.published_at == parse_datetime(source["publishedAt"])
    assert info.submitted_at == parse_datetime(source["submittedOnDailyAt"])  # submitted_on_daily_at
    assert info.submitted_by.username == source["submittedOnDailyBy"]["user"]


def test_local_votes_are_added_to_the_source_upvotes(api, site_db):
    first = _entries("2025-06-09")[0]["paper"]
    with site_db.session() as session:
        paper = get_paper(session, first["id"])
        for name in ("ann", "bob"):
            vote(session, create_user(session, name, "correct-horse"), paper)
    assert api.paper_info(first["id"]).upvotes == first["upvotes"] + 2
    assert next(iter(api.list_daily_papers(date="2025-06-09"))).upvotes == first["upvotes"] + 2


def test_list_papers_search_and_no_query(api):
    entry = _entries("2025-06-09")[0]
    found = list(api.list_papers(query=entry["title"], limit=5))
    assert entry["paper"]["id"] in [p.id for p in found]
    everything = list(api.list_papers(limit=10))  # no query: was a 422
    assert len(everything) == 10 and all(p.title and p.upvotes is not None for p in everything)


def test_read_paper_is_markdown_with_title_and_abstract(api):
    entry = _entries("2025-12-31")[0]
    text = api.read_paper(entry["paper"]["id"])
    assert text.startswith(f"# {entry['title']}")
    assert "## Abstract" in text and " ".join(entry["paper"]["summary"].split())[:200] in " ".join(text.split())
    assert f"https://arxiv.org/pdf/{entry['paper']['id']}" in text


def test_sort_trending_week_month_paging_and_submitter(api):
    listed = [p.id for p in api.list_daily_papers(date="2025-06-11")]
    trending = [p.id for p in api.list_daily_papers(date="2025-06-11", sort="trending")]
    assert sorted(trending) == sorted(listed)
    assert [p.id for p in api.list_daily_papers(date="2025-06-11", sort="publishedAt")] == listed
    page = [p.id for p in api.list_daily_papers(date="2025-06-11", limit=5, p=1)]
    assert page == listed[5:10]
    week = list(api.list_daily_papers(week="2025-W24"))  # June 9-15, 2025
    assert {p.id for p in week} == {e["paper"]["id"] for d in ("2025-06-09", "2025-06-11") for e in _entries(d)}
    assert len(list(api.list_daily_papers(month="2024-06"))) == len(_entries("2024-06-04"))

    entries = _entries("2025-06-11")
    name = entries[0]["submittedBy"]["name"]
    mine = {e["paper"]["id"] for d in DAYS for e in _entries(d) if (e.get("submittedBy") or {}).get("name") == name}
    assert {p.id for p in api.list_daily_papers(submitter=name)} == mine
    assert {p.id for p in api.list_daily_papers(date="2025-06-11", submitter=name)} == {
        e["paper"]["id"] for e in entries if e["submittedBy"]["name"] == name}
    assert list(api.list_daily_papers(submitter="nobody-at-all")) == []


def test_unknown_paper_is_a_404_the_client_raises(api):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as info:
        api.paper_info("2501.99999")
    assert info.value.response.status_code == 404
    assert info.value.response.json()["error"].startswith("No paper with id")


def test_timestamps_are_the_hubs_millisecond_form(live_server):
    import httpx

    rows = httpx.get(f"{live_server}/api/daily_papers", params={"date": "2024-05-28"}).json()
    stamp = rows[0]["publishedAt"]
    assert len(stamp) == 24 and stamp.endswith("Z") and stamp[19] == "."
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == parse_datetime(stamp)
