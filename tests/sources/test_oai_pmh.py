"""OAI-PMH ListRecords: file reader, CLI import and harvest, resumption, crashes."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.sources.harvest_state import load_state, save_state
from paperwire.sources.http import HarvestError, PoliteClient
from paperwire.sources.oai_pmh import harvest_oai, parse_list_records, split_authors
from paperwire.store.papers import count_papers, get_paper, utcnow
from tests.sources.upstream_server import FakePaper, UpstreamServer

DATA = Path(__file__).parent / "data"
runner = CliRunner()
QUIET = lambda message: None  # noqa: E731


def _papers() -> list[FakePaper]:
    papers = [
        FakePaper(
            f"2401.0000{i}", f"Paper number {i}", authors=[("Grace", "Hopper"), ("Alan", "Turing")],
            categories=["cs.LG", "stat.ML"], published=datetime(2024, 1, i, 9, 0),
        )
        for i in range(1, 6)
    ]
    papers[1].version, papers[1].updated = 3, datetime(2024, 1, 20, 8, 30)
    papers.append(FakePaper("2312.00001", "Too old", published=datetime(2023, 12, 1)))
    papers.append(FakePaper("2401.09999", "Physics paper", categories=["hep-th"], published=datetime(2024, 1, 5)))
    papers.append(FakePaper("2401.00777", "Withdrawn", published=datetime(2024, 1, 7), deleted=True))
    return papers


@pytest.fixture
def server():
    with UpstreamServer(_papers(), page_size=2) as running:
        yield running


def _key(server, prefix="arXiv", set_spec="cs") -> str:
    return f"oai:{server.oai_url}:{prefix}:{set_spec}"


def test_parse_arxiv_format():
    records, token, size = parse_list_records((DATA / "oai_arxiv.xml").read_bytes(), "oai_arxiv.xml")
    assert token is None and size == 3
    survey, old = records
    assert survey.arxiv_id == "2401.00001"
    assert survey.authors == ["Haruki Nakamura", "Luther Martin Jr", "Collaboration"]
    assert survey.categories == ["cs.CL", "cs.LG"]
    assert survey.license == "http://creativecommons.org/licenses/by/4.0/"
    assert survey.latest_version == 1 and survey.submitted == datetime(2024, 1, 1)
    assert old.arxiv_id == "cs/9901002" and old.doi == "10.1000/godel.1999"
    assert old.title == "On Formally Undecidable Propositions of $\\aleph_0$-Categorical Theories"
    assert old.updated == datetime(2024, 1, 5) and old.versions == []  # version number unknown
    assert "∞" in old.abstract


def test_parse_arxivraw_versions_and_deleted():
    page = parse_list_records((DATA / "oai_arxivraw.xml").read_bytes(), "oai_arxivraw.xml")
    assert page.deleted == 1
    diphoton, ads = page.records
    assert [(v.version, v.created) for v in diphoton.versions] == [
        (1, datetime(2007, 4, 2, 19, 18, 42)), (2, datetime(2007, 7, 24, 20, 10, 27)), (3, datetime(2024, 1, 5, 8, 0)),
    ]
    assert diphoton.submitted == datetime(2007, 4, 2, 19, 18, 42)
    assert diphoton.authors == ["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert diphoton.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert ads.arxiv_id == "hep-th/9901001" and ads.latest_version == 1


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("A. Smith, B. Jones and C. Brown", ["A. Smith", "B. Jones", "C. Brown"]),
        ("A. Smith (MIT and Harvard), B. Jones, and C. Brown", ["A. Smith", "B. Jones", "C. Brown"]),
        ("The ATLAS Collaboration", ["The ATLAS Collaboration"]),
        ("Ann Anderson ((a) MIT, (b) CERN)", ["Ann Anderson"]),
    ],
)
def test_split_authors(text, names):
    assert split_authors(text) == names


def test_no_records_match_is_an_empty_page_other_errors_raise():
    def error(code: str) -> bytes:
        return (
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate>'
            b'<request>x</request><error code="' + code.encode() + b'">Details here</error></OAI-PMH>'
        )

    assert tuple(parse_list_records(error("noRecordsMatch"), "x")) == ([], None, 0)
    with pytest.raises(HarvestError, match="OAI-PMH error badArgument: Details here") as info:
        parse_list_records(error("badArgument"), "x")
    assert info.value.code == "badArgument"


def test_cli_import_oai_files_explicit_and_detected():
    explicit = runner.invoke(app, ["import", "--format", "oai", "--no-embed", "--json", str(DATA / "oai_arxiv.xml")])
    assert explicit.exit_code == 0, explicit.output
    assert json.loads(explicit.stdout)[str(DATA / "oai_arxiv.xml")]["inserted"] == 2
    detected = runner.invoke(app, ["import", "--no-embed", "--json", str(DATA / "oai_arxivraw.xml")])
    assert detected.exit_code == 0, detected.output
    assert json.loads(detected.stdout)[str(DATA / "oai_arxivraw.xml")]["inserted"] == 2
    detail = json.loads(runner.invoke(app, ["show", "--json", "0704.0001"]).stdout)
    assert detail["latest_version"] == 3 and detail["published"] == "2007-04-02"
    assert detail["license"] == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_cli_import_malformed_oai_names_the_file(tmp_path):
    path = tmp_path / "listrecords.xml"
    path.write_text((DATA / "oai_arxiv.xml").read_text()[:900])
    result = runner.invoke(app, ["import", "--format", "oai", "--no-embed", str(path)])
    assert result.exit_code == 2
    assert "listrecords.xml" in result.output and "malformed XML" in " ".join(result.output.split())


def test_cli_harvest_follows_resumption_tokens(server, db):
    result = runner.invoke(
        app,
        ["harvest", "oai", "--base-url", server.oai_url, "--from", "2024-01-01", "--set", "cs", "--delay", "0", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # cs since 2024-01-01: five papers and one deleted record, two per page.
    assert (report["pages"], report["records"], report["inserted"], report["deleted_skipped"]) == (3, 5, 5, 1)
    first, *rest = server.requests
    assert first.params == {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2024-01-01", "set": "cs"}
    assert [set(r.params) for r in rest] == [{"verb", "resumptionToken"}] * 2
    with db.session() as session:
        assert count_papers(session) == 5
        paper = get_paper(session, "2401.00001")
        assert paper.authors == ["Grace Hopper", "Alan Turing"] and paper.primary_category == "cs.LG"
        assert get_paper(session, "2401.00777") is None
    state = load_state(db, _key(server))
    assert state.token is None and state.last_from == utcnow().date()


def test_arxivraw_harvest_stores_version_history(server, db):
    report = harvest_oai(
        db, from_date=date(2024, 1, 1), set_spec="cs", metadata_prefix="arXivRaw", base_url=server.oai_url,
        delay=0, log=QUIET,
    )
    assert report.inserted == 5
    with db.session() as session:
        paper = get_paper(session, "2401.00002")
        assert paper.latest_version == 3
        assert [v["version"] for v in paper.versions] == [1, 2, 3]
        assert paper.submitted_at == datetime(2024, 1, 2, 9, 0)


def test_second_run_without_from_uses_the_stored_date(server, db):
    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    harvest_oai(db, from_date=date(2024, 1, 1), **kwargs)
    server.requests.clear()
    result = runner.invoke(app, ["harvest", "oai", "--base-url", server.oai_url, "--set", "cs", "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert server.requests[0].params["from"] == utcnow().date().isoformat()
    assert "0 new" in result.output  # noRecordsMatch for today's date


def test_crash_mid_harvest_resumes_from_the_stored_token(server, db):
    server.add_fault("500", times=100, when=lambda r: "resumptionToken" in r.params)
    flaky = PoliteClient(delay=0, retries=2, sleep=lambda s: None)
    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    with pytest.raises(HarvestError, match="after 3 attempts: HTTP 500"):
        harvest_oai(db, from_date=date(2024, 1, 1), client=flaky, **kwargs)
    assert len(server.requests) == 4  # page 1, then page 2 three times
    with db.session() as session:
        assert count_papers(session) == 2  # page 1 was kept
    state = load_state(db, _key(server))
    failing_token = server.requests[1].params["resumptionToken"]
    assert state.token == failing_token and state.last_from is None

    server.faults.clear()
    server.requests.clear()
    report = harvest_oai(db, from_date=None, **kwargs)
    assert report.resumed
    assert server.requests[0].params == {"verb": "ListRecords", "resumptionToken": failing_token}
    assert (report.pages, report.inserted, report.unchanged) == (2, 3, 0)
    with db.session() as session:
        assert count_papers(session) == 5  # no duplicates
    state = load_state(db, _key(server))
    assert state.token is None and state.last_from == utcnow().date()


def test_expired_token_restarts_the_list(server, db):
    save_state(db, _key(server), token="1|2", token_started=date(2024, 2, 1))
    # The server never issued token "1|2": it answers badResumptionToken, so the list restarts.
    report = harvest_oai(db, from_date=None, set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    assert not report.resumed and report.inserted == 6  # everything in cs (no stored date)
    assert server.requests[0].params["resumptionToken"] == "1|2"
    assert "resumptionToken" not in server.requests[1].params
    assert load_state(db, _key(server)).last_from == utcnow().date()


def test_completed_resume_sets_the_date_the_list_was_started(server, db):
    server.add_fault("drop", times=100, when=lambda r: "resumptionToken" in r.params)
    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    with pytest.raises(HarvestError):
        harvest_oai(db, from_date=date(2024, 1, 1), client=PoliteClient(delay=0, retries=0), **kwargs)
    token = load_state(db, _key(server)).token
    save_state(db, _key(server), token=token, token_started=date(2024, 2, 1))  # as if started then
    server.faults.clear()
    assert harvest_oai(db, from_date=None, **kwargs).resumed
    assert load_state(db, _key(server)).last_from == date(2024, 2, 1)


def test_oai_error_from_the_server_raises(server, db):
    server.add_fault("oai-error", code="badArgument")
    with pytest.raises(HarvestError, match="badArgument"):
        harvest_oai(db, from_date=None, set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)


def test_malformed_response_raises_naming_the_endpoint(server, db):
    server.add_fault("malformed")
    with pytest.raises(HarvestError, match=r"/oai \(page 1\): malformed XML"):
        harvest_oai(db, from_date=None, set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)


def test_unknown_metadata_prefix_is_rejected(db):
    with pytest.raises(ValueError, match="arXiv, arXivRaw"):
        harvest_oai(db, from_date=None, set_spec=None, metadata_prefix="oai_dc", base_url="http://127.0.0.1:9", delay=0)


def test_daily_harvest_in_arxiv_format_refreshes_an_updated_paper(server, db):
    """The arXiv format has no version list; recency comes from the record's own dates."""
    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    harvest_oai(db, from_date=date(2024, 1, 1), **kwargs)
    paper = next(p for p in server.papers if p.arxiv_id == "2401.00003")
    paper.abstract, paper.title = "A rewritten abstract for version two.", "Paper number 3, revised"
    paper.version, paper.updated = 2, datetime(2024, 3, 1, 10, 0)
    report = harvest_oai(db, from_date=date(2024, 3, 1), **kwargs)
    assert report.updated == 1
    with db.session() as session:
        stored = get_paper(session, "2401.00003")
        assert stored.abstract == "A rewritten abstract for version two."
        assert stored.title == "Paper number 3, revised"


