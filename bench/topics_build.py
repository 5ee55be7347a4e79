"""Topic index build time and peak memory at scale, beside an in-process baseline.

Loads ``--count`` synthetic papers (``bench/generate_corpus.py``: Kaggle
format, word frequencies of the real abstracts, no source keywords, no
punctuation inside abstracts — the worst case for phrase candidates, as
every run of content words is long and nearly every 2-/3-gram is unique)
into a SQLite file (kept for reruns), then measures in the same process:

* **baseline** — one bare pass over the same papers in the same batches,
  splitting title + abstract on whitespace and counting lower-cased words
  in a ``Counter`` (what any corpus statistic costs at least);
* **build** — :func:`paperwire.rank.topics.build_topics` (two extraction
  passes, vocabulary, write).

Memory is the peak resident set size above the level before each phase,
sampled every 20 ms. Print ``uptime``'s load beside the figures: the
machine is shared.

    PYTHONPATH=src python bench/topics_build.py --count 100000 --db /tmp/topics-100k.db
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


class PeakRss:
    """Peak RSS (MiB) above the starting level while the block runs."""

    def __enter__(self):
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.mib = (self.peak - self.start) / 2**20


def load(db, count: int, seed: int) -> float:
    from generate_corpus import Generator

    from paperwire.sources.importer import import_items
    from paperwire.sources.kaggle import record_from_json

    started = time.perf_counter()
    generator = Generator(seed, count)
    done = 0

    def items():
        nonlocal done
        while done < count:
            for record in generator.batch(min(5000, count - done)):
                yield record_from_json(record, "synthetic")
            done = min(count, done + 5000)

    import_items(db, items())
    return time.perf_counter() - started


def baseline_pass(db) -> tuple[int, int]:
    from sqlalchemy import select

    from paperwire.store.models import Paper

    words: Counter = Counter()
    papers = last = 0
    with db.session() as session:
        while True:
            rows = session.execute(select(Paper.id, Paper.title, Paper.abstract).where(Paper.id > last)
                                   .order_by(Paper.id).limit(5000)).all()
            if not rows:
                break
            for row in rows:
                words.update((row.title + " " + row.abstract).lower().split())
            papers += len(rows)
            last = rows[-1].id
    return papers, len(words)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", type=Path, required=True, help="SQLite file (filled on first use, reused after)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["PAPERWIRE_EMBED_ON_IMPORT"] = "false"
    os.environ["PAPERWIRE_DATABASE_URL"] = f"sqlite:///{args.db}"
    from paperwire.settings import get_settings

    get_settings.cache_clear()
    from sqlalchemy import func, select

    from paperwire.rank.topics import build_topics
    from paperwire.store.db import open_database
    from paperwire.store.models import Paper

    db = open_database(f"sqlite:///{args.db}")
    with db.session() as session:
        have = session.scalar(select(func.count()).select_from(Paper))
    if have < args.count:
        print(f"loading {args.count - have} synthetic papers …", flush=True)
        print(f"  loaded in {load(db, args.count - have, args.seed + have):.1f} s", flush=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    with PeakRss() as base_mem:
        started = time.perf_counter()
        papers, distinct = baseline_pass(db)
        base_s = time.perf_counter() - started
    print(f"baseline (bare word count): {papers} papers, {distinct} distinct words, {base_s:.1f} s, "
          f"+{base_mem.mib:.0f} MiB peak RSS", flush=True)
    with PeakRss() as build_mem:
        started = time.perf_counter()
        report = build_topics(db, force=True)
        build_s = time.perf_counter() - started
    print(f"build_topics: {report.summary()}; {build_s:.1f} s ({build_s / base_s:.1f}× baseline), "
          f"+{build_mem.mib:.0f} MiB peak RSS", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
