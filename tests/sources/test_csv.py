"""The CSV/TSV reader: column detection, --map, list-valued cells, line numbers."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from pathlib import Path

import pytest

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.csv_file import parse_datetime, read_csv, resolve_columns, split_list
from paperwire.sources.formats import detect_format, read_path
from paperwire.sources.importer import import_items
from paperwire.store.papers import get_paper

ATTENTION_ABSTRACT = (
    "The dominant sequence transduction models are based on complex recurrent or\n"
    "convolutional neural networks that include an encoder and a decoder."
)


def write_rows(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def kaggle_classification_csv(tmp_path) -> Path:
    """The shape of Kaggle's "arXiv Paper Abstracts" set: terms, titles, summaries."""
    return write_rows(tmp_path / "arxiv_data.csv", [
        ["terms", "titles", "summaries"],
        ["['cs.CL', 'cs.LG']", "Attention Is All You Need", ATTENTION_ABSTRACT],
        ["['cs.CV']", "Deep Residual Learning for Image Recognition", "Deeper neural networks are more difficult to train."],
        ["['cs.LG', 'stat.ML']", "Adam: A Method for Stochastic Optimization", "We introduce Adam."],
    ])


def test_kaggle_classification_csv(tmp_path):
    path = kaggle_classification_csv(tmp_path)
    assert detect_format(path) == "csv"
    records = list(read_path(path))
    assert [r.title for r in records] == [
        "Attention Is All You Need", "Deep Residual Learning for Image Recognition",
        "Adam: A Method for Stochastic Optimization"]
    assert records[0].categories == ["cs.CL", "cs.LG"]
    assert records[0].abstract.startswith("The dominant sequence transduction models are based on complex recurrent or conv")
    assert records[2].categories == ["cs.LG", "stat.ML"]
    assert {r.source for r in records} == {"csv"}
    # The first record spans three lines (quoted newline): the next starts on line 4.
    assert [r.origin for r in records] == [f"{path}:2", f"{path}:4", f"{path}:5"]


def test_full_header_with_ids_dates_authors_doi(tmp_path):
    path = write_rows(tmp_path / "papers.csv", [
        ["ArXiv_ID", "Title", "Abstract", "Authors", "Categories", "Published", "Updated", "DOI"],
        ["1706.03762v7", "Attention Is All You Need", "Transformers.", "Ashish Vaswani, Noam Shazeer and Niki Parmar",
         "cs.CL cs.LG", "2017-06-12T17:57:34Z", "2023-08-02", "10.48550/arXiv.1706.03762"],
        ["1512.03385", "Deep Residual Learning", "ResNets.", "Kaiming He; Xiangyu Zhang", "cs.CV;cs.LG",
         "Thu, 10 Dec 2015 19:51:55 GMT", "", ""],
    ])
    first, second = read_csv(path)
    assert first.arxiv_id == "1706.03762"
    assert first.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert first.categories == ["cs.CL", "cs.LG"]
    assert first.submitted == datetime(2017, 6, 12, 17, 57, 34)
    assert first.updated == datetime(2023, 8, 2)
    assert first.doi == "10.48550/arXiv.1706.03762"
    assert second.authors == ["Kaiming He", "Xiangyu Zhang"]
    assert second.categories == ["cs.CV", "cs.LG"]
    assert second.submitted == datetime(2015, 12, 10, 19, 51, 55)
    assert second.updated is None and second.doi is None


