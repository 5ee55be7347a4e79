"""Map layout time and peak memory: openTSNE (what the worker runs) beside PCA to 2D.

Synthetic vectors at the real model's dimension (384): 200 topic directions plus
noise, L2-normalised, so the neighbourhoods look like a corpus rather than pure
noise. Each measurement runs in a fresh child process (``spawn``) so its peak
RSS is its own; the same script, machine and moment give the baseline.

    python bench/map_layout.py --sizes 2000 10000 --place 1000
    python bench/map_layout.py --sizes 100000 --methods pca place

``place`` times the incremental step: placing ``--place`` new papers beside
their nearest neighbours among ``n`` already placed (what the ``map`` job does
between full layouts). Report ``uptime`` load beside every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import time

import numpy as np

DIM = 384


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, DIM)).astype(np.float32)
    X = centres[rng.integers(0, 200, n)] + rng.normal(scale=1.2, size=(n, DIM)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _measure(method: str, n: int, place: int, jobs: int, out) -> None:
    from paperwire.rank import paper_map

    X = vectors(n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu = time.perf_counter(), time.process_time()
    if method == "tsne":
        xy = paper_map.layout(X, n_jobs=jobs)
    elif method == "pca":
        xy = paper_map.pca_layout(X)
    else:  # place: `place` new papers among n placed ones (positions from PCA: only the time matters)
        placed_xy = paper_map.pca_layout(X)
        new = vectors(place, seed=1)
        started, cpu = time.perf_counter(), time.process_time()
        xy = paper_map.place_new(X, placed_xy, new)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    labels_started = time.perf_counter()
    clusters = paper_map.clusters(xy)[1].shape[0] if method != "place" else 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put({"method": method, "n": n, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
             "kmeans_seconds": round(time.perf_counter() - labels_started, 2) if clusters else None,
             "peak_rss_mib": round(peak / 1024, 1), "input_rss_mib": round(base / 1024, 1),
             "placed": place if method == "place" else None, "jobs": jobs})


def measure(method: str, n: int, place: int, jobs: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure, args=(method, n, place, jobs, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--methods", nargs="+", default=["pca", "tsne", "place"], choices=["pca", "tsne", "place"])
    parser.add_argument("--place", type=int, default=1000, help="new papers placed by the incremental step")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(json.dumps({"load": os.getloadavg(), "cpus": os.cpu_count()}))
    for n in args.sizes:
        for method in args.methods:
            print(json.dumps(measure(method, n, args.place, args.jobs)), flush=True)
    print(json.dumps({"load": os.getloadavg()}))


if __name__ == "__main__":
    main()
