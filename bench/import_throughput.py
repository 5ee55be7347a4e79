"""Import a generated corpus into a fresh database (SQLite or PostgreSQL) and report throughput.

Uses the real pipeline (``read_path`` + ``import_items``, no embeddings) and
prints papers/s, peak RSS and RSS sampled over time, to show that memory
stays flat however large the file is.

    python bench/import_throughput.py /tmp/corpus-100k.jsonl.gz --db /tmp/bench-100k.db
    python bench/import_throughput.py FILE --db DB --no-lexical   # the import alone, no tantivy build after
    python bench/import_throughput.py FILE --db postgresql+psycopg://user@host/db   # an empty PG database
    python bench/import_throughput.py FILE --backend postgres --pgdata /tmp/pw-bench-pg  # local pgserver, kept
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from paperwire.index.publish_lexical import publish_lexical_index
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.db import open_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import bench_database  # noqa: E402


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--db", help="SQLite file to create (must not exist) or a PostgreSQL URL")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres without --db: start a local PostgreSQL in --pgdata")
    parser.add_argument("--pgdata", type=Path, default=Path("/tmp/paperwire-bench-pg"),
                        help="data folder of the local PostgreSQL (kept for search_latency.py)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--no-lexical", action="store_true",
                        help="skip the tantivy index build that `paperwire import` runs at its end")
    parser.add_argument("--no-fts-triggers", action="store_true",
                        help="ignored (the database has no full-text triggers since migration 0014)")
    args = parser.parse_args(argv)
    with bench_database(parser, args, fresh=True) as (url, size_of):
        run(args, url, size_of)


def run(args, url: str, size_of) -> None:
    db = open_database(url)
    samples: list[tuple[float, int, float]] = []
    started = time.perf_counter()

    def on_progress(read: int, _result) -> None:
        if read % 20_000 < args.batch_size:
            elapsed = time.perf_counter() - started
            samples.append((elapsed, read, rss_mb()))
            print(f"\r{read:,} papers  {read / elapsed:,.0f}/s  RSS {rss_mb():.0f} MiB", end="", file=sys.stderr)

    report = import_items(db, read_path(args.corpus, "kaggle"), batch_size=args.batch_size,
                          on_progress=on_progress)
    import_s = time.perf_counter() - started
    if not args.no_lexical:
        publish_lexical_index(db)
    rebuild_s = time.perf_counter() - started - import_s
    total_s = import_s + rebuild_s
    size_mb = size_of(db)
    db.close()
    print(file=sys.stderr)
    print(f"database: {db.dialect}  corpus: {args.corpus}  papers: {report.result.inserted:,} new, "
          f"{report.invalid} invalid")
    print(f"import: {import_s:.1f} s = {report.read / import_s:,.0f} papers/s")
    if not args.no_lexical:
        print(f"lexical index (tantivy) build: {rebuild_s:.1f} s; overall {report.read / total_s:,.0f} papers/s")
    print(f"peak RSS: {peak_rss_mb():.0f} MiB; database size: {size_mb:,.0f} MiB")
    print("RSS over time (s, papers, MiB): " + ", ".join(f"({t:.0f}, {n:,}, {m:.0f})" for t, n, m in samples))


if __name__ == "__main__":
    main()
