"""Import a generated corpus into a fresh database (SQLite or PostgreSQL) and report throughput.

Uses the real pipeline (``read_path`` + ``import_items``, no embeddings) and
prints papers/s, peak RSS and RSS sampled over time, to show that memory
stays flat however large the file is. In the same process (first, so its
memory does not hide ours) it runs the *baseline*: the same JSON lines parsed
with orjson and written with one bare ``executemany`` per batch into a table
with the papers' main text columns and a unique id, no normalisation, no
merge, no other index — the floor a Python importer can reach on this machine.

    python bench/import_throughput.py /tmp/corpus-100k.jsonl.gz --db /tmp/bench-100k.db
    python bench/import_throughput.py FILE --db DB --bulk             # as `paperwire import --bulk` (bigger batches,
                                                                      # SQLite's date/category indexes built at the end)
    python bench/import_throughput.py FILE --db DB --no-lexical       # the import alone, no tantivy build after
    python bench/import_throughput.py FILE --db postgresql+psycopg://user@host/db   # an empty PG database
    python bench/import_throughput.py FILE --backend postgres --pgdata /tmp/pw-bench-pg  # local pgserver, kept
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import orjson
from sqlalchemy import text

from paperwire.index.publish_lexical import publish_lexical_index
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.sources.parallel_import import import_in_parallel
from paperwire.sources.textfile import iter_lines
from paperwire.store.bulk_indexes import DEFERRED, deferred_indexes
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


def load() -> str:
    return "load %.2f %.2f %.2f" % os.getloadavg()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--db", help="SQLite file to create (must not exist) or a PostgreSQL URL")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres without --db: start a local PostgreSQL in --pgdata")
    parser.add_argument("--pgdata", type=Path, default=Path("/tmp/paperwire-bench-pg"),
                        help="data folder of the local PostgreSQL (kept for search_latency.py)")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--bulk", action="store_true",
                        help="as `import --bulk`: $PAPERWIRE_IMPORT_BULK_BATCH_SIZE-sized transactions (sets --batch-size)")
    parser.add_argument("--no-lexical", action="store_true",
                        help="skip the tantivy index build that `paperwire import` runs at its end")
    parser.add_argument("--drop-db-fts", action="store_true",
                        help="for databases from before migration 0014: drop the in-database full-text index first")
    parser.add_argument("--limit", type=int, default=0, help="import only the first N records (0: all)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare orjson+executemany baseline")
    parser.add_argument("--workers", type=int, default=1,
                        help="import processes (paperwire import --workers N); CPU time then counts all of them")
    args = parser.parse_args(argv)
    if args.bulk:
        from paperwire.settings import get_settings

        args.batch_size = get_settings().import_bulk_batch_size
    with bench_database(parser, args, fresh=True) as (url, size_of):
        run(args, url, size_of)


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the import workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def parser_error(message: str) -> None:
    raise SystemExit(f"import_throughput.py: {message}")


def limited(items, limit: int):
    for number, item in enumerate(items, start=1):
        if limit and number > limit:
            return
        yield item


def baseline(db, path: Path, batch_size: int, limit: int) -> tuple[int, float]:
    """orjson + one executemany per batch: the floor (see the module docstring)."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS baseline_papers"))
        key = "INTEGER PRIMARY KEY" if db.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        conn.execute(text(
            f"CREATE TABLE baseline_papers (id {key}, uid VARCHAR(64) UNIQUE NOT NULL, "
            "title TEXT, abstract TEXT, authors TEXT, categories TEXT, versions TEXT, updated TEXT)"
        ))
    sql = "INSERT INTO baseline_papers (uid, title, abstract, authors, categories, versions, updated) VALUES "
    sql += "(?, ?, ?, ?, ?, ?, ?)" if db.dialect == "sqlite" else "(%s, %s, %s, %s, %s, %s, %s)"
    started, cpu = time.perf_counter(), time.process_time()
    count, rows = 0, []

    def flush() -> None:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(sql, rows)
        rows.clear()

    for _number, line in iter_lines(path):
        data = orjson.loads(line)
        rows.append((data["id"], data["title"], data["abstract"], data["authors"], data["categories"],
                     orjson.dumps(data["versions"]).decode(), data["update_date"]))
        count += 1
        if len(rows) >= batch_size:
            flush()
        if limit and count >= limit:
            break
    if rows:
        flush()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE baseline_papers"))
    return count, elapsed, cpu


