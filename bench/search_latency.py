"""Lexical search latency (p50/p95/p99) on an existing database, as a markdown table.

Queries are drawn from the database itself so they match its vocabulary:
1-3 content words of random titles/abstracts, phrases cut from abstracts,
and the same with ``cat:`` / ``after:`` filters; plus filter-only queries.

    python bench/search_latency.py --db /tmp/bench-100k.db --queries 200
    python bench/search_latency.py --backend postgres --pgdata /tmp/paperwire-bench-pg   # after import_throughput
    python bench/search_latency.py --db postgresql+psycopg://user@host/db

The database's tantivy generation is published first if it is missing or
stale (timed). A second table times the index alone (the searcher's query
translation, so the same query shape + tantivy top-k + reading the ids) on the same queries in the same pass, each
query through both paths in turn, so the difference to the first table is
paperwire's own per-query work (visibility check, loading the papers' result
columns, snippets). By default every query runs once through both paths
before timing, as on a server whose index is in memory; ``--no-warm`` times
first runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import tantivy
from sqlalchemy import func, select

from paperwire.index.query import STOPWORDS, parse_query, terms
from paperwire.index.search import lexical_search
from paperwire.store.db import open_database
from paperwire.store.models import Paper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import bench_database  # noqa: E402

CATS = ["cs.LG", "cs", "math", "hep-th", "cs.CV", "quant-ph", "stat.ML", "astro-ph"]


def sample_texts(db, n: int, rng: random.Random) -> list[tuple[str, str]]:
    with db.session() as session:
        top = session.scalar(select(func.max(Paper.id))) or 0
        ids = [rng.randint(1, top) for _ in range(n)]
        return [(t, a) for t, a in session.execute(select(Paper.title, Paper.abstract).where(Paper.id.in_(ids)))]


def make_queries(texts: list[tuple[str, str]], n: int, rng: random.Random) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"1 word": [], "2 words": [], "3 words": [], "phrase": [],
                                   "words + cat:/after:": [], "filters only": []}
    for i in range(n):
        title, abstract = texts[i % len(texts)]
        words = [w for w in terms(title + " " + abstract) if w not in STOPWORDS and len(w) > 2]
        if len(words) < 3:
            continue
        k = i % 5
        if k < 3:
            kinds[f"{k + 1} word" + ("s" if k else "")].append(" ".join(rng.sample(words, k + 1)))
        elif k == 3:
            tokens = abstract.split()
            start = rng.randrange(max(1, len(tokens) - 2))
            kinds["phrase"].append('"' + " ".join(tokens[start:start + 2]) + '"')
        else:
            kinds["words + cat:/after:"].append(
                f"{' '.join(rng.sample(words, 2))} cat:{rng.choice(CATS)} after:{rng.randint(2010, 2024)}")
        if i % 10 == 0:
            kinds["filters only"].append(f"cat:{rng.choice(CATS)} after:{rng.randint(2010, 2025)}-0{rng.randint(1, 9)}")
    return kinds


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file or PostgreSQL URL")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pgdata", type=Path, default=Path("/tmp/paperwire-bench-pg"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--sort", default="relevance", choices=["relevance", "date"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warm", dest="warm", action="store_false",
                        help="time each query's first run (the default runs every query once first)")
    args = parser.parse_args(argv)
    with bench_database(parser, args, fresh=False) as (url, _size):
        run(args, url)


def run(args, url: str) -> None:
    import os

    from paperwire.settings import get_settings

    os.environ["PAPERWIRE_DATABASE_URL"] = url  # derived indexes live in this database's data folder
    get_settings.cache_clear()
    rng = random.Random(args.seed)
    db = open_database(url)
    from paperwire.index.publish_lexical import publish_lexical_index

    print(publish_lexical_index(db).summary() + "\n")
    with db.session() as session:
        count = session.scalar(select(func.count()).select_from(Paper))
    kinds = make_queries(sample_texts(db, args.queries, rng), args.queries, rng)
    alone = IndexAlone(db, args)
    if args.warm:  # every query once through both paths: a server's index and database are in memory
        for queries in kinds.values():
            for q in queries:
                lexical_search(db, parse_query(q), limit=args.limit, sort=args.sort)
                alone(q)
    # Each query through both paths, in turn (which goes first alternates): the
    # difference is paperwire's own work, not which path met a cold page first.
    ours: dict[str, list[tuple[float, float, int]]] = {}
    bare: dict[str, list[tuple[float, float]]] = {}
    flip = False
    for kind, queries in kinds.items():
        for q in queries:
            flip = not flip
            if flip:
                bare.setdefault(kind, []).append(timed(lambda: alone(q)))
            t0, c0 = time.perf_counter(), time.process_time()
            results = lexical_search(db, parse_query(q), limit=args.limit, sort=args.sort)
            ours.setdefault(kind, []).append(
                ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000, results.total or 0))
            if not flip:
                bare.setdefault(kind, []).append(timed(lambda: alone(q)))
    state = "warm: every query run once through both paths before timing" if args.warm else "cold: no warm-up pass"
    print(f"{count:,} papers, top-{args.limit}, sort={args.sort}, one timed run each, {state}; "
          "times include loading papers and snippets\n")
    print("| queries | n | p50 ms | p95 ms | p99 ms | max ms | CPU p50 / p95 ms | mean total |")
    print("|---|---|---|---|---|---|---|---|")
    everything: list[float] = []
    all_cpu: list[float] = []
    for kind, rows in ours.items():
        times, cpu, totals = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        everything += times
        all_cpu += cpu
        print(f"| {kind} | {len(times)} | {percentile(times, 50):.1f} | {percentile(times, 95):.1f} | "
              f"{percentile(times, 99):.1f} | {max(times):.1f} | {percentile(cpu, 50):.1f} / {percentile(cpu, 95):.1f} | "
              f"{statistics.mean(totals):,.0f} |")
    print(f"| **all** | {len(everything)} | {percentile(everything, 50):.1f} | {percentile(everything, 95):.1f} | "
          f"{percentile(everything, 99):.1f} | {max(everything):.1f} | "
          f"{percentile(all_cpu, 50):.1f} / {percentile(all_cpu, 95):.1f} | |")
    print("\nCPU = process CPU time per query: close to the latency of an otherwise idle machine.")
    print("\ntantivy alone (translate + top-k + ids), the same queries in the same pass:\n\n"
          "| queries | n | p50 ms | p95 ms | CPU p50 / p95 ms |\n|---|---|---|---|---|")
    everything, all_cpu = [], []
    for kind, rows in bare.items():
        times, cpu = [r[0] for r in rows], [r[1] for r in rows]
        everything += times
        all_cpu += cpu
        print(f"| {kind} | {len(times)} | {percentile(times, 50):.2f} | {percentile(times, 95):.2f} | "
              f"{percentile(cpu, 50):.2f} / {percentile(cpu, 95):.2f} |")
    print(f"| **all** | {len(everything)} | {percentile(everything, 50):.2f} | {percentile(everything, 95):.2f} | "
          f"{percentile(all_cpu, 50):.2f} / {percentile(all_cpu, 95):.2f} |")
    db.close()


def timed(fn) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


class IndexAlone:
    """A query on the published tantivy generation only (no database, no snippets)."""

    def __init__(self, db, args) -> None:
        from paperwire.index.lexical_engine import published_searcher

        with db.session() as session:
            self.engine = published_searcher(session)  # its translation: the shape paperwire runs
        self.searcher = self.engine._searcher
        self.args = args

    def __call__(self, q: str) -> None:
        searcher, limit = self.searcher, self.args.limit
        parsed = parse_query(q)
        by_date = self.args.sort == "date" or not (parsed.required_words() or parsed.phrases or parsed.authors)
        translated = self.engine.translate(parsed)
        result = (searcher.search(translated.query, limit, order_by_field="date_key", order=tantivy.Order.Desc)
                  if by_date else searcher.search(translated.query, limit))
        if result.count == 0 and len(parsed.required_words()) + len(parsed.phrases) > 1:
            result = searcher.search(self.engine.translate(parsed, any_word=True).query, limit)
        searcher.fast_field_values("id", [a for _, a in result.hits])


if __name__ == "__main__":
    main()
