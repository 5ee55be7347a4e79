"""Search latency at scale: lexical vs semantic vs hybrid, plus embed throughput and RSS.

Needs a SQLite database of papers: give one with ``--db`` or let the script
make one (``--count N``: ``bench/generate_corpus.py`` then
``bench/import_throughput.py --no-baseline`` into ``--workdir``, which also publishes
the lexical index).

1. Embeds every paper that has no current vector with the configured embedder
   (the packaged static ``paperwire-static-v1`` by default) and builds the
   usearch HNSW file — ``embed_all`` then ``publish_vector_index``, what the
   worker's ``embed`` and ``index`` jobs do — reporting papers/s.
2. In a *fresh* process (so its memory is what a serving process holds:
   interpreter, embedder, HNSW index, SQLite page cache), runs realistic
   1–3 word queries — consecutive content words from randomly chosen titles of
   the corpus itself — through ``paperwire.index.search.search`` in each mode
   (limit 20, relevance), after a warm-up, and reports p50/p95/mean latency
   and the RSS of that process.

    python bench/hybrid_latency.py --count 100000 --workdir /tmp/pw-100k
    python bench/hybrid_latency.py --db /tmp/pw-100k/papers.db --queries 300

The lexical and vector indexes go to ``$PAPERWIRE_DATA_DIR`` (default: ``<database>.data``
beside the database file, as ``bench_db.sqlite_data_dir`` says).

``--synthetic-vectors`` skips the model for the *stored* vectors: every paper
gets a random unit vector of the configured embedder's dimension (384 for the
default ``paperwire-minilm-v1``) under its real content hash, then the HNSW
index is published as usual. Latency at 1M papers does not depend on what the
vectors mean, and embedding 1M abstracts with the transformer takes hours on
two cores; queries are still embedded by the real model, so its cost is in
the figures. Set ``PAPERWIRE_EMBEDDER`` to choose the model (default: the
packaged default).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_db import sqlite_data_dir  # noqa: E402
MODES = ("lexical", "semantic", "hybrid")


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_corpus(count: int, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, db = workdir / f"corpus-{count}.jsonl.gz", workdir / "papers.db"
    if not corpus.exists():
        subprocess.run([sys.executable, str(BENCH / "generate_corpus.py"), "--count", str(count), "--out", str(corpus),
                        "--seed", "1"], check=True)
    if not db.exists():
        subprocess.run([sys.executable, str(BENCH / "import_throughput.py"), str(corpus), "--db", str(db),
                        "--no-baseline"], check=True)
    return db


def embed(db_path: Path) -> dict:
    from paperwire.index.publish import publish_vector_index
    from paperwire.index.vectors import embed_all
    from paperwire.store.db import open_database

    db = open_database(f"sqlite:///{db_path}")
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or done == total:
            last[0] = now
            print(f"\rembedded {done:,}/{total:,} ({done / (now - started):,.0f} papers/s)", end="", file=sys.stderr)

    report = embed_all(db, on_progress=progress)
    publish_vector_index(db)  # what the worker's `index` job does
    seconds = time.perf_counter() - started
    print(file=sys.stderr)
    db.close()
    return {"embedded": report.embedded, "index_size": report.index_size, "seconds": seconds,
            "papers_per_s": report.embedded / seconds if report.embedded else None, "peak_rss_mib": peak_rss_mib()}


def synthetic_vectors(db_path: Path, seed: int = 3, chunk: int = 20_000) -> dict:
    """Random unit vectors for every paper lacking a current one, then publish."""
    import numpy as np
    from sqlalchemy import select

    from paperwire.index.publish import publish_vector_index
    from paperwire.index.vectors import semantic_index
    from paperwire.store.db import open_database
    from paperwire.store.embeddings import save_vectors, stale_paper_ids
    from paperwire.store.models import Paper
    from paperwire.store.papers import utcnow

    db = open_database(f"sqlite:///{db_path}")
    embedder = semantic_index(db).embedder
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with db.session() as session:
        todo = stale_paper_ids(session, embedder.name)
    for start in range(0, len(todo), chunk):
        ids = todo[start:start + chunk]
        with db.session() as session:
            rows = session.execute(select(Paper.id, Paper.content_hash).where(Paper.id.in_(ids))).all()
            matrix = rng.standard_normal((len(rows), embedder.dim), dtype=np.float32)
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
            save_vectors(session, embedder.name, [(r.id, r.content_hash) for r in rows], matrix, utcnow())
        print(f"\rsynthetic vectors {start + len(ids):,}/{len(todo):,}", end="", file=sys.stderr)
    written = time.perf_counter() - started
    published = publish_vector_index(db)
    print(file=sys.stderr)
    db.close()
    return {"vectors": len(todo), "model": embedder.name, "dim": embedder.dim, "write_s": written,
            "publish_s": time.perf_counter() - started - written, "index_size": published.vectors}


def make_queries(db, n: int, seed: int) -> list[str]:
    """1–3 consecutive content words of random titles (roughly even mix)."""
    from sqlalchemy import func, select

    from paperwire.index.query import STOPWORDS, terms
    from paperwire.store.models import Paper

    rng = random.Random(seed)
    with db.session() as session:
        top = session.scalar(select(func.max(Paper.id))) or 0
        ids = rng.sample(range(1, top + 1), min(top, 4 * n))
        titles = session.scalars(select(Paper.title).where(Paper.id.in_(ids))).all()
    queries = []
    for title in titles:
        words = [w for w in terms(title) if w not in STOPWORDS and w.isalpha() and len(w) > 2]
        size = rng.choice((1, 2, 3))
        if len(words) >= size:
            start = rng.randrange(len(words) - size + 1)
            queries.append(" ".join(words[start:start + size]))
        if len(queries) == n:
            break
    return queries


def serve(db_path: Path, n: int, seed: int) -> dict:
    """The query phase (run in a fresh process)."""
    from paperwire.index.search import search
    from paperwire.index.vectors import semantic_index
    from paperwire.store.db import open_database

    base_rss = rss_mib()
    db = open_database(f"sqlite:///{db_path}")
    started = time.perf_counter()
    semantic_index(db).refresh()  # load the published HNSW file (and the embedder)
    load_s = time.perf_counter() - started
    queries = make_queries(db, n, seed)
    for q in queries[:20]:  # warm-up: SQLite page cache, code paths
        for mode in MODES:
            search(db, q, mode=mode, limit=20)
    out: dict = {"queries": len(queries), "index_load_s": load_s, "examples": queries[:8], "modes": {}}
    for mode in MODES:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            search(db, q, mode=mode, limit=20)
            times.append((time.perf_counter() - t0) * 1000)
        out["modes"][mode] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
                              "mean_ms": sum(times) / len(times)}
    out["rss_mib"] = rss_mib()
    out["peak_rss_mib"] = peak_rss_mib()
    out["rss_before_open_mib"] = base_rss
    db.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="SQLite database of papers (else --count makes one)")
    parser.add_argument("--count", type=int, help="generate and import a synthetic corpus of this size")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/paperwire-latency"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-embed", action="store_true", help="skip the embedding step")
    parser.add_argument("--synthetic-vectors", action="store_true",
                        help="store random unit vectors instead of embedding the papers (latency only)")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_only:
        print(json.dumps(serve(args.db, args.queries, args.seed)))
        return 0
    if args.db is None:
        if not args.count:
            parser.error("give --db or --count")
        args.db = make_corpus(args.count, args.workdir)
    sqlite_data_dir(args.db)
    from sqlalchemy import func, select

    from paperwire.store.db import open_database
    from paperwire.store.models import Paper

    db = open_database(f"sqlite:///{args.db}")
    with db.session() as session:
        papers = session.scalar(select(func.count()).select_from(Paper))
    db.close()
    print(f"# Hybrid latency — {papers:,} papers in {args.db}; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    if args.synthetic_vectors:
        v = synthetic_vectors(args.db)
        print(f"synthetic vectors: {v['vectors']:,} random unit {v['dim']}-d vectors stored as {v['model']} in "
              f"{v['write_s']:.1f} s; HNSW index of {v['index_size']:,} built and published in {v['publish_s']:.1f} s")
    elif not args.no_embed:
        e = embed(args.db)
        rate = f"{e['papers_per_s']:,.0f} papers/s" if e["papers_per_s"] else "nothing to do"
        print(f"embedding: {e['embedded']:,} papers in {e['seconds']:.1f} s ({rate}); index holds {e['index_size']:,}; "
              f"peak RSS of the embedding process {e['peak_rss_mib']:.0f} MiB")
    child = subprocess.run([sys.executable, __file__, "--serve-only", "--db", str(args.db), "--queries",
                            str(args.queries), "--seed", str(args.seed)], check=True, capture_output=True, text=True,
                           env=os.environ)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    index_file = sorted(Path(os.environ["PAPERWIRE_DATA_DIR"]).glob("vectors-*.usearch"))
    print(f"index load: {result['index_load_s']:.1f} s"
          + (f"; HNSW file {index_file[0].stat().st_size / 2**20:,.0f} MiB" if index_file else ""))
    print(f"{result['queries']} queries, e.g. {', '.join(repr(q) for q in result['examples'])}\n")
    print("| mode | p50 ms | p95 ms | mean ms |\n|---|---:|---:|---:|")
    for mode, row in result["modes"].items():
        print(f"| {mode} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['mean_ms']:.1f} |")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nserving process RSS: {result['rss_mib']:.0f} MiB after the queries (peak {result['peak_rss_mib']:.0f} MiB; "
          f"{result['rss_before_open_mib']:.0f} MiB before opening the database)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
