"""The bulk import path (issue 17): big batches through ``store.paper_rows``
(executemany on SQLite, COPY + ``INSERT ... SELECT ... ON CONFLICT`` on
PostgreSQL) stay all-or-nothing per batch, resumable, idempotent, and give
the same records as the standard-library JSON reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.records import InvalidRecord
from paperwire.sources.importer import ImportFailed, import_items, progress_key
from paperwire.sources.kaggle import _exact_record, read_kaggle
from paperwire.store.models import ImportProgress, Paper
from paperwire.store.paper_rows import LOOKUP_CHUNK, insert_new_papers
from paperwire.store.papers import count_papers, get_paper, upsert_papers, utcnow
from tests.conftest import SHARED_CORPUS


def kaggle_line(i: int, *, version: int = 1, title: str | None = None, abstract: str | None = None) -> str:
    versions = [{"version": f"v{v}", "created": f"Mon, {v} Jan 2024 10:00:00 GMT"} for v in range(1, version + 1)]
    return json.dumps({
        "id": f"2401.{i:05d}", "submitter": "A. Author", "authors": "Ann Author and Bo Writer",
        "title": title or f"Synthetic paper number {i} on graph sparsification",
        "comments": None, "journal-ref": None, "doi": None, "report-no": None,
        "categories": "cs.LG stat.ML", "license": None,
        "abstract": abstract or f"  We study problem {i}.\n It is hard.\n",
        "versions": versions, "update_date": "2024-01-05",
        "authors_parsed": [["Author", "Ann", ""], ["Writer", "Bo", ""]],
    })


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(db) -> int:
    with db.session() as session:
        return count_papers(session)


def test_bad_record_in_batch_k_keeps_earlier_batches_names_the_line_and_resume_goes_on(db, tmp_path):
    lines = [kaggle_line(i) for i in range(1, 301)]
    lines[229] = '{"id": "2401.99999", "title": '  # line 230, in the fifth batch of 50
    path = write(tmp_path / "bad.jsonl", lines)
    key = progress_key(path, "kaggle")
    with pytest.raises(ImportFailed) as failure:
        import_items(db, read_kaggle(path), batch_size=50, resume_key=key)
    assert str(failure.value.error).startswith(f"{path}:230: not valid JSON")
    assert stored(db) == 200  # batches 1-4 kept, nothing of batch 5
    with db.session() as session:
        assert get_paper(session, "2401.00200") is not None
        assert get_paper(session, "2401.00201") is None
        assert session.get(ImportProgress, key).lines_done == 200
    report = import_items(db, read_kaggle(path), batch_size=50, resume_key=key, skip_invalid=True)
    assert report.skipped_resumed == 200
    assert (report.read, report.invalid, report.result.inserted) == (99, 1, 99)
    assert stored(db) == 299


def test_interrupted_import_resumes_after_the_last_committed_batch(db, tmp_path):
    path = write(tmp_path / "big.jsonl", [kaggle_line(i) for i in range(1, 251)])
    key = progress_key(path, "kaggle")

    def interrupted():
        for number, item in enumerate(read_kaggle(path), start=1):
            if number == 175:
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        import_items(db, interrupted(), batch_size=60, resume_key=key)
    assert stored(db) == 120
    report = import_items(db, read_kaggle(path), batch_size=60, resume_key=key)
    assert (report.skipped_resumed, report.result.inserted) == (120, 130)
    assert stored(db) == 250
    again = import_items(db, read_kaggle(path), batch_size=60, resume_key=key)  # finished: from the start, idempotent
    assert (again.skipped_resumed, again.result.inserted, again.result.unchanged) == (0, 0, 250)


def test_reimport_updates_fields_instead_of_duplicating(db, tmp_path):
    first = write(tmp_path / "v1.jsonl", [kaggle_line(i) for i in range(1, 101)])
    import_items(db, read_kaggle(first), batch_size=1000)
    changed = [kaggle_line(i, version=2, title=f"Revised paper {i}", abstract="A new abstract.") if i % 10 == 0
               else kaggle_line(i) for i in range(1, 101)]
    report = import_items(db, read_kaggle(write(tmp_path / "v2.jsonl", changed)), batch_size=1000)
    assert (report.result.inserted, report.result.updated, report.result.unchanged) == (0, 10, 90)
    assert stored(db) == 100
    with db.session() as session:
        paper = get_paper(session, "2401.00010")
        assert (paper.title, paper.abstract, paper.latest_version) == ("Revised paper 10", "A new abstract.", 2)
        assert [v["version"] for v in paper.versions] == [1, 2]
        untouched = get_paper(session, "2401.00011")
        assert untouched.abstract == "We study problem 11. It is hard."
        assert untouched.authors == ["Ann Author", "Bo Writer"]
        assert untouched.author_names == [{"name": "Ann Author", "family": "Author", "given": "Ann"},
                                          {"name": "Bo Writer", "family": "Writer", "given": "Bo"}]
        assert untouched.categories == " cs.LG stat.ML "


def test_a_batch_larger_than_one_lookup_chunk(db, tmp_path):
    count = LOOKUP_CHUNK + 700
    path = write(tmp_path / "many.jsonl", [kaggle_line(i) for i in range(1, count + 1)])
    first = import_items(db, read_kaggle(path), batch_size=count)
    assert first.result.inserted == count
    again = import_items(db, read_kaggle(path), batch_size=count)
    assert (again.result.inserted, again.result.unchanged) == (0, count)
    with db.session() as session:
        assert session.scalar(select(func.count(func.distinct(Paper.uid)))) == count


def test_a_row_another_writer_inserted_meanwhile_is_an_integrity_error(db, tmp_path):
    """What the importer's retry relies on, on both backends (COPY path: ON CONFLICT returns fewer rows)."""
    path = write(tmp_path / "one.jsonl", [kaggle_line(1), kaggle_line(2)])
    import_items(db, read_kaggle(path))
    with db.session() as session:
        row = {column.name: getattr(get_paper(session, "2401.00001"), column.name)
               for column in Paper.__table__.columns if column.name != "id"}
    row["imported_at"] = utcnow()
    with pytest.raises(IntegrityError), db.session() as session:
        insert_new_papers(session, [row])
    assert stored(db) == 2


