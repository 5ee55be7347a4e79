"""Import benchmark: all real Hugging Face daily lists (``shared/corpus/hf-daily-papers``).

Two runs in the same process, on the same files:

* **paperwire**: ``import_items(read_path(file), skip_invalid=True)`` per list
  into a fresh migrated SQLite database (every field kept, featured rows,
  title merge, lexical index triggers), without embedding;
* **baseline**: ``json.loads`` of each file and one bare ``executemany`` of
  the same rows (arXiv id, title, abstract, authors, day, upvotes, comments)
  into a plain SQLite table — the floor any importer has to pay.

Each run is timed without tracing, then repeated under ``tracemalloc`` for its
peak Python memory (tracing slows it, so the times come from the first pass).

    python bench/hf_import.py [--lists ../shared/corpus/hf-daily-papers]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

DEFAULT_LISTS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hf-daily-papers"


def run_paperwire(files: list[Path], folder: Path) -> dict:
    from paperwire.settings import get_settings
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database

    os.environ["PAPERWIRE_DATA_DIR"] = str(folder / "data")
    get_settings.cache_clear()
    db = open_database(f"sqlite:///{folder / 'paperwire.db'}")
    read = invalid = inserted = featured = 0
    start = time.perf_counter()
    for path in files:
        report = import_items(db, read_path(path), skip_invalid=True)
        read += report.read
        invalid += report.invalid
        inserted += report.result.inserted
        featured += report.result.featured
    seconds = time.perf_counter() - start
    db.close()
    return {"seconds": seconds, "entries": read, "invalid": invalid, "papers": inserted, "featured": featured}


def _row(entry: dict, day: str) -> tuple | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        return None  # the damaged lists' Python-repr strings
    paper = entry["paper"]
    authors = [a.get("name") for a in paper.get("authors") or [] if isinstance(a, dict)]
    return (paper.get("id"), paper.get("title"), paper.get("summary"), json.dumps(authors),
            (paper.get("submittedOnDailyAt") or day)[:10], paper.get("upvotes"), entry.get("numComments"))


def run_baseline(files: list[Path], folder: Path) -> dict:
    connection = sqlite3.connect(folder / "baseline.db")
    connection.execute(
        "CREATE TABLE papers (arxiv_id TEXT, title TEXT, abstract TEXT, authors TEXT, day TEXT, upvotes INT, comments INT)"
    )
    rows_total = invalid = 0
    start = time.perf_counter()
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data.get("data", []) if isinstance(data, dict) else data
        rows = [_row(e, path.stem) for e in entries]
        good = [r for r in rows if r is not None]
        invalid += len(rows) - len(good)
        with connection:
            connection.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?, ?, ?)", good)
        rows_total += len(good)
    seconds = time.perf_counter() - start
    connection.close()
    return {"seconds": seconds, "entries": rows_total, "invalid": invalid}


def measured(run, files: list[Path]) -> dict:
    with tempfile.TemporaryDirectory(prefix="pw-hf-bench-") as tmp:
        figures = run(files, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="pw-hf-bench-") as tmp:
        tracemalloc.start()
        run(files, Path(tmp))
        figures["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    figures["entries_per_s"] = figures["entries"] / figures["seconds"]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS)
    args = parser.parse_args(argv)
    files = sorted(args.lists.glob("*.json"))
    if not files:
        sys.exit(f"no lists in {args.lists}")
    load = os.getloadavg()
    results = {"paperwire": measured(run_paperwire, files), "baseline": measured(run_baseline, files)}
    print(f"{len(files)} lists; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'run':<10} {'entries':>8} {'invalid':>8} {'seconds':>8} {'entries/s':>10} {'peak MiB':>9}")
    for name, row in results.items():
        print(f"{name:<10} {row['entries']:>8} {row['invalid']:>8} {row['seconds']:>8.2f} "
              f"{row['entries_per_s']:>10.0f} {row['peak_mib']:>9.1f}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
