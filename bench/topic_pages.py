"""Page weight and render time of the topic pages in Chromium, beside baselines.

Loads the demo corpus (real Hugging Face lists; the loader builds the topic
index) into a SQLite file, serves it with a real uvicorn and measures:

* **server** — in-process (ASGI test client) time of ``GET /topics/<slug>``
  for the ``--topics`` most common topics, and of ``GET /trends``; baseline
  in the same process: ``GET /healthz`` and ``GET /hot`` (an existing page
  without charts);
* **Chromium** — for each page, a fresh browser context (empty cache):
  bytes transferred (HTML + CSS + JS, from Resource Timing), time to
  ``DOMContentLoaded``, to ``load``, and to the ``paperwire:charts-drawn``
  mark that ``static/charts.js`` sets once every chart is drawn. Baseline:
  ``/hot``, the same measurement on a page with no chart.

Print ``uptime``'s load beside the figures: the machine is shared.

    PYTHONPATH=src python bench/topic_pages.py --db /tmp/topic-pages.db --topics 10 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const mark = performance.getEntriesByName('paperwire:charts-drawn')[0];
  return {bytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
          files: 1 + res.length, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          charts: mark ? mark.startTime : null};
}"""


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ms" if values else "–"


def server_times(db, paths: list[str], runs: int) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    out: dict[str, list[float]] = {}
    with TestClient(create_app(db)) as client:
        for path in paths:
            client.get(path)  # warm
            times = []
            for _ in range(runs):
                client.app.state.page_cache.clear() if hasattr(client.app.state.page_cache, "clear") else None
                started = time.perf_counter()
                assert client.get(path).status_code == 200, path
                times.append((time.perf_counter() - started) * 1000)
            out[path] = times
    return out


def browser_times(base: str, paths: list[str], runs: int) -> dict[str, list[dict]]:
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    out: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for path in paths:
            out[path] = []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(base + path, wait_until="load")
                if "/hot" not in path:
                    page.wait_for_selector("figure.chart.charted")
                out[path].append(page.evaluate(TIMING))
                context.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="/tmp/topic-pages.db")
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PAPERWIRE_SECRET_KEY", "bench-" + "x" * 40)

    from paperwire.demo import load_demo
    from paperwire.rank.rising import topic_trends
    from paperwire.store.db import open_database
    from tests.web.conftest import serve

    db = open_database(f"sqlite:///{args.db}")
    load_demo(db, log=lambda *_: None)
    with db.session() as session:
        _, rows = topic_trends(session, period="month", start=None, top=args.topics)
    topics = [f"/topics/{topic.slug}" for topic, _ in rows]
    pages = topics + ["/trends", "/?", "/search?q=diffusion"]
    baselines = ["/healthz", "/hot"]

    server = server_times(db, pages + baselines, args.runs)
    with serve(db) as base:
        chromium = browser_times(base, topics[:3] + ["/trends", "/hot"], args.runs)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {len(topics)} topic pages, {args.runs} runs each")
    topic_server = [t for path in topics for t in server[path]]
    print("\nserver, in process (median):")
    print(f"  GET /topics/<slug> ({len(topics)} topics)  {_ms(topic_server)}")
    for path in ("/trends", "/?", "/search?q=diffusion", "/healthz", "/hot"):
        print(f"  GET {path:<28} {_ms(server[path])}" + ("   (baseline)" if path in baselines else ""))
    print("\nChromium 1280 px, empty cache (median): bytes, files, DOMContentLoaded, load, charts drawn")
    for path, rows in chromium.items():
        bytes_ = statistics.median(r["bytes"] for r in rows) / 1024
        charts = [r["charts"] for r in rows if r["charts"] is not None]
        print(f"  {path:<40} {bytes_:7.1f} KiB {rows[0]['files']:3d} files  "
              f"{_ms([r['dcl'] for r in rows])}  {_ms([r['load'] for r in rows])}  {_ms(charts)}"
              + ("   (baseline)" if path == "/hot" else ""))
    static = ROOT / "src" / "paperwire" / "web" / "static"
    assets = [static / "vendor/uplot/uPlot.iife.min.js", static / "vendor/uplot/uPlot.min.css",
              static / "charts.js", static / "charts.css"]
    print("\nwhat the charts add (uncompressed): " + ", ".join(f"{a.name} {a.stat().st_size / 1024:.1f} KiB" for a in assets)
          + f"; {sum(a.stat().st_size for a in assets) / 1024:.1f} KiB in all")
    db.close()


if __name__ == "__main__":
    main()