def test_upsert_result_lists_the_new_ids(db, tmp_path):
    records = list(read_kaggle(write(tmp_path / "ids.jsonl", [kaggle_line(i) for i in range(1, 6)])))
    with db.session() as session:
        result = upsert_papers(session, records)
        ids = [get_paper(session, f"2401.{i:05d}").id for i in range(1, 6)]
    assert result.changed_ids == ids


def _ids_by_uid(db) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(Paper.uid, Paper.id)).tuples().all())


def test_new_ids_are_the_stored_ones_after_the_newest_paper_was_deleted(db, tmp_path):
    """The SQLite path gives the ids SQLite would pick instead of reading them back: they must match."""
    from sqlalchemy import delete

    import_items(db, read_kaggle(write(tmp_path / "a.jsonl", [kaggle_line(i) for i in range(1, 6)])))
    with db.session() as session:
        session.execute(delete(Paper).where(Paper.uid == "2401.00005"))
    records = list(read_kaggle(write(tmp_path / "b.jsonl", [kaggle_line(i) for i in range(5, 12)])))
    with db.session() as session:
        result = upsert_papers(session, records)
    stored_ids = _ids_by_uid(db)
    assert result.changed_ids == [stored_ids[f"2401.{i:05d}"] for i in range(5, 12)]
    assert len(set(stored_ids.values())) == 11


def test_new_ids_near_the_largest_rowid_are_read_back(db, tmp_path):
    if db.dialect != "sqlite":
        pytest.skip("SQLite's rowid limit")
    from sqlalchemy import update

    import_items(db, read_kaggle(write(tmp_path / "a.jsonl", [kaggle_line(1)])))
    with db.session() as session:
        session.execute(update(Paper).values(id=2**63 - 3))
    records = list(read_kaggle(write(tmp_path / "b.jsonl", [kaggle_line(i) for i in range(2, 7)])))
    with db.session() as session:
        result = upsert_papers(session, records)
    stored_ids = _ids_by_uid(db)
    assert result.inserted == 5 and len(stored_ids) == 6
    assert result.changed_ids == [stored_ids[f"2401.{i:05d}"] for i in range(2, 7)]


def test_bulk_cli_import_then_search(tmp_path):
    path = write(tmp_path / "cli.jsonl", [kaggle_line(i) for i in range(1, 41)])
    runner = CliRunner()
    result = runner.invoke(app, ["import", "--bulk", "--no-embed", "--json", str(path)])
    assert result.exit_code == 0, (result.stdout, result.exception)
    assert json.loads(result.stdout)[str(path)]["inserted"] == 40
    found = runner.invoke(app, ["search", "--json", "sparsification"])
    assert found.exit_code == 0, found.stdout
    assert len(json.loads(found.stdout)) == 10


@pytest.mark.parametrize("line", [
    '{"id": "2401.00001", "title": "NaN in a field", "abstract": "x", "report-no": NaN}',
    '{"id": "2401.00002", "title": "lone \\ud800 surrogate", "abstract": "x"}',
    '{"id": "2401.00003", "title": "huge", "versions": [{"version": 123456789012345678901234567890}]}',
    '{"id": "2401.00004", "title": 123456789012345678901234567890}',
    '{"id": "2401.00005", "title": "t", "versions": [{"version": "v1.5"}]}',
    '[1, 2]', '{"id": ', '"text"', '{"id": "2401.00006", "title": "dup", "title": "last wins"}',
])
def test_orjson_reader_gives_what_json_loads_gives(tmp_path, line):
    path = write(tmp_path / "edge.jsonl", [line])
    (got,) = list(read_kaggle(path))
    want = _exact_record(line + "\n", f"{path}:1")
    if isinstance(want, InvalidRecord):
        assert isinstance(got, InvalidRecord) and str(got) == str(want)
    else:
        assert got == want


def test_orjson_reader_matches_json_loads_on_the_real_sample():
    path = SHARED_CORPUS / "arxiv-metadata-sample.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    got = list(read_kaggle(path))
    assert got == [_exact_record(line, f"{path}:{n}") for n, line in enumerate(lines, start=1)]
