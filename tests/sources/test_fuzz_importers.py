"""Property-based fuzzing of every importer, the library-file parsers and the
search query parser (issue 12): any input gives records, an
:class:`InvalidRecord` or a clear error — never another exception — and the
database stays consistent after importing what was read."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from paperwire.index.query import parse_query
from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.formats import read_path
from paperwire.sources.importer import ImportFailed, import_items
from paperwire.sources.library_file import LibraryFileError, parse_library
from paperwire.sources.textfile import SourceError
from paperwire.store.models import Paper

DATA = Path(__file__).parent / "data"
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\x1b[31m", "é\u0301", "2401.00001", "math/0601001v2", "-1", "10**9", "Mon, 2 Apr 2007 19:18:42 GMT",
     "2025-09-04T21:26:31.000Z", "<b>", "&amp;", "]]>", "\ufffe", "\u202e"])
scalar = text | st.integers(min_value=-2**70, max_value=2**70) | st.floats() | st.booleans() | st.none()
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                     max_leaves=8)


def _encode(body: str, raw: bytes | None) -> bytes:
    return raw if raw is not None else body.encode("utf-8", "surrogatepass")


def check_import(db, path: Path, fmt: str) -> None:
    """Read and import ``path``: records, InvalidRecords or a clear error only; the DB stays consistent."""
    try:
        items = read_path(path, fmt)
    except ValueError:
        return  # an eager reader refused the file with a message (the CLI prints it, exit 2)
    collected = []
    try:
        for item in items:
            assert isinstance(item, (PaperRecord, InvalidRecord)), type(item)
            collected.append(item)
    except SourceError as exc:
        assert str(exc).startswith(str(path))
    try:
        import_items(db, collected, batch_size=7, skip_invalid=True)
    except ImportFailed:
        pass
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(Paper))
        assert count == s.scalar(select(func.count(func.distinct(Paper.uid))))
        for title, abstract in s.execute(select(Paper.title, Paper.abstract)):
            assert title.strip() and not CONTROL.search(title) and not CONTROL.search(abstract)
            assert unicodedata.is_normalized("NFC", title)


kaggle_record = st.fixed_dictionaries({}, optional={
    "id": text | value, "title": text | value, "abstract": text | value, "authors": text | value,
    "authors_parsed": value, "versions": st.lists(st.fixed_dictionaries({"version": text | value, "created": text | value}),
                                                  max_size=3) | value,
    "update_date": text | value, "categories": text | value, "doi": text | value, "comments": value,
})


@FUZZ
@given(records=st.lists(kaggle_record | value, max_size=6), raw=st.none() | st.binary(max_size=200), gz=st.booleans())
def test_fuzz_kaggle(db, tmp_path_factory, records, raw, gz):
    path = tmp_path_factory.mktemp("k") / ("in.jsonl.gz" if gz else "in.jsonl")
    path.write_bytes(_encode("\n".join(json.dumps(r) for r in records), raw))
    check_import(db, path, "kaggle")


@FUZZ
@given(header=st.lists(st.sampled_from(["title", "abstract", "id", "authors", "categories", "published", "doi", "x"])
                       | text, min_size=1, max_size=5),
       rows=st.lists(st.lists(text, max_size=6), max_size=5), delimiter=st.sampled_from([",", "\t", ";"]),
       raw=st.none() | st.binary(max_size=200))
def test_fuzz_csv(db, tmp_path_factory, header, rows, delimiter, raw):
    path = tmp_path_factory.mktemp("c") / "in.csv"
    body = "\n".join(delimiter.join(row) for row in [header, *rows])
    path.write_bytes(_encode(body, raw))
    check_import(db, path, "csv")


page_line = text | st.sampled_from(
    ["Aug 12", "Feb 29", "Published on Oct 7, 2024", "Oct 6, 2025 2", "• 6 authors", "·", "Upvote", "42", "new",
     "Daily Papers", "Subscribe", "A" * 300])


@FUZZ
@given(lines=st.lists(page_line, max_size=25), raw=st.none() | st.binary(max_size=200))
def test_fuzz_pages(db, tmp_path_factory, lines, raw):
    path = tmp_path_factory.mktemp("p") / "page.txt"
    path.write_bytes(_encode("\n".join(lines), raw))
    check_import(db, path, "dailypapers")


hf_entry = st.fixed_dictionaries({}, optional={
    "paper": st.fixed_dictionaries({}, optional={
        "id": text | value, "title": text | value, "summary": text | value, "authors": value,
        "publishedAt": text | value, "upvotes": value, "submittedOnDailyBy": value}) | value,
    "publishedAt": text | value, "title": text | value, "numComments": value, "submittedBy": value,
})


@FUZZ
@given(entries=st.lists(hf_entry, max_size=5) | value, lines=st.booleans(), raw=st.none() | st.binary(max_size=200))
def test_fuzz_hf_daily(db, tmp_path_factory, entries, lines, raw):
    path = tmp_path_factory.mktemp("h") / "day.json"
    body = "\n".join(json.dumps(e) for e in entries) if lines and isinstance(entries, list) else json.dumps(entries)
    path.write_bytes(_encode(body, raw))
    check_import(db, path, "hf-daily")


def _xml_variants(name: str):
    sample = (DATA / name).read_text()
    return st.tuples(st.sampled_from(["title", "summary", "name", "id", "published", "dc:title", "datestamp"]), text,
                     st.booleans(), st.integers(0, len(sample))).map(lambda t: _mutate(sample, *t))


def _mutate(sample: str, tag: str, value: str, escape: bool, cut: int) -> str:
    from xml.sax.saxutils import escape as xml_escape

    new = xml_escape(value) if escape else value
    mutated = re.sub(rf"(<{tag}>)[^<]*(</{tag}>)", lambda m: m.group(1) + new + m.group(2), sample, count=2)
    return mutated if escape else mutated[:cut]


@FUZZ
@given(body=_xml_variants("arxiv_atom.xml"), raw=st.none() | st.binary(max_size=100))
def test_fuzz_arxiv_atom(db, tmp_path_factory, body, raw):
    path = tmp_path_factory.mktemp("a") / "feed.xml"
    path.write_bytes(_encode(body, raw))
    check_import(db, path, "arxiv-atom")


@FUZZ
@given(body=_xml_variants("oai_arxiv.xml") | _xml_variants("oai_arxivraw.xml"), raw=st.none() | st.binary(max_size=100))
def test_fuzz_oai(db, tmp_path_factory, body, raw):
    path = tmp_path_factory.mktemp("o") / "list.xml"
    path.write_bytes(_encode(body, raw))
    check_import(db, path, "oai")


bib_piece = text | st.sampled_from(["@article{", "@misc(", "}", "{", ",", "title = {", "eprint=", "doi = \"",
                                    "archivePrefix={arXiv}", "@comment{", "=", "\"", "2401.00001", "10.1/x"])
ris_piece = text | st.sampled_from(["TY  - JOUR", "ER  - ", "TI  - ", "DO  - 10.1/x", "UR  - arxiv.org/abs/2401.00001", "\n"])


@FUZZ
@given(fmt=st.sampled_from(["bibtex", "ris", "csljson", "ids", None]),
       body=st.lists(bib_piece | ris_piece, max_size=30).map("".join) | value.map(json.dumps),
       raw=st.none() | st.binary(max_size=200))
def test_fuzz_library_files(fmt, body, raw):
    try:
        entries = parse_library(raw if raw is not None else body.encode("utf-8", "surrogatepass"), "lib", fmt)
    except LibraryFileError as exc:
        assert str(exc)
        return
    assert entries and all(e.arxiv_id or e.doi or e.title for e in entries)


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=80) | st.lists(st.sampled_from(
    ['author:', 'cat:', 'after:', 'before:', '"', '-', 'OR', '(', ')', 'cs.LG', '2024-13-45', '\x00', '*', ':']) | text,
    max_size=10).map(" ".join))
def test_fuzz_query_parser(query):
    parsed = parse_query(query)
    assert parsed is not None
    parsed.semantic_text()


@pytest.mark.parametrize("fmt", ["kaggle", "csv", "dailypapers", "hf-daily", "arxiv-atom", "oai"])
def test_fuzz_empty_file(db, tmp_path, fmt):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    check_import(db, path, fmt)