def test_tsv_and_gzip(tmp_path):
    rows = [["title", "summary", "paper_id", "date"], ["Tab Paper", "An abstract.", "2310.12345", "Oct 2, 2023"]]
    tsv = write_rows(tmp_path / "papers.tsv", rows, delimiter="\t")
    (record,) = read_csv(tsv)
    assert (record.title, record.arxiv_id, record.submitted) == ("Tab Paper", "2310.12345", datetime(2023, 10, 2))
    packed = tmp_path / "papers.csv.gz"
    with gzip.open(packed, "wt", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    assert detect_format(packed) == "csv"
    assert [r.title for r in read_path(packed)] == ["Tab Paper"]


def test_column_map_overrides_detection(tmp_path):
    path = write_rows(tmp_path / "custom.csv", [
        ["Paper Title", "Blurb", "title", "Identifier"],
        ["The Real Title", "The real abstract.", "a decoy", "2401.00001"],
    ])
    (record,) = read_csv(path, column_map={"title": "Paper Title", "abstract": "blurb", "id": "Identifier"})
    assert (record.title, record.abstract, record.arxiv_id) == ("The Real Title", "The real abstract.", "2401.00001")
    (plain,) = read_csv(path)  # without the map, the "title" column is found
    assert plain.title == "a decoy"


def test_unknown_mapped_column_fails_at_once_naming_the_columns(tmp_path):
    path = kaggle_classification_csv(tmp_path)
    with pytest.raises(ValueError) as error:
        read_csv(path, column_map={"title": "Paper Title"})
    message = str(error.value)
    assert "'Paper Title'" in message and "'terms', 'titles', 'summaries'" in message
    with pytest.raises(ValueError, match="unknown field 'titel'"):
        read_csv(path, column_map={"titel": "titles"})


def test_file_without_title_column(tmp_path):
    path = write_rows(tmp_path / "x.csv", [["name", "text"], ["a", "b"]])
    with pytest.raises(ValueError, match=r"no title column.*'name', 'text'.*--map title="):
        read_csv(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty file"):
        read_csv(empty)


def test_bad_rows_name_their_first_line_and_reading_goes_on(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "title,abstract,id,published\n"
        '"Multi\nline title",ok,2401.00001,2024-01-01\n'
        ",no title,2401.00002,2024-01-01\n"
        "Bad id,x,not-an-id,2024-01-01\n"
        "Bad date,x,2401.00003,someday\n"
        "Too,many,fields,2024-01-01,extra\n"
        "\n"
        "Fine,x,2401.00004,2024-01-02\n",
        encoding="utf-8",
    )
    items = list(read_csv(path))
    assert [type(i).__name__ for i in items] == ["PaperRecord"] + ["InvalidRecord"] * 4 + ["PaperRecord"]
    assert items[0].title == "Multi line title"
    assert [i.origin for i in items[1:]] == [f"{path}:{n}" for n in (4, 5, 6, 7, 9)]
    assert "empty title" in items[1].reason
    assert "not-an-id" in items[2].reason and "--map id=" in items[2].reason
    assert "someday" in items[3].reason
    assert "5 fields" in items[4].reason


def test_ids_can_be_ignored_with_an_empty_mapping(tmp_path):
    path = write_rows(tmp_path / "s2.csv", [["title", "paper_id"], ["A Paper", "e5f1c0a9"]])
    assert isinstance(next(read_csv(path)), InvalidRecord)
    (record,) = read_csv(path, column_map={"id": ""})
    assert isinstance(record, PaperRecord) and record.arxiv_id is None


def test_helpers():
    assert split_list("cs.LG cs.AI") == ["cs.LG", "cs.AI"]
    assert split_list("cs.LG;cs.AI") == ["cs.LG", "cs.AI"]
    assert split_list("cs.LG, cs.AI") == ["cs.LG", "cs.AI"]
    assert split_list("['cs.LG', \"cs.AI\"]") == ["cs.LG", "cs.AI"]
    assert split_list("[]") == []
    assert parse_datetime("2024-01-02") == datetime(2024, 1, 2)
    assert parse_datetime("2 January 2024") == datetime(2024, 1, 2)
    assert resolve_columns(["Summary", "TITLES"]) == {"title": 1, "abstract": 0}


def test_csv_import_then_kaggle_record_merges_by_title(db, tmp_path, kaggle_sample):
    from paperwire.sources.kaggle import read_kaggle

    first_kaggle = next(read_kaggle(kaggle_sample))
    path = write_rows(tmp_path / "titles.csv", [["title", "abstract"], [first_kaggle.title, "Short."]])
    import_items(db, read_csv(path))
    report = import_items(db, read_kaggle(kaggle_sample))
    assert (report.result.inserted, report.result.updated) == (199, 1)
    with db.session() as session:
        assert get_paper(session, "0704.0001").abstract == first_kaggle.abstract
