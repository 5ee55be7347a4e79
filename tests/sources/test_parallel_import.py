"""``paperwire import --workers N``: one Kaggle file split between worker
processes by line number gives exactly what a serial import gives, stays
all-or-nothing per batch, names a bad line, stops every worker after it and
resumes each worker where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.sources.importer import ImportFailed, import_items, progress_key
from paperwire.sources.kaggle import read_kaggle
from paperwire.sources.parallel_import import import_in_parallel
from paperwire.store.db import open_database
from paperwire.store.models import Paper
from tests.conftest import sqlite_only
from tests.sources.test_bulk_import import kaggle_line, write


def papers_of(url: str) -> list[tuple]:
    database = open_database(url, migrate_schema=False)
    try:
        with database.session() as session:
            return sorted(session.execute(select(
                Paper.uid, Paper.title, Paper.abstract, Paper.authors_text, Paper.categories, Paper.submitted_at,
                Paper.latest_version, Paper.content_hash)).all())
    finally:
        database.close()


def test_two_workers_store_exactly_what_one_import_stores(db, db_url, tmp_path):
    lines = [kaggle_line(i, version=1 + i % 3) for i in range(1, 121)]
    lines[41] = kaggle_line(7, version=4, abstract="A newer version of paper 7.")  # line 42: the other worker
    path = write(tmp_path / "snapshot.jsonl", lines)
    report = import_in_parallel(db_url, path, "kaggle", workers=2, batch_size=25,
                                resume_key=progress_key(path, "kaggle"))
    assert report.read == 120 and report.result.inserted + report.result.updated + report.result.unchanged == 120
    parallel = papers_of(db_url)
    assert len(parallel) == 119

    serial_url = f"sqlite:///{tmp_path / 'serial.db'}"
    serial_db = open_database(serial_url)
    import_items(serial_db, read_kaggle(path), batch_size=25)
    serial_db.close()
    assert parallel == papers_of(serial_url)
    seven = next(row for row in parallel if row[0] == "2401.00007")
    assert seven.abstract == "A newer version of paper 7." and seven.latest_version == 4


@sqlite_only
def test_two_workers_keep_the_sqlite_write_ahead_log_near_its_limit(db, db_url, tmp_path, monkeypatch):
    """Workers taking turns at the write lock never let SQLite's passive checkpoint
    restart the log: it grew to 5-6 GB in a 1M-paper import. Past the limit, the
    batch that finds it so checkpoints it in full and the log starts over."""
    monkeypatch.setenv("PAPERWIRE_SQLITE_WAL_LIMIT_MB", "1")  # the spawned workers read it too
    words = " ".join(f"term{i}" for i in range(300))  # ~3 kB a paper: ~1.3 MiB of log a batch
    path = write(tmp_path / "snapshot.jsonl", [kaggle_line(i, abstract=f"{i} {words}") for i in range(1, 12_001)])
    wal = db.wal_path()
    sizes: list[int] = []

    def sample(_read, _result) -> None:
        sizes.append(wal.stat().st_size if wal.exists() else 0)

    report = import_in_parallel(db_url, path, "kaggle", workers=2, batch_size=300, on_progress=sample)
    assert report.result.inserted == 12_000 and len(sizes) >= 40
    # the limit plus about one batch of each worker; unbounded it reached 8-10 MiB here
    assert max(sizes) <= 4 * 1024 * 1024, [round(size / 2**20, 1) for size in sizes]


def test_a_bad_line_is_named_stops_all_workers_and_a_rerun_resumes(db, db_url, tmp_path):
    lines = [kaggle_line(i) for i in range(1, 201)]
    lines[120] = '{"id": "2401.99999", "title": '  # line 121: worker 2 of 2 (odd lines), its fourth batch
    path = write(tmp_path / "bad.jsonl", lines)
    key = progress_key(path, "kaggle")
    with pytest.raises(ImportFailed) as failure:
        import_in_parallel(db_url, path, "kaggle", workers=2, batch_size=20, resume_key=key)
    assert str(failure.value.error).startswith(f"{path}:121: not valid JSON")
    kept = {row[0] for row in papers_of(db_url)}
    assert kept and len(kept) % 20 == 0  # whole batches only
    assert "2401.00119" in kept and "2401.00123" not in kept  # the failing batch of the odd lines wrote nothing

    report = import_in_parallel(db_url, path, "kaggle", workers=2, batch_size=20, resume_key=key,
                                skip_invalid=True)
    assert report.skipped_resumed > 0  # each worker went on from its own saved position
    assert report.invalid == 1 and "2401.99999" not in {row[0] for row in papers_of(db_url)}
    assert len(papers_of(db_url)) == 199


def test_other_formats_are_refused_rather_than_split_wrongly(db_url, tmp_path):
    path = write(tmp_path / "list.json", [json.dumps([])])
    with pytest.raises(ValueError, match="cannot be split"):
        import_in_parallel(db_url, path, "hf-daily", workers=2, batch_size=10)


def test_the_cli_imports_with_workers_and_says_how_many(db_url, tmp_path):
    path = write(tmp_path / "snapshot.jsonl", [kaggle_line(i) for i in range(1, 61)])
    result = CliRunner().invoke(app, ["import", str(path), "--workers", "2", "--db", db_url])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "(2 workers): 60 read, 60 new" in said
    assert len(papers_of(db_url)) == 60
    again = CliRunner().invoke(app, ["import", str(path), "--workers", "2", "--db", db_url])
    assert again.exit_code == 0 and "0 new, 0 updated, 60 unchanged" in " ".join(again.output.split())
