"""``paperwire import``, ``stats`` and ``show`` driven through the real CLI."""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
from datetime import datetime

import pytest
from typer.testing import CliRunner

from paperwire.cli import app


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def squash(text: str) -> str:
    """Text without any whitespace, so rich's line wrapping cannot break a comparison."""
    return "".join(text.split())


def import_json(cli, *args, code: int = 0) -> dict:
    result = cli("import", "--no-embed", "--json", *args, code=code)
    return json.loads(result.stdout)


def stats(cli) -> dict:
    return json.loads(cli("stats", "--json").stdout)


def test_import_show_stats_and_idempotent_reimport(cli, kaggle_sample):
    report = import_json(cli, kaggle_sample)[str(kaggle_sample)]
    assert (report["read"], report["inserted"], report["invalid"]) == (200, 200, 0)
    figures = stats(cli)
    assert figures["papers"] == 200 and figures["papers_with_arxiv_id"] == 200
    assert figures["newest_paper"].startswith("2007-")
    detail = json.loads(cli("show", "0704.0001v2", "--json").stdout)
    assert detail["id"] == "0704.0001"
    assert detail["authors"][0] == "C. Balázs"
    assert detail["categories"] == ["hep-ph"]
    assert detail["published"] == "2007-04-02"
    assert detail["latest_version"] == 2
    assert detail["doi"] == "10.1103/PhysRevD.76.013009"
    assert detail["source"] == "kaggle"
    again = import_json(cli, kaggle_sample)[str(kaggle_sample)]
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 200)
    assert stats(cli)["papers"] == 200


def test_bad_line_stops_with_file_and_line_and_keeps_earlier_batches(cli, kaggle_sample, tmp_path):
    lines = kaggle_sample.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines[:10] + ["{not json"] + lines[10:30]) + "\n", encoding="utf-8")
    result = cli("import", "--no-embed", "--batch-size", "4", path, code=1)
    errors = squash(result.stderr)
    assert squash(f"{path}:11: not valid JSON") in errors
    assert squash("nothing of the failing batch was written") in errors
    assert squash("--skip-invalid") in errors
    assert stats(cli)["papers"] == 8  # two batches of four were committed
    skipped = import_json(cli, "--skip-invalid", path)[str(path)]
    assert skipped["invalid"] == 1
    assert skipped["errors"][0].startswith(f"{path}:11: not valid JSON")
    assert stats(cli)["papers"] == 30


def test_skip_invalid_reports_in_text_mode(cli, tmp_path, kaggle_sample):
    lines = kaggle_sample.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "two-bad.jsonl"
    path.write_text("\n".join([lines[0], '{"id": "0704.0002"}', lines[2], "oops"]) + "\n", encoding="utf-8")
    result = cli("import", "--no-embed", "--skip-invalid", path)
    text = squash(result.stderr)
    assert squash("2 read, 2 new, 0 updated, 0 unchanged, 0 featured, 2 invalid") in text
    assert squash(f"skipped {path}:2") in text and squash(f"skipped {path}:4") in text


def test_gzipped_input(cli, kaggle_sample, tmp_path):
    path = tmp_path / "arxiv-metadata.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(kaggle_sample.read_text(encoding="utf-8"))
    assert import_json(cli, path)[str(path)]["inserted"] == 200


def test_newer_version_updates(cli, kaggle_sample, tmp_path):
    record = next(r for r in map(json.loads, kaggle_sample.read_text().splitlines()) if len(r["versions"]) == 1)
    v1 = tmp_path / "v1.jsonl"
    v1.write_text(json.dumps(record) + "\n")
    record["versions"].append({"version": "v2", "created": "Wed, 2 May 2007 08:00:00 GMT"})
    record["title"] = "A Better Title"
    v2 = tmp_path / "v2.jsonl"
    v2.write_text(json.dumps(record) + "\n")
    import_json(cli, v1)
    report = import_json(cli, v2)[str(v2)]
    assert (report["inserted"], report["updated"]) == (0, 1)
    detail = json.loads(cli("show", record["id"], "--json").stdout)
    assert detail["title"] == "A Better Title" and detail["latest_version"] == 2


def test_pages_then_hf_daily_merge_once_the_arxiv_id_is_known(cli, pages_files, tmp_path):
    page = tmp_path / pages_files[1].name  # the page without a day line: featured on its file date
    shutil.copyfile(pages_files[1], page)
    stamp = datetime(2025, 11, 20, 12, 0).timestamp()
    os.utime(page, (stamp, stamp))
    report = import_json(cli, page)[str(page)]
    assert (report["inserted"], report["featured"], report["invalid"]) == (119, 119, 0)
    before = stats(cli)
    assert before["papers_with_arxiv_id"] == 0 and before["featured_days"] == 1

    daily = tmp_path / "daily.json"
    daily.write_text(json.dumps([{
        "paper": {"id": "2001.08361", "title": "Scaling Laws for Neural Language Models",
                  "summary": "We study empirical scaling laws.", "authors": [{"name": "Jared Kaplan"}],
                  "publishedAt": "2020-01-23T02:43:38.000Z", "upvotes": 12},
        "publishedAt": "2025-11-21T08:00:00.000Z", "title": "Scaling Laws for Neural Language Models",
        "numComments": 2, "submittedBy": {"fullname": "AK", "name": "akhaliq"},
    }]))
    merged = import_json(cli, daily)[str(daily)]
    assert (merged["inserted"], merged["updated"], merged["featured"]) == (0, 1, 1)
    after = stats(cli)
    assert after["papers"] == before["papers"] and after["papers_with_arxiv_id"] == 1
    assert after["featured_days"] == 2
    detail = json.loads(cli("show", "2001.08361", "--json").stdout)
    assert detail["title"] == "Scaling Laws for Neural Language Models"
    assert detail["authors"] == ["Jared Kaplan"]


def test_csv_with_map(cli, tmp_path):
    path = tmp_path / "mine.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["Headline", "Text", "Tags"],
            ["Mapped Paper", "An abstract from a mapped column.", "cs.LG;cs.AI"],
        ])
    report = import_json(cli, "--map", "title=Headline", "--map", "abstract=Text", "--map", "categories=Tags", path)
    assert report[str(path)]["inserted"] == 1
    assert stats(cli)["papers"] == 1

    missing = cli("import", "--no-embed", "--map", "title=Name", path, code=2)
    assert squash("column 'Name' (for title) is not in the file; available columns: 'Headline', 'Text', 'Tags'") \
        in squash(missing.stderr)
    no_title = cli("import", "--no-embed", path, code=2)
    assert squash("no title column found") in squash(no_title.stderr)
    malformed = cli("import", "--no-embed", "--map", "title", path, code=2)
    assert "FIELD=COLUMN" in malformed.stderr


def test_errors_for_bad_format_missing_file_and_unknown_paper(cli, kaggle_sample, tmp_path):
    wrong = cli("import", "--no-embed", "--format", "nope", kaggle_sample, code=2)
    assert squash("unknown format 'nope'") in squash(wrong.stderr)
    cli("import", "--no-embed", tmp_path / "missing.jsonl", code=2)
    unknown = tmp_path / "notes.bin"
    unknown.write_bytes(b"\x00\x01binary")
    assert squash("not a text file (binary data at byte 0)") in squash(cli("import", "--no-embed", unknown, code=2).stderr)
    absent = cli("show", "9999.99999", "--json", code=1)
    assert "no paper with id '9999.99999'" in absent.stderr
