"""Compare the packaged embedders and a TF-IDF baseline on real papers, in one run.

* **Kaggle sample** (``src/paperwire/data/demo/arxiv-metadata-sample.jsonl``, 200 real
  arXiv records): title -> own abstract R@1 / R@10 among all abstracts; category P@10:
  share of a paper's 10 nearest neighbours (title + abstract, itself excluded) whose
  primary arXiv archive (``hep-ph``, ``math``, ``cs`` ...) equals its own.
* **HF daily lists** (``../shared/corpus/hf-daily-papers/``, real Hugging Face lists):
  ``--hf-papers`` papers with ``ai_keywords`` (deduplicated, seeded sample); each gets a
  query of 3 of its keywords (seeded), ranked against all sampled papers' title + abstract;
  search MRR@10 and R@10 of the paper itself.
* **Speed**: abstracts/s embedding the Kaggle title + abstract texts (best of
  ``--repeat``), and the median ms to embed one short query, on this machine's cores.

Run (no torch needed)::

    PYTHONPATH=src /work/main/.venv/bin/python bench/eval_embedders.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from embedders import TfidfBaseline  # noqa: E402  (bench/embedders.py)

from paperwire.index.embeddings import OnnxEmbedder, StaticEmbedder, paper_text  # noqa: E402
from paperwire.sources.hf_daily import read_hf_daily  # noqa: E402

SAMPLE = REPO / "src" / "paperwire" / "data" / "demo" / "arxiv-metadata-sample.jsonl"
HF_DIR = Path(os.environ.get("PAPERWIRE_CORPUS", REPO.parent / "shared" / "corpus")) / "hf-daily-papers"


def dense(x) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float32)


def ranks_of_own(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    scores = q @ d.T
    target = scores[np.arange(len(q)), np.arange(len(q))]
    return 1 + (scores > target[:, None]).sum(axis=1)


def kaggle() -> tuple[list[str], list[str], list[str], list[str]]:
    titles, abstracts, docs, archives = [], [], [], []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        titles.append(paper_text(rec["title"], ""))
        abstracts.append(paper_text("", rec["abstract"]))
        docs.append(paper_text(rec["title"], rec["abstract"]))
        primary = rec["categories"].split()[0]
        archives.append(primary.split(".")[0])
    return titles, abstracts, docs, archives


def hf_queries(limit: int, seed: int) -> tuple[list[str], list[str]]:
    papers: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(HF_DIR.glob("*.json")):
        for rec in read_hf_daily(path):
            keywords = getattr(rec, "ai_keywords", None)
            if keywords and len(keywords) >= 3 and rec.abstract and rec.arxiv_id and rec.arxiv_id not in papers:
                papers[rec.arxiv_id] = (paper_text(rec.title, rec.abstract), list(keywords))
    rng = random.Random(seed)
    chosen = rng.sample(sorted(papers), min(limit, len(papers)))
    docs = [papers[k][0] for k in chosen]
    queries = [" ".join(rng.sample(papers[k][1], 3)) for k in chosen]
    return docs, queries


def evaluate(label: str, make, data: dict, repeat: int) -> dict:
    t0 = time.perf_counter()
    emb = make(data)
    emb.embed(["warm up"])
    load_s = time.perf_counter() - t0
    titles, abstracts, docs, archives = data["kaggle"]
    t = dense(emb.embed(titles))
    a = dense(emb.embed(abstracts))
    r = ranks_of_own(t, a)
    d = dense(emb.embed(docs))
    sims = d @ d.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, :10]
    arch = np.asarray(archives)
    p10 = float(np.mean(arch[top] == arch[:, None]))
    hf_docs, hf_q = data["hf"]
    if hasattr(emb, "refit"):
        emb.refit(hf_docs)
    hr = ranks_of_own(dense(emb.embed(hf_q)), dense(emb.embed(hf_docs)))
    best = float("inf")
    for _ in range(repeat):
        t1 = time.perf_counter()
        emb.embed(docs)
        best = min(best, time.perf_counter() - t1)
    q_ms = []
    for q in hf_q[:60]:
        t1 = time.perf_counter()
        emb.embed([q])
        q_ms.append((time.perf_counter() - t1) * 1000)
    row = {
        "embedder": label, "R@1": float(np.mean(r <= 1)), "R@10": float(np.mean(r <= 10)),
        "cat_P@10": p10, "hf_MRR@10": float(np.mean(np.where(hr <= 10, 1.0 / hr, 0.0))),
        "hf_R@10": float(np.mean(hr <= 10)), "abstracts_per_s": len(docs) / best,
        "query_ms": statistics.median(q_ms), "load_s": load_s,
    }
    print(f"done {label}", file=sys.stderr)
    return row


class Tfidf(TfidfBaseline):
    """TF-IDF fitted on the corpus being searched (Kaggle docs, then the HF docs)."""

    def refit(self, docs: list[str]) -> None:
        self.__init__(docs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hf-papers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--also-128", action="store_true", help="also MiniLM cut at 128 tokens")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    data = {"kaggle": kaggle(), "hf": hf_queries(args.hf_papers, args.seed)}
    cands = [
        ("paperwire-static-v1", lambda _d: StaticEmbedder()),
        ("paperwire-minilm-v1 (int8 ONNX, 256 tokens)", lambda _d: OnnxEmbedder()),
        ("tfidf", lambda d: Tfidf(d["kaggle"][2])),
    ]
    if args.also_128:
        cands.insert(2, ("paperwire-minilm-v1 cut at 128 tokens", lambda _d: OnnxEmbedder(max_tokens=128)))
    rows = [evaluate(label, make, data, args.repeat) for label, make in cands]
    end_load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nKaggle sample: {len(data['kaggle'][0])} papers; HF lists: {len(data['hf'][0])} papers with "
          f"ai_keywords (3-keyword queries); {os.cpu_count()} CPU cores")
    print(f"load before: {load}\nload after:  {end_load}\n")
    print("| embedder | title→abstract R@1 | R@10 | category P@10 | HF keyword MRR@10 | HF R@10 "
          "| abstracts/s | query ms | load s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['embedder']} | {r['R@1']:.3f} | {r['R@10']:.3f} | {r['cat_P@10']:.3f} | "
              f"{r['hf_MRR@10']:.3f} | {r['hf_R@10']:.3f} | {r['abstracts_per_s']:,.0f} | "
              f"{r['query_ms']:.1f} | {r['load_s']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "uptime": [load, end_load]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
