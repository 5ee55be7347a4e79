"""Library files: BibTeX, RIS, CSL-JSON and id lists, matching, harvest queue, export round trip."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from paperwire.deliver.export import export, to_bibtex, to_csljson, to_ris
from paperwire.records import PaperRecord
from paperwire.sources.library_file import (
    LibraryFileError, detect_format, import_library, match_entries, parse_bibtex, parse_csljson, parse_ids,
    parse_library, parse_ris,
)
from paperwire.store.community import create_user
from paperwire.store.library import HarvestQueue, collection_papers, default_collection, pending_harvest
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

BIB = r"""
@comment{exported by JabRef}
@article{vaswani2017,
  title = {Attention Is {All} You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  eprint = {1706.03762v5}, archivePrefix = {arXiv},
  year = 2017
}
@inproceedings{doi_only, title="A paper known by {DOI}", doi = {https://doi.org/10.1000/XYZ.123}}
@misc{url_only, title = {Elsewhere}, url = {https://arxiv.org/abs/2301.00099v2}}
@book{nothing, publisher = {Nobody}}
@misc{by_title, title = {Sparse    Transformers at {S}cale}}
"""

RIS = """TY  - JOUR
TI  - Attention is all you need
AU  - Vaswani, Ashish
UR  - https://arxiv.org/abs/1706.03762
ER  - 

TY  - GEN
TI  - Something with a DOI
DO  - 10.48550/arXiv.2402.01234
ER  - 
"""

CSL = json.dumps([
    {"id": "x", "type": "article", "title": "Attention is all you need", "URL": "http://arxiv.org/abs/1706.03762"},
    {"id": "y", "type": "article", "title": "Sparse transformers at scale", "number": "2403.00002", "publisher": "arXiv"},
    {"id": "z", "type": "book", "title": "Unknown book"},
])


def test_bibtex_entries():
    entries = parse_bibtex(BIB)
    assert [(e.arxiv_id, e.doi) for e in entries] == [
        ("1706.03762", None), (None, "10.1000/xyz.123"), ("2301.00099", None), (None, None),
    ]
    assert entries[0].title == "Attention Is All You Need" and entries[3].title == "Sparse Transformers at Scale"


def test_ris_csl_and_id_lists():
    ris = parse_ris(RIS)
    assert [(e.arxiv_id, e.title) for e in ris] == [("1706.03762", "Attention is all you need"),
                                                    ("2402.01234", "Something with a DOI")]
    csl = parse_csljson(CSL)
    assert [e.arxiv_id for e in csl] == ["1706.03762", "2403.00002", None]
    ids = parse_ids("# my reading list\n2403.00001\nhttps://arxiv.org/pdf/hep-th/9901001v2.pdf\n\narXiv:2310.12345v3\n")
    assert [e.arxiv_id for e in ids] == ["2403.00001", "hep-th/9901001", "2310.12345"]


def test_format_detection_and_clear_errors():
    assert detect_format(BIB) == "bibtex" and detect_format(RIS) == "ris" and detect_format(CSL) == "csljson"
    assert detect_format("2403.00001\n") == "ids" and detect_format("{}", "zotero.json") == "csljson"
    with pytest.raises(LibraryFileError, match="empty"):
        parse_library(b"   ")
    with pytest.raises(LibraryFileError, match="not valid CSL-JSON"):
        parse_library(b"[{oops", "x.json")
    with pytest.raises(LibraryFileError, match="no arXiv ids found"):
        parse_library("hello world\nnot an id")
    with pytest.raises(LibraryFileError, match="no references"):
        parse_library("@book{a, publisher={x}}")
    with pytest.raises(LibraryFileError, match="unknown format"):
        parse_library("x", fmt="endnote")


@pytest.fixture
def catalogue(db):
    with db.session() as session:
        upsert_papers(session, [
            PaperRecord(title="Attention is all you need", arxiv_id="1706.03762", authors=["Ashish Vaswani"],
                        categories=["cs.CL"], source="t"),
            PaperRecord(title="A paper known by DOI", doi="10.1000/xyz.123", source="t", authors=["Zoë Ünal"],
                        abstract="Braces { unbalanced and $\\alpha$ math."),
            PaperRecord(title="Sparse transformers at scale", arxiv_id="2403.00002", authors=["Grace Hopper"],
                        journal_ref="J. Sparse 1 (2024)", source="t"),
        ])
        user = create_user(session, "reader", "reader-password")
    return db, user.id


def test_matching_by_arxiv_doi_and_title_and_harvest_queue(catalogue):
    db, user_id = catalogue
    with db.session() as session:
        matched = match_entries(session, parse_bibtex(BIB))
        titles = [session.get(Paper, pid).title for pid in matched.paper_ids]
        assert titles == ["Attention is all you need", "A paper known by DOI", "Sparse transformers at scale"]
        assert matched.missing_arxiv_ids == ["2301.00099"]
        report = import_library(session, user_id, BIB.encode(), filename="refs.bib")
        assert (report.references, report.saved, report.queued, report.unmatched) == (4, 3, 1, 0)
        again = import_library(session, user_id, BIB.encode(), filename="refs.bib")
        assert (again.saved, again.already, again.queued) == (0, 3, 0)
        import_library(session, user_id, "2301.00099\n2402.09999\n")
        assert pending_harvest(session) == ["2301.00099", "2402.09999"]
        assert session.scalar(select(HarvestQueue.requested_by).where(HarvestQueue.arxiv_id == "2402.09999")) == user_id
        papers = collection_papers(session, default_collection(session, user_id).id)
        assert len(papers) == 3


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csljson"])
def test_export_round_trips_through_our_parser(catalogue, fmt):
    db, _ = catalogue
    with db.session() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.id)))
        body, media, ext = export(papers, fmt)
        entries = parse_library(body, f"x.{ext}")
        matched = match_entries(session, entries)
    assert matched.paper_ids == [p.id for p in papers]
    assert media.endswith("charset=utf-8")


def test_export_details(catalogue):
    db, _ = catalogue
    with db.session() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.id)))
    bib = to_bibtex(papers + papers[:1])
    keys = [line.split("{", 1)[1].rstrip(",") for line in bib.splitlines() if line.startswith("@")]
    assert len(keys) == len(set(keys)) == 4  # unique keys even for a repeated paper
    assert "eprint = {1706.03762}" in bib and "archivePrefix = {arXiv}" in bib
    assert bib.count("{") == bib.count("}")  # the unbalanced brace in an abstract is dropped
    assert "$\\alpha$" in bib and "@article{" in bib
    ris = to_ris(papers)
    assert "AU  - Vaswani, Ashish" in ris and "UR  - https://arxiv.org/abs/1706.03762" in ris and ris.count("ER  - ") == 3
    csl = json.loads(to_csljson(papers))
    assert csl[1]["author"] == [{"family": "Ünal", "given": "Zoë"}] and csl[1]["DOI"] == "10.1000/xyz.123"
    assert csl[0]["archive_location"] == "arXiv:1706.03762" and "number" not in csl[0]
    assert csl[2]["type"] == "article-journal"
    with pytest.raises(ValueError, match="unknown export format"):
        export(papers, "docx")
