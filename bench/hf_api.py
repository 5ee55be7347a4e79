"""Latency of the Hugging Face-shaped API and the day page on all real lists.

Imports the 415 real Hugging Face daily lists (``shared/corpus/hf-daily-papers``,
``--skip-invalid``: the damaged Dec 2024 – Jan 2025 lists are skipped and
counted) into a fresh SQLite database, then, in-process (Starlette's ASGI
test client, no network), requests random featured days:

* ``/api/daily_papers?date=D`` (what ``HfApi.list_daily_papers`` calls),
* ``/date/D`` (the day page; the anonymous page cache is cleared before each
  request so every request builds the page),

beside two baselines in the same run: ``/healthz`` (the framework's floor) and
a bare SQL select of day D's featured rows joined to their papers. Prints
p50/p95 in milliseconds.

    PYTHONPATH=src python bench/hf_api.py --requests 200
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.rank.trending import featured_days
from paperwire.sources.hf_daily import read_hf_daily
from paperwire.sources.importer import import_items
from paperwire.store.db import open_database
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.web.app import create_app

LISTS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hf-daily-papers"


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _time(fn, days, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(days[i % len(days)])
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/hf.db")
        start = time.perf_counter()
        skipped = papers = 0
        for path in sorted(LISTS.glob("*.json")):
            report = import_items(db, read_hf_daily(path), skip_invalid=True)
            skipped += report.invalid
            papers += report.result.inserted
        print(f"imported {papers} papers from {len(list(LISTS.glob('*.json')))} lists in {time.perf_counter() - start:.1f} s"
              f" ({skipped} damaged entries skipped)")
        with db.session() as session:
            days = [str(d) for d in featured_days(session)]
        random.Random(1).shuffle(days)
        with TestClient(create_app(db)) as client:
            cache = client.app.state.page_cache

            def api(day):
                r = client.get("/api/daily_papers", params={"date": day})
                assert r.status_code == 200 and r.json(), r.text

            def page(day):
                cache.clear()
                r = client.get(f"/date/{day}")
                assert r.status_code == 200 and "Unknown authors" not in r.text

            def healthz(_day):
                assert client.get("/healthz").status_code == 200

            def bare_sql(day):
                with db.session() as session:
                    session.execute(select(Paper, FeaturedPaper).join(FeaturedPaper, FeaturedPaper.paper_id == Paper.id)
                                    .where(FeaturedPaper.day == day)).all()

            for fn in (api, page, healthz, bare_sql):  # warm up
                _time(fn, days, 10)
            print(f"{len(days)} featured days, {args.requests} requests each (ms)")
            for name, fn in (("GET /api/daily_papers?date=D", api), ("GET /date/D (uncached)", page),
                             ("baseline: GET /healthz", healthz), ("baseline: bare SQL select of day D", bare_sql)):
                samples = _time(fn, days, args.requests)
                print(f"  {name:38s} p50 {statistics.median(samples):7.2f}   p95 {_pct(samples, 0.95):7.2f}")
        db.close()


if __name__ == "__main__":
    main()
