"""Load benchmark: concurrent clients on the daily page of a 100k-paper site.

Builds (or reuses) a synthetic SQLite database: ``--papers`` papers, of which
``--featured`` are featured over ``--days`` days (≈ 50 a day, like HF Daily
Papers), ``--users`` users casting Zipf-distributed votes (a few papers get
most of them) plus imported upvotes. Starts ``paperwire serve`` semantics
(uvicorn, separate process), then ``--clients`` concurrent httpx clients
request day pages (mostly the latest day, some older days) for ``--requests``
requests in all, and prints p50/p95/p99 latency and the error count.

    python bench/web_load.py --db bench/out/web.db --papers 100000 --clients 50 --requests 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, insert, select

from paperwire.store.community import User, Vote
from paperwire.store.db import open_database
from paperwire.store.models import FeaturedPaper, Paper

WORDS = ("diffusion transformer sparse attention graph neural robust language model vision reinforcement "
         "learning scalable efficient benchmark retrieval agent reasoning quantum optimal bayesian").split()


def build(url: str, papers: int, featured: int, days: int, users: int, votes: int, seed: int = 7) -> None:
    db = open_database(url)
    with db.session() as s:
        if (s.scalar(select(func.count()).select_from(Paper)) or 0) >= papers:
            print("reusing existing database", file=sys.stderr)
            return
    rng = random.Random(seed)
    now = datetime(2024, 6, 1)
    t0 = time.perf_counter()
    with db.session() as s:
        for start in range(0, papers, 10_000):
            rows = []
            for i in range(start, min(papers, start + 10_000)):
                title = " ".join(rng.choices(WORDS, k=8)).capitalize() + f" {i}"
                authors = [f"Author {rng.randint(1, 50000)}" for _ in range(rng.randint(1, 6))]
                rows.append({
                    "uid": f"bench-{i}", "arxiv_id": None, "title_key": f"k{i}", "title": title,
                    "abstract": " ".join(rng.choices(WORDS, k=120)), "authors": authors,
                    "authors_text": ", ".join(authors), "author_count": len(authors), "categories": " cs.LG ",
                    "primary_category": "cs.LG", "submitted_at": now - timedelta(minutes=i), "versions": [],
                    "source": "bench", "imported_at": now, "content_hash": "x", "hidden": False,
                })
            s.execute(insert(Paper), rows)
    with db.session() as s:
        ids = list(s.scalars(select(Paper.id).order_by(Paper.id)))
        chosen = rng.sample(ids, featured)
        first_day = date(2024, 6, 1) - timedelta(days=days - 1)
        s.execute(insert(FeaturedPaper), [
            {"paper_id": pid, "day": first_day + timedelta(days=k % days), "imported_upvotes": int(rng.paretovariate(1.2)) - 1,
             "imported_comments": rng.randint(0, 3), "submitted_by": f"user{rng.randint(1, users)}",
             "source": "bench", "created_at": now}
            for k, pid in enumerate(chosen)
        ])
        s.execute(insert(User), [
            {"username": f"user{u}", "email": None, "password_hash": "x", "is_admin": False, "is_banned": False,
             "created_at": now} for u in range(1, users + 1)
        ])
        user_ids = list(s.scalars(select(User.id)))
        ranks = np.random.default_rng(seed).zipf(1.3, size=votes * 2)
        pairs = set()
        for r in ranks:
            if len(pairs) >= votes:
                break
            paper = chosen[(int(r) - 1) % len(chosen)]
            pairs.add((rng.choice(user_ids), paper))
        s.execute(insert(Vote), [{"user_id": u, "paper_id": p, "created_at": now} for u, p in pairs])
    print(f"built {papers} papers, {featured} featured over {days} days, {len(pairs)} votes "
          f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def search_paths(url: str, mode: str, n: int = 400) -> list[str]:
    """``/search`` addresses for queries drawn from the database (``bench/search_latency.py``'s mix)."""
    from urllib.parse import urlencode

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from search_latency import make_queries, sample_texts

    rng = random.Random(3)
    db = open_database(url, migrate_schema=False)
    try:
        kinds = make_queries(sample_texts(db, n, rng), n, rng)
    finally:
        db.close()
    queries = [q for group in kinds.values() for q in group]
    rng.shuffle(queries)
    return ["/search?" + urlencode({"q": q, "mode": mode}) for q in queries]


async def run_clients(base: str, clients: int, total: int, days: list[str], think: float,
                      searches: list[str] | None = None) -> tuple[list[float], Counter]:
    """Latencies of the answered requests (200) and a count of every other outcome
    (status code, or the client's timeout)."""
    latencies: list[float] = []
    errors: Counter = Counter()
    remaining = total
    rng = random.Random(1)

    async def client() -> None:
        nonlocal remaining
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            if think:  # independent users arrive spread over one think time, not all in the same millisecond
                await asyncio.sleep(rng.uniform(0, 2 * think))
            while remaining > 0:
                remaining -= 1
                if searches:
                    path = rng.choice(searches)
                else:
                    path = "/" if rng.random() < 0.8 else f"/date/{rng.choice(days)}"
                t = time.perf_counter()
                try:
                    response = await http.get(path)
                    if response.status_code == 200:
                        latencies.append((time.perf_counter() - t) * 1000)
                    else:
                        errors[str(response.status_code)] += 1
                except httpx.HTTPError as error:
                    errors[type(error).__name__] += 1
                if think:
                    await asyncio.sleep(rng.uniform(0, 2 * think))

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="bench/out/web.db")
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--featured", type=int, default=36_500)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--votes", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--think", type=float, default=0.0, help="mean seconds a client waits between requests")
    ap.add_argument("--search", choices=["lexical", "hybrid", "semantic"],
                    help="request the search page instead of day pages, with queries drawn from --db "
                         "(an existing database, e.g. one bench/import_throughput.py filled; nothing is built)")
    args = ap.parse_args()
    url = f"sqlite:///{Path(args.db).resolve()}"
    searches = None
    if args.search:
        searches = search_paths(url, args.search)
    else:
        build(url, args.papers, args.featured, args.days, args.users, args.votes)
    port = free_port()
    env = {**os.environ, "PAPERWIRE_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "paperwire.web.app:create_app", "--factory", "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"], env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        last = date(2024, 6, 1)
        days = [str(last - timedelta(days=k)) for k in range(30)]
        t = time.perf_counter()
        cold = httpx.get(base + f"/date/{days[5]}", timeout=10)
        print(f"one uncached day page: {(time.perf_counter() - t) * 1000:.1f} ms ({len(cold.content)} bytes)")
        asyncio.run(run_clients(base, args.clients, 200, days, 0, searches))  # warm-up
        t = time.perf_counter()
        latencies, errors = asyncio.run(run_clients(base, args.clients, args.requests, days, args.think, searches))
        elapsed = time.perf_counter() - t
        what = f"search page ({args.search}, {len(searches)} queries)" if searches else "day pages"
        print(f"{what}: {args.clients} clients, {len(latencies)} answered in {elapsed:.1f}s "
              f"({len(latencies) / elapsed:.0f} req/s), workers={args.workers}, think={args.think}s, "
              f"load {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
        failed = ", ".join(f"{n} x {what}" for what, n in errors.most_common()) or "none"
        if len(latencies) >= 2:
            q = statistics.quantiles(latencies, n=100)
            print(f"answered: p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  p99 {q[98]:.1f} ms  "
                  f"max {max(latencies):.1f} ms; not answered: {failed}")
        else:
            print(f"nothing answered: {failed}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
