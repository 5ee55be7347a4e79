"""``paperwire resolve``: title-only papers found on arXiv (a local server answering
title searches with the real Atom response in tests/sources/data/)."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.ids import derived_paper_id
from paperwire.records import PaperRecord
from paperwire.sources.http import PoliteClient
from paperwire.sources.resolve import close_match, resolve_titles, title_query
from paperwire.store.community import Vote, create_user, vote
from paperwire.store.models import FeaturedPaper
from paperwire.store.papers import get_paper, upsert_papers
from tests.sources.upstream_server import UpstreamServer

ATOM = (Path(__file__).parent / "data" / "arxiv_atom.xml").read_bytes()
DAY = date(2025, 8, 12)
runner = CliRunner()
QUIET = lambda message: None  # noqa: E731

EXACT = "Sparse Mixture-of-Experts for Long-Context Retrieval"  # 2310.12345 in the Atom file
CLOSE = "Anti de Sitter Spaces and Holography"  # hep-th/9901001 says "Space"
UNKNOWN = "A Paper arXiv Has Never Seen"
TAKEN = "Schrödinger Bridges and $\\mathcal{O}(n \\log n)$ Sampling: Über-fast Diffusion"  # 2309.01234


def _answer(query: str) -> bytes | None:
    """arXiv's title search returns loosely related papers: here, the real three-entry response."""
    return ATOM if query.startswith("ti:") else None


@pytest.fixture
def server():
    with UpstreamServer(atom_responses=_answer) as running:
        yield running


def _page_papers(db) -> None:
    with db.session() as s:
        upsert_papers(s, [
            PaperRecord(title=t, abstract="From a Daily-Papers page.", featured_on=DAY, upvotes=4, source="dailypapers")
            for t in (EXACT, CLOSE, UNKNOWN, TAKEN)
        ])
        # The arXiv id of TAKEN is already a separate paper (an older title).
        upsert_papers(s, [PaperRecord(title="Schrödinger bridges, first version", arxiv_id="2309.01234", source="kaggle")])
        vote(s, create_user(s, "reader", "password123"), get_paper(s, derived_paper_id(EXACT)))


def test_cli_resolves_close_title_matches_and_keeps_days_and_votes(server, db):
    _page_papers(db)
    with db.session() as s:
        exact_row = get_paper(s, derived_paper_id(EXACT)).id
        close_row = get_paper(s, derived_paper_id(CLOSE)).id
    result = runner.invoke(app, ["resolve", "--base-url", server.api_url, "--delay", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["looked_up"], report["resolved"], report["no_match"], report["already_known"]) == (4, 2, 1, 1)
    assert report["unmatched_titles"] == [UNKNOWN] and report["offline"] is None
    assert [r.params["search_query"] for r in server.requests_to("/api/query")][0] == f'ti:"{EXACT}"'
    with db.session() as s:
        paper = get_paper(s, "2310.12345")
        assert paper.id == exact_row  # merged in place: same row, now the real record
        assert paper.authors == ["Ada Lovelace", "Alan Turing"] and paper.primary_category == "cs.LG"
        assert s.scalar(select(FeaturedPaper.day).where(FeaturedPaper.paper_id == paper.id)) == DAY
        assert s.scalar(select(func.count()).select_from(Vote).where(Vote.paper_id == paper.id)) == 1
        assert get_paper(s, derived_paper_id(EXACT)) is None
        holography = get_paper(s, "hep-th/9901001")
        assert holography.id == close_row and holography.title == "Anti de Sitter Space and Holography"
        assert get_paper(s, derived_paper_id(UNKNOWN)) is not None  # no match: left as it was
        assert get_paper(s, derived_paper_id(TAKEN)) is not None  # its id is taken: not merged blindly
    again = runner.invoke(app, ["resolve", "--base-url", server.api_url, "--delay", "0"])
    assert again.exit_code == 0 and "Looked up 2 title-only papers" in " ".join(again.output.split())


def test_offline_says_so_with_counts_and_exits_non_zero(db):
    _page_papers(db)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/api/query"
    report = resolve_titles(db, base_url=dead, log=QUIET, client=PoliteClient(delay=0, retries=0))
    assert report.offline and (report.looked_up, report.resolved, report.remaining) == (0, 0, 4)
    assert "could not be reached" in report.summary() and "4 left" in report.summary()
    result = runner.invoke(app, ["resolve", "--base-url", dead, "--delay", "0"])
    assert result.exit_code == 1 and "could not be reached" in " ".join(result.output.split())


def test_limit_and_nothing_to_do(server, db):
    assert resolve_titles(db, base_url=server.api_url, delay=0, log=QUIET).summary().startswith("Looked up 0")
    _page_papers(db)
    report = resolve_titles(db, base_url=server.api_url, delay=0, limit=1, log=QUIET)
    assert (report.looked_up, report.resolved) == (1, 1)


def test_title_matching_is_strict():
    candidates = [PaperRecord(title="Anti de Sitter Space and Holography", arxiv_id="hep-th/9901001")]
    assert close_match("ANTI-DE SITTER SPACE AND HOLOGRAPHY.", candidates) is candidates[0]
    assert close_match("Anti de Sitter Space", candidates) is None
    assert close_match("de Sitter Space and Holography", candidates) is None
    assert title_query('A "quoted" \\ title') == 'ti:"A quoted title"'
