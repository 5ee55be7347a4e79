"""The Kaggle arXiv snapshot reader, on the real sample and on broken variants."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.formats import detect_format, read_path
from paperwire.sources.importer import ImportFailed, import_items
from paperwire.sources.kaggle import parse_rfc_date, read_kaggle, split_author_string
from paperwire.store.papers import count_papers, get_paper


def sample_lines(kaggle_sample: Path) -> list[str]:
    return kaggle_sample.read_text(encoding="utf-8").splitlines()


def test_reads_every_record_of_the_real_sample(kaggle_sample):
    records = list(read_kaggle(kaggle_sample))
    assert len(records) == 200
    assert all(isinstance(r, PaperRecord) for r in records)
    assert records[0].arxiv_id == "0704.0001"
    assert records[-1].arxiv_id == "0704.0200"
    assert {r.source for r in records} == {"kaggle"}
    assert records[0].origin == f"{kaggle_sample}:1"


def test_fills_every_field_the_format_has(kaggle_sample):
    first = next(read_kaggle(kaggle_sample))
    # Newline and double spaces of the raw title are collapsed.
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert first.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is presented")
    assert "\n" not in first.abstract and "  " not in first.abstract
    # authors_parsed wins over the LaTeX-escaped authors string, in order.
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert first.categories == ["hep-ph"]
    assert [v.version for v in first.versions] == [1, 2]
    assert first.versions[0].created == datetime(2007, 4, 2, 19, 18, 42)
    assert first.submitted == datetime(2007, 4, 2, 19, 18, 42)
    assert first.updated == datetime(2007, 7, 24, 20, 10, 27)
    assert first.latest_version == 2
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comments == "37 pages, 15 figures; published version"
    assert first.license is None


def test_primary_category_first_and_license(kaggle_sample):
    second = list(read_kaggle(kaggle_sample))[1]
    assert second.categories == ["math.CO", "cs.CG"]
    assert second.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert second.authors == ["Ileana Streinu", "Louis Theran"]


def test_affiliation_in_authors_parsed_is_not_part_of_the_name(kaggle_sample):
    names = [name for r in read_kaggle(kaggle_sample) for name in r.authors]
    assert "Arthur Jaffe" in names
    assert not any("Harvard" in name for name in names)


def test_falls_back_to_the_authors_string(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "2310.00001", "title": "T", "authors": "Ann Lee, Bo Chen and\n  Cy Dee"}) + "\n")
    (record,) = read_kaggle(path)
    assert record.authors == ["Ann Lee", "Bo Chen", "Cy Dee"]
    assert split_author_string("A. One and B. Two") == ["A. One", "B. Two"]


def test_old_style_and_versioned_ids_are_canonical(tmp_path):
    path = tmp_path / "x.jsonl"
    lines = [
        {"id": "hep-th/9901001", "title": "Old", "versions": [{"version": "v1", "created": "Fri, 1 Jan 1999 00:00:00 GMT"}]},
        {"id": "2310.12345v3", "title": "New"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    old, new = read_kaggle(path)
    assert old.arxiv_id == "hep-th/9901001" and old.submitted == datetime(1999, 1, 1)
    assert new.arxiv_id == "2310.12345" and new.latest_version == 3


def test_rfc_dates_with_other_zones():
    assert parse_rfc_date("Mon, 2 Apr 2007 19:18:42 GMT") == datetime(2007, 4, 2, 19, 18, 42)
    assert parse_rfc_date("Mon, 2 Apr 2007 21:18:42 +0200") == datetime(2007, 4, 2, 19, 18, 42)
    with pytest.raises((ValueError, TypeError)):
        parse_rfc_date("yesterday")


def test_bad_lines_are_reported_with_file_and_line_and_reading_goes_on(tmp_path, kaggle_sample):
    lines = sample_lines(kaggle_sample)[:3]
    bad = [
        lines[0],
        "",  # blank: skipped silently
        "{not json",
        json.dumps({"id": "0704.9999"}),  # no title
        json.dumps({"title": "No id"}),
        json.dumps({"id": "nonsense", "title": "Bad id"}),
        "[1, 2]",
        json.dumps({"id": "0704.0010", "title": "Bad date", "versions": [{"version": "v1", "created": "soon"}]}),
        lines[1],
    ]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(bad) + "\n")
    items = list(read_kaggle(path))
    assert [type(i).__name__ for i in items] == ["PaperRecord"] + ["InvalidRecord"] * 6 + ["PaperRecord"]
    errors = [i for i in items if isinstance(i, InvalidRecord)]
    assert [e.origin for e in errors] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7, 8)]
    assert "not valid JSON" in errors[0].reason
    assert "title" in errors[1].reason
    assert "id" in errors[2].reason
    assert "nonsense" in errors[3].reason
    assert "JSON object" in errors[4].reason
    assert str(errors[0]).startswith(f"{path}:3: ")


def test_gzipped_snapshot(tmp_path, kaggle_sample):
    path = tmp_path / "arxiv.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(kaggle_sample.read_text(encoding="utf-8"))
    assert detect_format(path) == "kaggle"
    records = list(read_path(path))
    assert len(records) == 200 and records[5].arxiv_id == "0704.0006"


def test_import_sample_then_reimport_is_idempotent(db, kaggle_sample):
    first = import_items(db, read_kaggle(kaggle_sample), batch_size=64)
    assert (first.read, first.result.inserted, first.invalid) == (200, 200, 0)
    again = import_items(db, read_kaggle(kaggle_sample), batch_size=64)
    assert (again.result.inserted, again.result.updated, again.result.unchanged) == (0, 0, 200)
    with db.session() as session:
        assert count_papers(session) == 200
        paper = get_paper(session, "0704.0001")
        assert paper.authors_text == "C. Balázs, E. L. Berger, P. M. Nadolsky, C. -P. Yuan"
        assert paper.primary_category == "hep-ph"
        assert [v["version"] for v in paper.versions] == [1, 2]


def test_newer_version_updates_the_stored_paper(db, tmp_path, kaggle_sample):
    record = next(r for r in map(json.loads, sample_lines(kaggle_sample)) if len(r["versions"]) == 1)
    v1 = tmp_path / "v1.jsonl"
    v1.write_text(json.dumps(record) + "\n")
    import_items(db, read_kaggle(v1))
    record["versions"].append({"version": "v2", "created": "Tue, 1 May 2007 10:00:00 GMT"})
    record["abstract"] = "A revised abstract."
    v2 = tmp_path / "v2.jsonl"
    v2.write_text(json.dumps(record) + "\n")
    report = import_items(db, read_kaggle(v2))
    assert (report.result.inserted, report.result.updated) == (0, 1)
    again = import_items(db, read_kaggle(v1))  # the older version changes nothing
    assert again.result.updated == 0
    with db.session() as session:
        paper = get_paper(session, record["id"])
        assert paper.abstract == "A revised abstract."
        assert paper.latest_version == 2
        assert paper.updated_at == datetime(2007, 5, 1, 10, 0)


def test_invalid_line_stops_import_keeping_earlier_batches(db, tmp_path, kaggle_sample):
    lines = sample_lines(kaggle_sample)
    path = tmp_path / "stops.jsonl"
    path.write_text("\n".join(lines[:10] + ["{oops"] + lines[10:20]) + "\n")
    with pytest.raises(ImportFailed) as failure:
        import_items(db, read_kaggle(path), batch_size=4)
    assert failure.value.error.origin == f"{path}:11"
    with db.session() as session:
        # Batches of 4: records 1-8 were committed, 9-10 were in the failing batch.
        assert count_papers(session) == 8
        assert get_paper(session, "0704.0008") is not None
        assert get_paper(session, "0704.0009") is None


def test_skip_invalid_counts_and_goes_on(db, tmp_path, kaggle_sample):
    lines = sample_lines(kaggle_sample)
    path = tmp_path / "skip.jsonl"
    path.write_text("\n".join(lines[:5] + ["{oops", '{"id": "0704.0100"}'] + lines[5:8]) + "\n")
    report = import_items(db, read_kaggle(path), skip_invalid=True)
    assert (report.read, report.invalid, report.result.inserted) == (8, 2, 8)
    assert report.errors[0].startswith(f"{path}:6: not valid JSON")
    assert report.errors[1].startswith(f"{path}:7: ")
