"""Page weight and render time of /map in Chromium with N papers on the map.

Builds a SQLite database with N synthetic papers and one published map
generation (clustered synthetic points: drawing cost does not depend on how
the layout was made), serves it with uvicorn and loads, in Debian's headless
Chromium (software WebGL, no GPU), the home page (the baseline) and /map with
the default first sample and with every point (``?sample=N``). Reports bytes
transferred (and gzip-compressed, what a compressing proxy would send), the
time from navigation to the first frame with points, and the time of one
redraw (what a pan or zoom frame costs).

    python bench/map_page.py --papers 100000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np


def build(url: str, papers: int) -> None:
    from paperwire.records import PaperRecord
    from paperwire.store.db import open_database
    from paperwire.store.generations import begin_generation, publish_generation
    from paperwire.store.models import Paper
    from paperwire.store.paper_map import MAP, ClusterRow, save_clusters, save_points
    from paperwire.store.papers import upsert_papers
    from sqlalchemy import select

    db = open_database(url)
    for start in range(0, papers, 5000):
        with db.session() as session:
            upsert_papers(session, [PaperRecord(title=f"Synthetic paper {i} on topic {i % 60}",
                                                abstract="", source="bench") for i in range(start, min(papers, start + 5000))])
    rng = np.random.default_rng(0)
    centres = rng.uniform(-90, 90, size=(60, 2))
    with db.session() as session:
        ids = np.array(sorted(session.scalars(select(Paper.id))), dtype=np.int64)
        labels = rng.integers(0, 60, len(ids))
        xy = centres[labels] + rng.normal(scale=6, size=(len(ids), 2))
        generation = begin_generation(session, MAP, "bench", "bench", datetime(2025, 1, 1))
        save_points(session, generation, ids, xy, labels)
        save_clusters(session, generation, [ClusterRow(c, f"topic {c}", None, float(centres[c, 0]), float(centres[c, 1]),
                                                       int((labels == c).sum())) for c in range(60)])
        publish_generation(session, generation, path=None, size=len(ids), seconds=0.0)
    db.close()


def measure(browser, url: str, drawn: bool) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sizes: list[tuple[str, bytes]] = []
    page.on("response", lambda r: sizes.append((r.url, r.body())) if r.status == 200 else None)
    started = time.perf_counter()
    page.goto(url)
    result = {"url": url.split(":", 2)[-1].split("/", 1)[-1] or "/"}
    if drawn:
        page.locator("#paper-map[data-drawn='1']").wait_for(timeout=120_000)
        result["first_frame_ms"] = int(page.locator("#paper-map").get_attribute("data-drawn-at"))
        result["redraw_ms"] = round(page.evaluate(
            "(() => { const d = window.paperwireMap.deck; const t = performance.now();"
            " for (let i = 0; i < 5; i++) d.redraw(true); return (performance.now() - t) / 5; })()"), 1)
        result["points"] = len(page.evaluate("window.paperwireMap.ids"))
    else:
        page.wait_for_load_state("load")
        result["first_frame_ms"] = int(page.evaluate("performance.timing.loadEventEnd - performance.timing.navigationStart"))
    result["wall_s"] = round(time.perf_counter() - started, 2)
    result["bytes"] = sum(len(body) for _, body in sizes)
    result["gzip_bytes"] = sum(len(gzip.compress(body, 6)) for _, body in sizes)
    result["api_bytes"] = sum(len(body) for u, body in sizes if "/api/map" in u)
    page.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, serve

    with tempfile.TemporaryDirectory() as folder:
        os.environ["PAPERWIRE_DATA_DIR"] = str(Path(folder) / "data")
        url = f"sqlite:///{folder}/map.db"
        t = time.perf_counter()
        build(url, args.papers)
        print(json.dumps({"built_s": round(time.perf_counter() - t, 1), "papers": args.papers, "load": os.getloadavg()}))
        from paperwire.store.db import open_database

        db = open_database(url)
        with serve(db) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            print(json.dumps(measure(browser, base + "/", drawn=False)))
            print(json.dumps(measure(browser, base + "/map", drawn=True)))
            print(json.dumps(measure(browser, base + f"/map?sample={args.papers}", drawn=True)))
            browser.close()
        print(json.dumps({"load": os.getloadavg()}))


if __name__ == "__main__":
    main()
