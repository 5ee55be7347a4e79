"""Benchmark: 10,000 personalised daily digests sent to a local SMTP sink.

Builds a throw-away SQLite catalogue of a few thousand synthetic papers
featured on one day, 10,000 confirmed subscribers with different interests
(categories, keywords, authors, exclusions), then times ``send_digests`` to an
aiosmtpd sink running in a separate process. Reports total time, mails per
second, duplicates (must be 0), digests skipped as empty and peak memory.

    python bench/digest_send.py [--subscribers 10000] [--papers 3000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path

DAY = date(2024, 8, 12)
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "cs.CR", "stat.ML", "quant-ph", "math.OC", "eess.SP",
              "q-bio.BM", "physics.comp-ph", "cs.IR", "cs.DB", "cs.SE", "hep-th"]
WORDS = ("transformer diffusion protein folding graph neural network reinforcement learning robot language model "
         "retrieval quantum error correction optimisation convex sparse attention vision segmentation detection "
         "speech audio privacy federated adversarial robustness causal inference bayesian kernel benchmark dataset "
         "agent planning reasoning theorem proving compiler database index query molecule chemistry climate").split()
FIRST = "Ada Alan Grace Yann Geoffrey Fei Andrew Daphne Judea Yoshua Barbara Leslie Donald Tim Radia Shafi".split()
LAST = "Lovelace Turing Hopper LeCun Hinton Li Ng Koller Pearl Bengio Liskov Lamport Knuth Berners-Lee Perlman Goldwasser".split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sink(port: int, out_path: str, ready) -> None:
    """SMTP sink process: appends one recipient per accepted message to ``out_path``."""
    import signal
    import threading

    from aiosmtpd.controller import Controller

    handle = open(out_path, "a", buffering=1)

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            for rcpt in envelope.rcpt_tos:
                handle.write(rcpt + "\n")
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ready.set()
    stop.wait()
    controller.stop()
    handle.close()


def populate(db, papers: int, subscribers: int, rng: random.Random) -> None:
    from paperwire.records import PaperRecord
    from paperwire.store.delivery import Subscription
    from paperwire.store.papers import upsert_papers, utcnow

    # Abstracts: filler words plus a few topic words, so that a keyword matches a
    # few percent of papers as on arXiv (not every paper).
    filler = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(3000)]
    records = []
    for i in range(papers):
        words = rng.sample(WORDS, 8)
        cats = rng.sample(CATEGORIES, rng.randint(1, 3))
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 5))]
        records.append(PaperRecord(
            title=" ".join(w.capitalize() for w in words[:5]) + f" {i}", abstract=" ".join(rng.choices(filler, k=110) + words[5:]),
            arxiv_id=f"2408.{i:05d}", authors=authors, categories=cats, submitted=datetime(2024, 8, 12, rng.randint(0, 23)),
            source="bench", featured_on=DAY if i < 300 else None, upvotes=rng.randint(0, 200) if i < 300 else None,
        ))
    with db.session() as session:
        for start in range(0, len(records), 1000):
            upsert_papers(session, records[start:start + 1000])
    now = utcnow()
    with db.session() as session:
        session.add_all([
            Subscription(
                email=f"reader{i}@bench.example", frequency="daily", confirmed_at=now, created_at=now,
                topics={"trending": rng.random() < 0.5, "categories": rng.sample(CATEGORIES, rng.randint(0, 2)),
                        "keywords": rng.sample(WORDS, rng.randint(0, 3)),
                        "authors": [f"{rng.choice(FIRST)} {rng.choice(LAST)}"] if rng.random() < 0.3 else [],
                        "for_you": False},
                exclusions={"words": rng.sample(WORDS, 1) if rng.random() < 0.3 else [], "authors": [],
                            "categories": rng.sample(CATEGORIES, 1) if rng.random() < 0.2 else []},
            )
            for i in range(subscribers)
        ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections (threads) used by the sender.")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pw-bench-digest-"))
    port = free_port()
    os.environ.update(PAPERWIRE_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}", PAPERWIRE_SMTP_HOST="127.0.0.1",
                      PAPERWIRE_SMTP_PORT=str(port), PAPERWIRE_DATA_DIR=str(workdir / "data"))
    from paperwire.deliver.send import send_digests
    from paperwire.store.db import open_database

    db = open_database(os.environ["PAPERWIRE_DATABASE_URL"])
    started = time.perf_counter()
    populate(db, args.papers, args.subscribers, random.Random(args.seed))
    setup = time.perf_counter() - started

    sink_file = workdir / "received.txt"
    ready = mp.get_context("spawn").Event()
    sink = mp.get_context("spawn").Process(target=run_sink, args=(port, str(sink_file), ready), daemon=True)
    sink.start()
    ready.wait(30)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = send_digests(db, day=DAY, frequency="daily", connections=args.connections)
    elapsed = time.perf_counter() - started
    rerun = send_digests(db, day=DAY, frequency="daily")
    time.sleep(0.5)
    sink.terminate()
    sink.join(10)
    received = Counter(sink_file.read_text().split())
    result = {
        "subscribers": args.subscribers, "papers": args.papers, "connections": args.connections, "setup_s": round(setup, 1),
        "send_s": round(elapsed, 1), "mails_per_s": round(report.sent / elapsed, 1),
        "sent": report.sent, "empty_not_sent": report.empty, "failed": report.failed_permanent + report.deferred,
        "received": sum(received.values()), "distinct_recipients": len(received),
        "duplicates": sum(n - 1 for n in received.values() if n > 1), "rerun_sent": rerun.sent,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_send_mb": round(rss_before / 1024, 1), "cpus": os.cpu_count(), "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    db.close()
    return 0 if result["duplicates"] == 0 and result["received"] == report.sent else 1


if __name__ == "__main__":
    sys.exit(main())