def test_an_older_record_without_versions_does_not_overwrite_a_newer_one(server, db):
    kwargs = dict(set_spec="cs", metadata_prefix="arXivRaw", base_url=server.oai_url, delay=0, log=QUIET)
    harvest_oai(db, from_date=date(2024, 1, 1), **kwargs)  # 2401.00002 is at v3 (2024-01-20)
    paper = next(p for p in server.papers if p.arxiv_id == "2401.00002")
    paper.abstract, paper.updated = "A stale abstract.", datetime(2024, 1, 10)
    harvest_oai(db, from_date=date(2024, 1, 1), **{**kwargs, "metadata_prefix": "arXiv"})
    with db.session() as session:
        assert get_paper(session, "2401.00002").abstract != "A stale abstract."


def test_expired_token_after_a_crash_restarts_from_the_original_from_date(server, db):
    server.add_fault("500", times=100, when=lambda r: "resumptionToken" in r.params)
    kwargs = dict(set_spec="cs", metadata_prefix="arXiv", base_url=server.oai_url, delay=0, log=QUIET)
    with pytest.raises(HarvestError):
        harvest_oai(db, from_date=date(2024, 1, 3), client=PoliteClient(delay=0, retries=0), **kwargs)
    server.faults.clear()
    server.add_fault("oai-error", code="badResumptionToken", when=lambda r: "resumptionToken" in r.params)
    server.requests.clear()
    report = harvest_oai(db, from_date=None, **kwargs)
    assert not report.resumed and report.from_date == date(2024, 1, 3)
    assert server.requests[1].params.get("from") == "2024-01-03"  # not a full-archive harvest


def test_get_record_responses_import(tmp_path, db):
    listed = (DATA / "oai_arxiv.xml").read_text(encoding="utf-8")
    start, end = listed.index("<record>"), listed.index("</record>") + len("</record>")
    envelope_head = listed[: listed.index("<ListRecords")]
    get_record = tmp_path / "getrecord.xml"
    get_record.write_text(f"{envelope_head}<GetRecord>{listed[start:end]}</GetRecord></OAI-PMH>", encoding="utf-8")
    result = runner.invoke(app, ["import", str(get_record)])
    assert result.exit_code == 0, result.output
    with db.session() as session:
        assert count_papers(session) == 1
