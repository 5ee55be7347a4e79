"""Does ``paperwire embed --workers N`` scale with N? Papers/s of the real backfill.

The same papers (``--papers``, default 5,000 real Hugging Face daily-list papers
from ``../shared/corpus/hf-daily-papers/``, title + abstract; synthetic ones only
if the lists hold fewer) go into a fresh SQLite database once; then each
configuration re-embeds all of them from scratch with the real backfill
(``paperwire.index.backfill``: read, embed, write one transaction per batch,
publish nothing) and reports papers/s, papers/s per core and the share of the
wall time the single writer spent writing:

* ``serial``   — ``embed_all`` (in-process, onnxruntime's own threads: every core; what
  ``paperwire embed`` did before it ran one thread)
* ``inprocess`` — ``paperwire embed`` / ``--workers 1``: in-process, one intra-op thread
* ``workers1`` — one spawned worker process, one intra-op thread
* ``workers2`` — ``--workers 2``: two processes, one thread each
* ``ray``      — ``--ray local``: a local Ray instance started in this process

Beside them, the in-process baseline: the bare embedder on the same texts (no
database, no processes), one thread and default threads — the ceiling the
backfill is measured against. And the query-embedding latency (p50/p95 of one
short query, the search path) with the packaged default embedder.

    PYTHONPATH=src python bench/embed_scaling.py                      # all configurations
    PYTHONPATH=src python bench/embed_scaling.py --configs workers1,workers2 --papers 2000
    PYTHONPATH=src python bench/embed_scaling.py --source arxiv --configs workers2 --papers 2000

The machine's load average is printed before and after: on a shared machine the
wall-clock figures are only comparable within one run. "Per CPU-second" divides
by the CPU time the driver and its worker processes actually got (not counted
for Ray, whose workers are not this process's children), which is the rate per
core an idle machine would show, give or take cache and memory contention.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
HF_DIR = REPO.parent / "shared" / "corpus" / "hf-daily-papers"
CONFIGS = ("serial", "inprocess", "workers1", "workers2", "ray")
os.environ.pop("PAPERWIRE_EMBEDDING_CACHE_DIR", None)  # measure the model, not a cache
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def real_papers(limit: int) -> list:
    """Up to ``limit`` distinct real papers with abstracts (sorted by arXiv id: the same every run)."""
    from paperwire.records import PaperRecord
    from paperwire.sources.hf_daily import read_hf_daily

    seen: dict[str, PaperRecord] = {}
    for path in sorted(HF_DIR.glob("*.json")):
        for rec in read_hf_daily(path):
            if isinstance(rec, PaperRecord) and rec.abstract and rec.arxiv_id:
                seen.setdefault(rec.arxiv_id, rec)
    return [seen[k] for k in sorted(seen)[:limit]]


ARXIV_SAMPLE = REPO.parent / "shared" / "corpus" / "arxiv-metadata-sample.jsonl"


def arxiv_papers(limit: int) -> list:
    """The 200 real arXiv records of the Kaggle-format sample (every field, not only ML), repeated to ``limit``.

    Shorter than the Hugging Face lists' ML abstracts (≈ 172 tokens against
    ≈ 245, title included): the kind of corpus a full-archive backfill reads
    and the issue's own speed figure was measured on. Each copy gets its own
    arXiv id, so it is its own row with the same text.
    """
    from dataclasses import replace

    from paperwire.records import PaperRecord
    from paperwire.sources.kaggle import read_kaggle

    real = [r for r in read_kaggle(ARXIV_SAMPLE) if isinstance(r, PaperRecord) and r.abstract]
    return [replace(real[i % len(real)], arxiv_id=f"9902.{i:05d}") for i in range(limit)]


def synthetic(count: int, seed: int = 1) -> list:
    from paperwire.records import PaperRecord

    rng = random.Random(seed)
    words = ("graph neural network transformer diffusion retrieval language model sparse attention protein "
             "quantum galaxy robot policy benchmark dataset optimisation gradient kernel video speech").split()
    return [PaperRecord(title=" ".join(rng.choices(words, k=9)), abstract=" ".join(rng.choices(words, k=170)),
                        arxiv_id=f"9901.{i:05d}", source="bench") for i in range(count)]


def prepare(workdir: Path, count: int, source: str = "hf"):
    from paperwire.settings import get_settings
    from paperwire.store.db import open_database
    from paperwire.store.papers import upsert_papers

    os.environ["PAPERWIRE_DATABASE_URL"] = f"sqlite:///{workdir / 'papers.db'}"
    os.environ["PAPERWIRE_DATA_DIR"] = str(workdir)
    get_settings.cache_clear()
    records = arxiv_papers(count) if source == "arxiv" else real_papers(count)
    real = len(records)
    records += synthetic(count - real)
    db = open_database(os.environ["PAPERWIRE_DATABASE_URL"])
    for start in range(0, len(records), 1000):
        with db.session() as session:
            upsert_papers(session, records[start:start + 1000])
    return db, real, records


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_config(db, name: str, batch: int) -> dict:
    from paperwire.index.backfill import embed_in_process, embed_parallel, embed_ray
    from paperwire.index.vectors import embed_all

    cpu = cpu_seconds()
    started = time.perf_counter()
    if name == "serial":
        report, cores = embed_all(db, rebuild=True), os.cpu_count() or 1
    elif name == "inprocess":
        report, cores = embed_in_process(db, batch=batch, rebuild=True), 1
    elif name == "workers1":
        report, cores = embed_parallel(db, workers=1, batch=batch, rebuild=True), 1
    elif name == "workers2":
        report, cores = embed_parallel(db, workers=2, batch=batch, rebuild=True), 2
    elif name == "ray":
        report = embed_ray(db, address="local", batch=batch, rebuild=True)
        cores = os.cpu_count() or 1
    else:
        raise SystemExit(f"unknown configuration {name!r}; choose from {', '.join(CONFIGS)}")
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu  # Ray's workers are not our children: not counted
    return {"config": name, "papers": report.embedded, "wall_s": wall, "embed_s": report.seconds,
            "per_cpu_s": None if name == "ray" else report.embedded / cpu,
            "papers_per_s": report.embedded / wall, "per_core": report.embedded / wall / cores, "cores": cores,
            "write_share": report.write_seconds / report.seconds if report.seconds else 0.0}


def baseline(texts: list[str]) -> list[dict]:
    """The bare embedder in this process on the same texts (no database, no workers)."""
    from paperwire.index.embeddings import OnnxEmbedder

    rows = []
    for threads in (1, None):
        embedder = OnnxEmbedder(threads=threads)
        embedder.embed(texts[:5])
        cpu = cpu_seconds()
        t0 = time.perf_counter()
        embedder.embed(texts)
        seconds = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu
        cores = 1 if threads == 1 else os.cpu_count() or 1
        rows.append({"config": f"bare embedder, {threads or 'default'} thread(s)", "papers": len(texts),
                     "per_cpu_s": len(texts) / cpu,
                     "papers_per_s": len(texts) / seconds, "per_core": len(texts) / seconds / cores, "cores": cores})
    return rows


def query_latency(records, n: int = 300) -> dict:
    """ms to embed one 2-4 word query (what every semantic/hybrid search pays first)."""
    from paperwire.index.embeddings import OnnxEmbedder

    rng = random.Random(5)
    words = [w for r in records[:2000] for w in r.title.split() if w.isalpha() and len(w) > 3]
    queries = [" ".join(rng.sample(words, rng.choice((2, 3, 4)))) for _ in range(n)]
    out = {}
    for threads in (None, 1):
        embedder = OnnxEmbedder(threads=threads)
        for q in queries[:30]:
            embedder.embed([q])
        times = []
        for q in queries:
            t0 = time.perf_counter()
            embedder.embed([q])
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[f"{threads or 'default'} thread(s)"] = {"p50_ms": statistics.median(times),
                                                    "p95_ms": times[int(0.95 * (len(times) - 1))]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--source", choices=("hf", "arxiv"), default="hf",
                        help="hf: real Hugging Face list papers (ML, long abstracts); arxiv: the 200 real "
                             "Kaggle-format arXiv records (all fields), repeated to --papers")
    parser.add_argument("--batch", type=int, default=256, help="papers per batch sent to a worker")
    parser.add_argument("--baseline-papers", type=int, default=1000, help="texts for the bare-embedder baseline")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    from paperwire.index.embeddings import paper_text

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pw-embed-scaling-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"# Embedding backfill scaling — {os.cpu_count()} cores, load {load()}")
    db, real, records = prepare(workdir, args.papers, args.source)
    origin = ("copies of the 200 real arXiv records of the Kaggle-format sample" if args.source == "arxiv"
              else "real from the HF daily lists")
    print(f"{len(records):,} papers ({real:,} {origin}, {len(records) - real:,} synthetic); "
          f"batch {args.batch}\n")
    results = []
    print("| configuration | papers | wall s | papers/s | per core | per CPU-second | writer share | load after |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    if not args.no_baseline:
        texts = [paper_text(r.title, r.abstract) for r in records[:args.baseline_papers]]
        for row in baseline(texts):
            results.append(row)
            print(f"| {row['config']} (in-process baseline) | {row['papers']:,} | – | {row['papers_per_s']:.1f} | "
                  f"{row['per_core']:.1f} | {row['per_cpu_s']:.1f} | – | {load()} |", flush=True)
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        row = run_config(db, name, args.batch)
        row["load_after"] = load()
        results.append(row)
        print(f"| {name} ({row['cores']} core{'s' if row['cores'] > 1 else ''}) | {row['papers']:,} | "
              f"{row['wall_s']:.1f} | {row['papers_per_s']:.1f} | {row['per_core']:.1f} | "
              f"{'–' if row['per_cpu_s'] is None else format(row['per_cpu_s'], '.1f')} | "
              f"{100 * row['write_share']:.1f}% | {row['load_after']} |", flush=True)
    latency = query_latency(records)
    print("\nquery embedding: " + "; ".join(f"{k}: p50 {v['p50_ms']:.2f} ms, p95 {v['p95_ms']:.2f} ms"
                                            for k, v in latency.items()))
    for row in results:
        if row.get("wall_s") and row.get("per_cpu_s"):
            hours = 2_800_000 / row["per_cpu_s"] / 3600
            print(f"2.8M papers at {row['per_cpu_s']:.1f} papers per CPU-second ({row['config']}): "
                  f"{hours:,.0f} core-hours — {hours / 2 / 24:,.1f} days on 2 cores, {hours / 16:,.1f} h on 16, "
                  f"{hours / 64:,.1f} h on 64")
    print(f"load after: {load()}")
    db.close()
    if args.json:
        args.json.write_text(json.dumps({"results": results, "query_latency": latency}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
