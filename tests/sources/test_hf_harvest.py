"""Live Hugging Face harvest against a local server replaying the REAL daily lists."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.sources.harvest_state import load_state
from paperwire.sources.hf_harvest import harvest_hf, state_key
from paperwire.sources.http import HarvestError, PoliteClient
from paperwire.store.locks import job_lock
from paperwire.store.models import FeaturedPaper, Paper
from tests.conftest import SHARED_CORPUS
from tests.sources.upstream_server import UpstreamServer

LISTS = SHARED_CORPUS / "hf-daily-papers"
runner = CliRunner()
QUIET = lambda message: None  # noqa: E731

pytestmark = pytest.mark.skipif(not LISTS.is_dir(), reason="needs ../shared/corpus/hf-daily-papers")


@pytest.fixture
def server():
    with UpstreamServer(hf_daily_dir=LISTS) as running:
        yield running


def _days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _ids_in_file(day: str) -> list[str]:
    path = LISTS / f"{day}.json"
    return [entry["paper"]["id"] for entry in json.loads(path.read_text())] if path.exists() else []


def _featured_by_day(db) -> dict[str, set[str]]:
    with db.session() as s:
        rows = s.execute(select(FeaturedPaper.day, Paper.uid).join(Paper, Paper.id == FeaturedPaper.paper_id)).all()
    found: dict[str, set[str]] = {}
    for day, uid in rows:
        found.setdefault(day.isoformat(), set()).add(uid)
    return found


def _harvest(db, server, **options):
    options.setdefault("client", PoliteClient(delay=0, retries=1, backoff=0, sleep=lambda s: None))
    return harvest_hf(db, base_url=server.base_url, log=QUIET, today=date(2026, 1, 15), **options)


def test_cli_harvests_one_request_per_day_and_papers_land_on_their_files_day(server, db):
    result = runner.invoke(app, [
        "harvest", "hf", "--base-url", server.base_url, "--from", "2025-12-01", "--to", "2025-12-07",
        "--delay", "0", "--json",
    ])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    days = _days(date(2025, 12, 1), date(2025, 12, 7))
    assert server.hf_days_requested() == days  # weekends too: they answer []
    expected = {day: set(_ids_in_file(day)) for day in days if _ids_in_file(day)}
    assert (report["days"], report["empty_days"]) == (7, 2)
    assert report["records"] == report["inserted"] == sum(len(ids) for ids in expected.values())
    assert _featured_by_day(db) == expected  # every paper on the day of the file it came from
    with db.session() as s:
        first = _ids_in_file("2025-12-01")[0]
        paper = s.scalar(select(Paper).where(Paper.uid == first))
        entry = json.loads((LISTS / "2025-12-01.json").read_text())[0]
        assert paper.title == " ".join(entry["paper"]["title"].split())
        assert paper.authors[0] == entry["paper"]["authors"][0]["name"]
        row = s.scalar(select(FeaturedPaper).where(FeaturedPaper.paper_id == paper.id))
        assert (row.imported_upvotes, row.imported_comments) == (entry["paper"]["upvotes"], entry["numComments"])


def test_503_with_retry_after_is_waited_out(server, db):
    server.add_fault("503", when=lambda r: r.params.get("date") == "2025-12-02", retry_after="7")
    waits: list[float] = []
    client = PoliteClient(delay=0, retries=2, sleep=waits.append)
    report = _harvest(db, server, from_date=date(2025, 12, 1), to_date=date(2025, 12, 2), client=client)
    assert server.hf_days_requested() == ["2025-12-01", "2025-12-02", "2025-12-02"]
    assert waits == [7.0]
    assert report.records == len(_ids_in_file("2025-12-01")) + len(_ids_in_file("2025-12-02"))


def test_damaged_day_stops_with_url_and_entry_then_skip_invalid_resumes_there(server, db):
    with pytest.raises(HarvestError) as failed:
        _harvest(db, server, from_date=date(2024, 12, 10), to_date=date(2024, 12, 12))
    message = str(failed.value)
    assert "/api/daily_papers?date=2024-12-11:entry 0" in message and "Python repr" in message
    assert "Stopped at 2024-12-11" in message
    assert set(_featured_by_day(db)) == {"2024-12-10"}  # the day before is kept, nothing of the damaged day
    server.requests.clear()
    report = _harvest(db, server, from_date=date(2024, 12, 10), to_date=date(2024, 12, 12), skip_invalid=True)
    assert server.hf_days_requested() == ["2024-12-11", "2024-12-12"]  # resumed at the first day not committed
    assert report.resumed and report.records == 0 and report.empty_days == 0  # damaged, not empty
    assert report.invalid == len(json.loads((LISTS / "2024-12-11.json").read_text())) + len(
        json.loads((LISTS / "2024-12-12.json").read_text()))
    assert load_state(db, state_key(server.base_url)).token is None


def test_cli_damaged_day_exits_non_zero_naming_the_day(server, db):
    result = runner.invoke(app, [
        "harvest", "hf", "--base-url", server.base_url, "--from", "2025-01-09", "--to", "2025-01-10", "--delay", "0",
    ])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "date=2025-01-09:entry 0" in output and "--skip-invalid" in output


def test_network_failure_mid_range_resumes_at_the_first_day_not_committed(server, db):
    server.add_fault("drop", when=lambda r: r.params.get("date") == "2025-12-03", times=2)
    with pytest.raises(HarvestError):
        _harvest(db, server, from_date=date(2025, 12, 1), to_date=date(2025, 12, 5))
    assert set(_featured_by_day(db)) == {"2025-12-01", "2025-12-02"}
    server.requests.clear()
    report = _harvest(db, server)  # no --from: finish the interrupted range first
    assert report.resumed
    assert server.hf_days_requested()[:3] == ["2025-12-03", "2025-12-04", "2025-12-05"]
    assert {"2025-12-03", "2025-12-04", "2025-12-05"} <= set(_featured_by_day(db))


def test_incremental_runs_continue_after_the_last_finished_day(server, db):
    client = PoliteClient(delay=0, retries=0)
    first = harvest_hf(db, base_url=server.base_url, today=date(2025, 12, 5), first_days=3, log=QUIET, client=client)
    assert server.hf_days_requested() == _days(date(2025, 12, 2), date(2025, 12, 5))
    assert (first.from_date, first.to_date, first.resumed) == (date(2025, 12, 2), date(2025, 12, 5), False)
    # Today (12-05) is not over: the next run fetches it again, then goes on.
    assert load_state(db, state_key(server.base_url)).last_from == date(2025, 12, 5)
    server.requests.clear()
    harvest_hf(db, base_url=server.base_url, today=date(2025, 12, 9), log=QUIET, client=client)
    assert server.hf_days_requested() == _days(date(2025, 12, 5), date(2025, 12, 9))
    server.requests.clear()
    again = harvest_hf(db, base_url=server.base_url, today=date(2025, 12, 9), log=QUIET, client=client)
    assert server.hf_days_requested() == ["2025-12-09"] and again.unchanged == again.records


def test_truncated_json_is_reported_or_skipped(server, db):
    server.add_fault("truncated-json", when=lambda r: r.params.get("date") == "2025-12-02", times=2)
    with pytest.raises(HarvestError, match=r"date=2025-12-02:1: not valid JSON"):
        _harvest(db, server, from_date=date(2025, 12, 2), to_date=date(2025, 12, 2))
    report = _harvest(db, server, from_date=date(2025, 12, 2), to_date=date(2025, 12, 3), skip_invalid=True)
    assert report.invalid == 1 and report.records == len(_ids_in_file("2025-12-03"))


def test_a_second_harvest_of_the_same_site_is_refused(server, db):
    with job_lock(db, f"harvest:{state_key(server.base_url)}") as acquired:
        assert acquired
        with pytest.raises(HarvestError, match="another harvest") as busy:
            _harvest(db, server, from_date=date(2025, 12, 1), to_date=date(2025, 12, 1))
    assert busy.value.code == "busy" and server.hf_days_requested() == []


def test_to_before_from_is_a_clear_error(server, db):
    result = runner.invoke(app, ["harvest", "hf", "--base-url", server.base_url, "--from", "2025-12-05", "--to", "2025-12-01"])
    assert result.exit_code == 1 and "before --from" in result.output
    result = runner.invoke(app, ["harvest", "hf", "--base-url", server.base_url, "--to", "12/01/2025"])
    assert result.exit_code == 2 and "--to" in result.output
