"""One day's harvest end to end: from a local OAI-PMH replay to searchable, embedded,
in the published vector index and in the next digest — seconds, on SQLite or PostgreSQL.

The replay server (``tests/sources/upstream_server.py``) answers ``ListRecords`` in
arXiv's format with resumption tokens, 1,000 records a page, like arXiv. The
worker rounds are the real ones (:func:`paperwire.worker.runner.run_due`): the
harvest job, then ``embed`` (which publishes), then a check that a new paper is
found by semantic search and that tomorrow's daily digest of a subscriber who
follows ``cs.LG`` lists new papers. The baseline, in the same process, is the
same records inserted by one bare ``executemany`` into a plain SQLite table.

    python bench/worker_e2e.py --papers 2000 [--embedder paperwire-static-v1]
    python bench/worker_e2e.py --papers 2000 --backend postgres
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DAY = date(2024, 3, 4)
WORDS = ("graph", "neural", "network", "diffusion", "transformer", "protein", "galaxy", "quantum", "causal",
         "optimal", "transport", "language", "model", "retrieval", "reinforcement", "policy", "robust", "sparse")


def _papers(count: int):
    from tests.sources.upstream_server import FakePaper

    papers = []
    for n in range(count):
        words = [WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(6)]
        papers.append(FakePaper(
            f"2403.{n:05d}", f"{' '.join(words[:4]).title()} number {n}",
            abstract=" ".join(words * 6) + f" We report experiment {n}.",
            authors=[("Ada", "Lovelace"), ("Alan", f"Turing{n % 50}")], categories=["cs.LG"],
            published=datetime.combine(DAY, datetime.min.time()) + timedelta(minutes=n % 600),
        ))
    return papers


def _baseline(papers) -> float:
    started = time.perf_counter()
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE p (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, authors TEXT, categories TEXT)")
    con.executemany("INSERT INTO p VALUES (?, ?, ?, ?, ?)",
                    [(p.arxiv_id, p.title, p.abstract, ", ".join(p.author_names()), " ".join(p.categories))
                     for p in papers])
    con.commit()
    return time.perf_counter() - started


def run(count: int, backend: str, embedder: str | None = None) -> dict:
    from tests.sources.upstream_server import UpstreamServer

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pw-e2e-")))
        if backend == "postgres":
            from paperwire.store.pg_local import local_postgres

            server = stack.enter_context(local_postgres(folder / "pg"))
            url = server.create_database("e2e")
        else:
            url = f"sqlite:///{folder / 'e2e.db'}"
        papers = _papers(count)
        upstream = stack.enter_context(UpstreamServer(papers, page_size=1000))
        os.environ.update({
            "PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_DATA_DIR": str(folder / "data"),
            "PAPERWIRE_HOME": str(folder / "home"), "PAPERWIRE_HARVEST_DELAY": "0",
            "PAPERWIRE_HARVEST_OAI_SETS": '["cs"]', "PAPERWIRE_OAI_BASE_URL": upstream.oai_url,
        })
        if embedder:
            os.environ["PAPERWIRE_EMBEDDER"] = embedder
        from paperwire.deliver.digest import DigestBuilder, period_for
        from paperwire.index.search import search
        from paperwire.settings import get_settings
        from paperwire.store.db import open_database
        from paperwire.worker.runner import run_due

        get_settings.cache_clear()
        db = open_database(url)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        harvest = {e.job: e for e in run_due(db, only="harvest:oai")}["harvest:oai:cs"]
        timings["harvest"] = time.perf_counter() - started
        mark = time.perf_counter()
        embed = {e.job: e for e in run_due(db, only="embed")}["embed"]
        timings["embed_and_publish"] = time.perf_counter() - mark
        mark = time.perf_counter()
        hits = search(db, papers[count // 2].title, mode="semantic", limit=5)
        timings["first_search"] = time.perf_counter() - mark
        found = hits.mode == "semantic" and any(h.paper.uid == papers[count // 2].arxiv_id for h in hits.hits)
        mark = time.perf_counter()
        with db.session() as session:
            builder = DigestBuilder(session, period_for("daily", DAY), recommender=lambda *_: [])
            in_digest = len(builder.items)
        timings["digest_candidates"] = time.perf_counter() - mark
        timings["end_to_end"] = time.perf_counter() - started
        db.close()
        return {
            "backend": backend, "embedder": get_settings().embedder, "papers": count, "harvested": harvest.records, "outcome": harvest.outcome,
            "embedded": embed.records, "semantic_search_finds_new_paper": found,
            "digest_candidates_for_the_day": in_digest, "seconds": {k: round(v, 2) for k, v in timings.items()},
            "papers_per_s_end_to_end": round(count / timings["end_to_end"], 1),
            "baseline_bare_insert_s": round(_baseline(papers), 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--embedder", help="default: the configured one ($PAPERWIRE_EMBEDDER)")
    args = parser.parse_args()
    print(json.dumps(run(args.papers, args.backend, args.embedder), indent=2))


if __name__ == "__main__":
    main()
