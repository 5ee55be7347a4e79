"""arXiv API (Atom): file reader, CLI import and harvest, id lookup."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.sources.arxiv_api import fetch_arxiv_ids, harvest_arxiv, parse_atom, read_atom_file
from paperwire.sources.harvest_state import load_state, save_state
from paperwire.sources.http import HarvestError, PoliteClient
from paperwire.store.papers import count_papers, get_paper
from tests.sources.upstream_server import FakePaper, UpstreamServer

DATA = Path(__file__).parent / "data"
runner = CliRunner()
QUIET = lambda message: None  # noqa: E731


def _papers() -> list[FakePaper]:
    """Five cs papers, one a day from 2024-01-01, plus one in math."""
    papers = [
        FakePaper(f"2401.0000{i}", f"Paper number {i}", categories=["cs.LG"], published=datetime(2024, 1, i, 9, 0))
        for i in range(1, 6)
    ]
    papers.append(FakePaper("2401.09999", "A math paper", categories=["math.PR"], published=datetime(2024, 1, 5)))
    return papers


@pytest.fixture
def server():
    with UpstreamServer(_papers()) as running:
        yield running


def test_parse_atom_reads_every_field():
    items, total = parse_atom((DATA / "arxiv_atom.xml").read_bytes(), "arxiv_atom.xml")
    assert total == 1542
    first, second, old = items
    assert first.arxiv_id == "2310.12345"
    assert first.title == "Sparse Mixture-of-Experts for Long-Context Retrieval"
    assert first.abstract.startswith("We study sparse") and "\n" not in first.abstract
    assert first.authors == ["Ada Lovelace", "Alan Turing"]
    assert first.categories == ["cs.LG", "cs.IR"]
    assert first.submitted == datetime(2023, 10, 18, 17, 59, 59)
    assert first.updated == datetime(2024, 2, 1, 9, 30)
    assert [(v.version, v.created) for v in first.versions] == [
        (1, datetime(2023, 10, 18, 17, 59, 59)), (2, datetime(2024, 2, 1, 9, 30)),
    ]
    assert first.doi == "10.1000/example.2310.12345"
    assert first.journal_ref == "Proc. ICML 2024, 1-12"
    assert first.comments == "12 pages, 4 figures; v2: added ablations"
    assert second.title.startswith("Schrödinger Bridges and $\\mathcal{O}(n \\log n)$")
    assert second.categories[0] == "stat.ML" and second.latest_version == 1
    assert "<in practice>" in second.abstract
    assert old.arxiv_id == "hep-th/9901001" and old.latest_version == 3


def test_entry_without_title_is_an_invalid_record_naming_the_line(tmp_path):
    text = (DATA / "arxiv_atom.xml").read_text().replace("<title>Anti de Sitter Space and Holography</title>", "")
    path = tmp_path / "broken.xml"
    path.write_text(text)
    items = list(read_atom_file(path))
    assert str(items[2]).startswith(f"{path}:") and "hep-th/9901001 has no title" in str(items[2])


def test_cli_import_atom_file():
    result = runner.invoke(app, ["import", "--format", "arxiv-atom", "--no-embed", "--json", str(DATA / "arxiv_atom.xml")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[str(DATA / "arxiv_atom.xml")]["inserted"] == 3
    shown = runner.invoke(app, ["show", "--json", "hep-th/9901001v3"])
    detail = json.loads(shown.stdout)
    assert detail["journal_ref"] == "Adv.Theor.Math.Phys.2:253-291,1998"
    assert detail["published"] == "1999-01-01" and detail["latest_version"] == 3


def test_cli_import_detects_atom_and_is_idempotent():
    args = ["import", "--no-embed", "--json", str(DATA / "arxiv_atom.xml")]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert first[str(DATA / "arxiv_atom.xml")]["inserted"] == 3
    assert second[str(DATA / "arxiv_atom.xml")]["inserted"] == 0


def test_cli_import_malformed_xml_names_the_file():
    path = DATA / "malformed.xml"
    result = runner.invoke(app, ["import", "--format", "arxiv-atom", "--no-embed", str(path)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert str(path) in output and "malformed XML" in output


def test_cli_rejects_oai_file_read_as_atom():
    result = runner.invoke(app, ["import", "--format", "arxiv-atom", "--no-embed", str(DATA / "oai_arxiv.xml")])
    assert result.exit_code == 2
    assert "not an arXiv API Atom feed" in " ".join(result.output.split())


def test_cli_harvest_stops_at_from_date_and_honours_503(server, db):
    server.add_fault("503", retry_after="1")
    result = runner.invoke(
        app,
        ["harvest", "arxiv", "--base-url", server.api_url, "--set", "cs", "--from", "2024-01-03", "--delay", "0", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["inserted"] == 3 and report["from_date"] == "2024-01-03"
    first, retried = server.requests
    assert first.params == retried.params  # the 503 was retried
    assert first.params["search_query"] == "cat:cs.*"
    assert first.params["sortBy"] == "submittedDate" and first.params["sortOrder"] == "descending"
    with db.session() as session:
        assert count_papers(session) == 3
        assert get_paper(session, "2401.00002") is None


def test_paging_newest_first_until_older_entries(server, db):
    report = harvest_arxiv(
        db, query="cat:cs.*", from_date=date(2024, 1, 2), base_url=server.api_url, delay=0, page_size=2, log=lambda m: None
    )
    # 5,4 | 3,2 | 1 (older than the start date: stop there).
    assert (report.pages, report.records, report.inserted) == (3, 4, 4)
    assert [r.params["start"] for r in server.requests] == ["0", "2", "4"]
    assert load_state(db, f"arxiv:{server.api_url}:cat:cs.*").last_from == date(2024, 1, 5)


def test_max_results_limits_the_harvest(server, db):
    report = harvest_arxiv(
        db, query="cat:cs.*", from_date=None, base_url=server.api_url, delay=0, max_results=3, page_size=2,
        log=lambda m: None,
    )
    assert report.records == 3
    assert [r.params["max_results"] for r in server.requests] == ["2", "1"]


def test_without_from_date_the_next_run_starts_at_the_last_harvest(server, db):
    kwargs = dict(query="cat:cs.*", base_url=server.api_url, delay=0, page_size=2, log=lambda m: None)
    harvest_arxiv(db, from_date=date(2024, 1, 1), **kwargs)
    server.papers.append(FakePaper("2401.00006", "Paper number 6", published=datetime(2024, 1, 6, 9, 0)))
    server.requests.clear()
    changed: list[int] = []
    report = harvest_arxiv(db, from_date=None, on_changed=changed.extend, **kwargs)
    assert report.from_date == date(2024, 1, 5)
    # Newest first: 6,5 are on or after the stored date; 4 on page 2 is older -> stop.
    assert (report.pages, report.inserted, report.unchanged) == (2, 1, 1)
    assert [r.params["start"] for r in server.requests] == ["0", "2"]
    assert len(changed) == 1
    with db.session() as session:
        assert count_papers(session) == 6


def test_api_error_entry_stops_the_harvest(server, db):
    server.add_fault("api-error", message="max_results must be an integer", when=lambda r: r.params["start"] == "2")
    with pytest.raises(HarvestError, match="arXiv API error: max_results must be an integer"):
        harvest_arxiv(db, query="cat:cs.*", from_date=None, base_url=server.api_url, delay=0, page_size=2, log=lambda m: None)
    with db.session() as session:
        assert count_papers(session) == 2  # the first page was kept
    # An interrupted newest-first run must not move the start date (it would leave a gap).
    assert load_state(db, f"arxiv:{server.api_url}:cat:cs.*").last_from is None


def test_fetch_ids_returns_known_papers_only(server):
    records = fetch_arxiv_ids(["2401.00003v2", "https://arxiv.org/abs/2401.00001", "2401.77777"], base_url=server.api_url)
    assert sorted(r.arxiv_id for r in records) == ["2401.00001", "2401.00003"]
    assert server.requests[0].params["id_list"] == "2401.00003,2401.00001,2401.77777"


def test_fetch_ids_handles_unknown_and_malformed_ids(server):
    assert fetch_arxiv_ids(["2401.77777"], base_url=server.api_url) == []
    assert fetch_arxiv_ids(["not-an-id"], base_url=server.api_url) == []
    assert server.requests_to("/api/query")[0].params["id_list"] == "2401.77777"
    assert len(server.requests) == 1  # malformed ids never leave the process


def test_fetch_ids_tolerates_the_api_error_entry(server):
    server.add_fault("api-error", message="incorrect id format for 2401.00001")
    assert fetch_arxiv_ids(["2401.00001"], base_url=server.api_url) == []
    assert [r.title for r in fetch_arxiv_ids(["2401.00001"], base_url=server.api_url)] == ["Paper number 1"]


def test_fake_server_answers_malformed_ids_like_the_api(server):
    with PoliteClient(delay=0) as client:
        response = client.get(server.api_url, {"id_list": "1234"}, ok_statuses=frozenset({400}))
    assert response.status_code == 400
    items, _ = parse_atom(response.content, "api")
    assert "incorrect id format for 1234" in str(items[0])


def test_fetch_ids_network_failure_raises():
    with UpstreamServer() as gone:
        url = gone.api_url
    with pytest.raises(HarvestError):
        fetch_arxiv_ids(["2401.00001"], base_url=url, client=PoliteClient(delay=0, retries=0))


def test_an_empty_page_before_the_end_is_retried_not_taken_as_the_end(server, db):
    """arXiv sometimes answers a page with no entries while start < totalResults."""
    server.add_fault("empty-page", times=2, when=lambda r: r.params.get("start") == "2")
    report = harvest_arxiv(db, query="cat:cs.*", from_date=None, base_url=server.api_url, delay=0,
                           page_size=2, log=QUIET)
    starts = [r.params["start"] for r in server.requests_to("/api/query")]
    assert starts.count("2") == 3  # two empty answers, then the real page
    with db.session() as session:
        assert count_papers(session) == report.inserted == len([p for p in server.papers if "cs.LG" in p.categories])


def test_empty_pages_that_persist_fail_the_harvest_and_keep_the_old_date(server, db):
    key = f"arxiv:{server.api_url}:cat:cs.*"
    save_state(db, key, last_from=date(2023, 1, 1))
    server.add_fault("empty-page", times=100, when=lambda r: r.params.get("start") == "2")
    with pytest.raises(HarvestError, match="no entries"):
        harvest_arxiv(db, query="cat:cs.*", from_date=None, base_url=server.api_url, delay=0,
                      page_size=2, log=QUIET)
    assert load_state(db, key).last_from == date(2023, 1, 1)