def drop_db_fts(db) -> None:
    """What migration 0014 (helper tantivy-default) removes, dropped here by SQL."""
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            for (name,) in conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'papers_fts_%'"
            )).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            conn.execute(text("ALTER TABLE papers DROP COLUMN IF EXISTS search_vector"))


def run(args, url: str, size_of) -> None:
    db = open_database(url)
    print(f"database: {db.dialect}  corpus: {args.corpus}  batch: {args.batch_size:,}  {load()} (start)")
    if not args.no_baseline:
        count, elapsed, cpu = baseline(db, args.corpus, args.batch_size, args.limit)
        print(f"baseline orjson+executemany: {count:,} in {elapsed:.1f} s = {count / elapsed:,.0f} papers/s "
              f"(CPU {cpu:.1f} s = {count / cpu:,.0f}/CPU-s)  RSS {rss_mb():.0f} MiB  {load()}")
    if args.drop_db_fts:
        drop_db_fts(db)
    samples: list[tuple[float, int, float]] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    wal = db.wal_path()
    wal_peak = 0

    def on_progress(read: int, _result) -> None:
        nonlocal wal_peak
        if wal is not None and wal.exists():
            wal_peak = max(wal_peak, wal.stat().st_size)
        elapsed = time.perf_counter() - started
        if not samples or read - samples[-1][1] >= max(args.batch_size, 50_000):
            samples.append((elapsed, read, rss_mb()))
        print(f"\r{read:,} papers  {read / elapsed:,.0f}/s  RSS {rss_mb():.0f} MiB", end="", file=sys.stderr)

    children_started = _children_cpu()
    large = args.bulk or args.workers > 1  # as the CLI: SQLite's date/category indexes built at the end
    with deferred_indexes(db.engine) if large else nullcontext():
        if args.workers > 1:
            if args.limit:
                parser_error("--limit does not combine with --workers")
            report = import_in_parallel(url, args.corpus, "kaggle", workers=args.workers,
                                        batch_size=args.batch_size, on_progress=on_progress)
        else:
            report = import_items(db, limited(read_path(args.corpus, "kaggle"), args.limit),
                                  batch_size=args.batch_size, on_progress=on_progress)
        rows_s = time.perf_counter() - started
    import_s = time.perf_counter() - started  # rows, then (large) the deferred indexes
    import_cpu = time.process_time() - cpu_started + _children_cpu() - children_started
    if not args.no_lexical:
        publish_lexical_index(db)
    rebuild_s = time.perf_counter() - started - import_s
    total_s = import_s + rebuild_s
    size_mb = size_of(db)
    db.close()
    print(file=sys.stderr)
    print(f"papers: {report.result.inserted:,} new, {report.invalid} invalid")
    print(f"import: {import_s:.1f} s = {report.read / import_s:,.0f} papers/s "
          f"(CPU {import_cpu:.1f} s = {report.read / import_cpu:,.0f}/CPU-s)  {load()}")
    if large and db.dialect == "sqlite":
        print(f"  of which building the deferred indexes ({', '.join(DEFERRED)}): {import_s - rows_s:.1f} s")
    if not args.no_lexical:
        print(f"lexical index (tantivy) build: {rebuild_s:.1f} s; overall {report.read / total_s:,.0f} papers/s")
    workers = ""
    if args.workers > 1:
        workers = f" (parent); largest worker {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB"
    print(f"peak RSS: {peak_rss_mb():.0f} MiB{workers}; database size: {size_mb:,.0f} MiB")
    if wal is not None:
        print(f"write-ahead log, largest seen after a batch: {wal_peak / 2**20:,.0f} MiB "
              f"(limit {db.wal_limit_bytes / 2**20:,.0f} MiB, PAPERWIRE_SQLITE_WAL_LIMIT_MB)")
    print("RSS over time (s, papers, MiB): " + ", ".join(f"({t:.0f}, {n:,}, {m:.0f})" for t, n, m in samples))


if __name__ == "__main__":
    main()
