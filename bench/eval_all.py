"""Discovery quality in one table: every method, the same run, real papers.

Columns (each on data no constant was tuned on; "test" halves are the ones
not used for tuning):

* **title→abstract R@1 / R@10** — Kaggle sample (200 real arXiv records):
  each title ranks all abstracts; the paper's own abstract must come first /
  in the top 10 (``bench/eval_embedders.py``'s measure).
* **similar P@10 (Kaggle, test)** — share of a paper's 10 similar papers
  with its primary arXiv archive, for the odd-numbered half of the Kaggle
  sample (the even half chose ``index/similar.py``'s constants), all 200 as
  candidates, through a real database: the published vector index (dense),
  the published TF-IDF neighbour index, and ``similar_ids`` (the fusion). The
  Hugging Face papers carry no arXiv categories, so this column is Kaggle-only.
* **search MRR@10 keywords / paraphrase** — every paper of the real Hugging
  Face daily lists (``../shared/corpus/hf-daily-papers/``) in one database;
  ``--queries`` papers with ``ai_keywords`` and an ``ai_summary`` (seeded
  sample, the odd-id half reported) are searched for by 3 of their real
  keywords and by 12 words of their summary (an LLM's rewording of the
  abstract); systems: ``search(mode="lexical")``, ``"semantic"``,
  ``"hybrid"`` and TF-IDF cosine (the published TF-IDF matrix).
* **recall@50 real authors (test)** — ``bench/eval_recommend.py
  --real-authors`` on the same database: an author's library is their papers
  before 2025, do their 2025 papers reach the top 50 among all 2025 papers.

    PAPERWIRE_EMBEDDING_CACHE_DIR=/tmp/pw-cache python bench/eval_all.py [--authors 300 --queries 600]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

import eval_recommend  # noqa: E402  (bench/eval_recommend.py)
from eval_embedders import Tfidf, dense, kaggle, ranks_of_own  # noqa: E402

HF_DIR = Path(os.environ.get("PAPERWIRE_CORPUS", REPO.parent / "shared" / "corpus")) / "hf-daily-papers"
SAMPLE = Path(os.environ.get("PAPERWIRE_CORPUS", REPO.parent / "shared" / "corpus")) / "arxiv-metadata-sample.jsonl"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def _fresh_env(folder: Path) -> None:
    os.environ["PAPERWIRE_DATABASE_URL"] = f"sqlite:///{folder / 'eval.db'}"
    os.environ["PAPERWIRE_DATA_DIR"] = str(folder / "data")
    from paperwire.settings import get_settings

    get_settings.cache_clear()
    from paperwire.index import tfidf, vectors
    from paperwire.rank.vector_matrix import clear_cache

    vectors._CACHE.clear()
    tfidf.clear_cache()
    clear_cache()


def title_abstract() -> dict[str, dict[str, float]]:
    """R@1 / R@10 of title → own abstract, per embedder (Kaggle sample)."""
    from paperwire.index.embeddings import get_embedder

    titles, abstracts, docs, _ = kaggle()
    out = {}
    for label, make in (("paperwire-static-v1", lambda: get_embedder("paperwire-static-v1")),
                        ("paperwire-minilm-v1", lambda: get_embedder("paperwire-minilm-v1")),
                        ("TF-IDF cosine", lambda: Tfidf(docs))):
        emb = make()
        r = ranks_of_own(dense(emb.embed(titles)), dense(emb.embed(abstracts)))
        out[label] = {"R@1": float(np.mean(r <= 1)), "R@10": float(np.mean(r <= 10))}
    return out


def similar_precision(folder: Path, grid: bool = False) -> dict[str, dict[str, float]]:
    """Category P@10 of similar papers on the Kaggle sample, tune and test halves."""
    import json

    from sqlalchemy import select

    from paperwire.index.embeddings import get_embedder, paper_text
    from paperwire.index.publish import publish_vector_index
    from paperwire.index.similar import similar_ids
    from paperwire.index.tfidf import publish_tfidf_index, tfidf_index
    from paperwire.index.vectors import embed_all, semantic_index
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database
    from paperwire.store.embeddings import load_vectors
    from paperwire.store.models import Paper

    _fresh_env(folder)
    db = open_database()
    import_items(db, read_path(SAMPLE))
    embed_all(db)
    publish_vector_index(db)
    publish_tfidf_index(db)
    order = [json.loads(line)["id"] for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    with db.session() as session:
        rows = session.execute(select(Paper.id, Paper.arxiv_id, Paper.primary_category, Paper.title,
                                      Paper.abstract)).all()
    by_arxiv = {r.arxiv_id: r for r in rows}
    archive = {r.id: (r.primary_category or "").split(".")[0] for r in rows}
    index, lexical = semantic_index(db), tfidf_index(db)
    with db.session() as session:
        vecs = load_vectors(session, index.embedder.name, [r.id for r in rows])
    static = get_embedder("paperwire-static-v1")
    ids = [r.id for r in rows]
    S = static.embed([paper_text(r.title, r.abstract or "") for r in rows])
    S = S @ S.T
    np.fill_diagonal(S, -np.inf)
    static_lists = {pid: [ids[j] for j in np.argsort(-S[i])[:10]] for i, pid in enumerate(ids)}
    methods = {
        "paperwire-static-v1": lambda pid: static_lists[pid],
        "paperwire-minilm-v1": lambda pid: [p for p, _ in index.nearest(vecs[pid], 11) if p != pid],
        "TF-IDF cosine": lambda pid: [p for p, _ in lexical.neighbours(pid, 10)],
        "fusion (similar papers)": lambda pid: [p for p, _ in similar_ids(db, pid)],
    }
    def precision(neighbours) -> dict[str, float]:
        halves: dict[str, list[float]] = {"tune": [], "test": []}
        for position, arxiv_id in enumerate(order):
            pid = by_arxiv[arxiv_id].id
            top = neighbours(pid)[:10]
            halves["tune" if position % 2 == 0 else "test"].append(sum(archive[p] == archive[pid] for p in top) / 10)
        return {k: float(np.mean(v)) for k, v in halves.items()}

    out = {label: precision(neighbours) for label, neighbours in methods.items()}
    if grid:
        from paperwire.index import similar

        kept = (similar.DENSE_WEIGHT, similar.EXPAND, similar.EXPAND_WEIGHT)
        print("\n## Similar-paper fusion grid (Kaggle; constants are chosen on the tune half)\n")
        print("| DENSE_WEIGHT | EXPAND | EXPAND_WEIGHT | tune P@10 | test P@10 |\n|---|---|---|---|---|")
        for weight in (0.5, 0.6, 0.7, 0.8, 1.0):
            for expand, expand_weight in ((0, 0.0), (3, 1.0), (5, 0.5), (5, 1.0), (10, 1.0)):
                similar.DENSE_WEIGHT, similar.EXPAND, similar.EXPAND_WEIGHT = weight, expand, expand_weight
                p = precision(lambda pid: [q for q, _ in similar_ids(db, pid)])
                mark = " (similar.py)" if (weight, expand, expand_weight) == kept else ""
                print(f"| {weight}{mark} | {expand} | {expand_weight} | {p['tune']:.3f} | {p['test']:.3f} |")
        similar.DENSE_WEIGHT, similar.EXPAND, similar.EXPAND_WEIGHT = kept
    db.close()
    return out


def hf_database(folder: Path):
    """Every real daily list in one database, embedded and indexed as the worker would."""
    from paperwire.index.publish import publish_vector_index
    from paperwire.index.tfidf import publish_tfidf_index
    from paperwire.index.vectors import embed_all
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database

    _fresh_env(folder)
    db = open_database()
    for path in sorted(HF_DIR.glob("*.json")):
        import_items(db, read_path(path), skip_invalid=True)  # a few real lists are damaged
    embed_all(db)
    publish_vector_index(db)
    publish_tfidf_index(db)
    return db


def search_quality(db, n_queries: int, seed: int, grid: bool = False) -> dict[str, dict[str, float]]:
    """MRR@10 of keyword and paraphrase queries (odd-id half), per search system."""
    from sqlalchemy import select

    from paperwire.index.search import search
    from paperwire.index.tfidf import tfidf_index
    from paperwire.store.models import Paper

    with db.session() as session:
        rows = session.execute(select(Paper.id, Paper.ai_keywords, Paper.ai_summary)
                               .where(Paper.ai_summary.is_not(None), Paper.hidden.is_(False))).all()
    rows = [r for r in rows if r.ai_keywords and len(_keywords(r.ai_keywords)) >= 3 and r.ai_summary]
    rng = random.Random(seed)
    chosen = rng.sample(sorted(rows, key=lambda r: r.id), min(n_queries, len(rows)))
    queries = []
    for r in chosen:
        queries.append(("keywords", r.id, " ".join(rng.sample(_keywords(r.ai_keywords), 3))))
        queries.append(("paraphrase", r.id, " ".join(r.ai_summary.split()[:12])))
    lexical = tfidf_index(db)

    def tfidf_top(text: str) -> list[int]:
        scores = np.asarray((lexical.vectorize([text]) @ lexical.postings).todense()).ravel()
        top = np.argsort(-scores, kind="stable")[:10]
        return [int(lexical.ids[i]) for i in top if scores[i] > 0]

    systems = {
        "lexical": lambda q: [h.paper.id for h in search(db, q, mode="lexical", limit=10).hits],
        "semantic": lambda q: [h.paper.id for h in search(db, q, mode="semantic", limit=10).hits],
        "hybrid": lambda q: [h.paper.id for h in search(db, q, mode="hybrid", limit=10).hits],
        "TF-IDF cosine": tfidf_top,
    }
    out: dict[str, dict[str, float]] = {}
    for name, run in systems.items():
        out[name] = _mrr([(kind, pid, run(text)) for kind, pid, text in queries])
    if grid:
        _fusion_grid(db, queries)
    return out


def _mrr(ranked: list[tuple[str, int, list[int]]]) -> dict[str, float]:
    """MRR@10 per "<kind> <tune|test>" (odd paper ids are the test half)."""
    values: dict[str, list[float]] = {}
    for kind, pid, ids in ranked:
        ids = ids[:10]
        rr = 1.0 / (ids.index(pid) + 1) if pid in ids else 0.0
        values.setdefault(f"{kind} {'test' if pid % 2 else 'tune'}", []).append(rr)
    return {k: float(np.mean(v)) for k, v in values.items()}


def _fusion_grid(db, queries) -> None:
    """Hybrid fusion constants (``index/hybrid.py``) grid-searched on the tune half, shown on both."""
    from paperwire.index import hybrid
    from paperwire.index.query import parse_query

    lists = []
    for kind, pid, text in queries:
        parsed = parse_query(text)
        lexical, tail = hybrid.lexical_rankings(db, parsed, hybrid.CANDIDATES)
        semantic = hybrid.semantic_ranking(db, parsed, parsed.semantic_text(), hybrid.CANDIDATES)
        lists.append((kind, pid, lexical, tail, semantic))
    rows = []
    for k in (1, 5, 10, 20, 60):
        for w_lex in (0.5, 1.0, 1.5, 2.0, 3.0):
            for w_any in (0.0, 0.25, 0.5, 1.0):
                m = _mrr([(kind, pid, [p for p, _ in hybrid.fuse([lex, tail, sem], [w_lex, w_any, 1.0], k=k)[:10]])
                          for kind, pid, lex, tail, sem in lists])
                tune = (m.get("keywords tune", 0) + m.get("paraphrase tune", 0)) / 2
                rows.append((tune, k, w_lex, w_any, m))
    rows.sort(key=lambda r: -r[0])
    current = (hybrid.RRF_K, hybrid.LEXICAL_WEIGHT / hybrid.SEMANTIC_WEIGHT, hybrid.ANY_WORD_WEIGHT / hybrid.SEMANTIC_WEIGHT)
    print("\n## Hybrid fusion grid (RRF; semantic weight 1), best 8 by the tune half's mean MRR@10, and hybrid.py's\n")
    print("| k | lexical weight | any-word weight | tune keywords | tune paraphrase | test keywords | test paraphrase |")
    print("|---|---|---|---|---|---|---|")
    for tune, k, w_lex, w_any, m in rows[:8] + [r for r in rows[8:] if (r[1], r[2], r[3]) == current]:
        mark = " (hybrid.py)" if (k, w_lex, w_any) == current else ""
        print(f"| {k}{mark} | {w_lex} | {w_any} | {m.get('keywords tune', 0):.3f} | {m.get('paraphrase tune', 0):.3f} "
              f"| {m.get('keywords test', 0):.3f} | {m.get('paraphrase test', 0):.3f} |")


def _keywords(value) -> list[str]:
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(k) for k in value or [] if str(k).strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", type=int, default=300)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--grid", action="store_true", help="also grid-search the hybrid fusion constants")
    ap.add_argument("--skip-authors", action="store_true")
    ap.add_argument("--only-similar", action="store_true", help="only the similar-paper part, with its grid")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    load_before = _load()
    ta = title_abstract()
    if args.only_similar:
        with tempfile.TemporaryDirectory(prefix="pw-eval-all-") as tmp:
            for label, value in similar_precision(Path(tmp) / "kaggle", grid=True).items():
                print(f"{label}: tune {value['tune']:.3f}, test {value['test']:.3f}")
        return 0
    with tempfile.TemporaryDirectory(prefix="pw-eval-all-") as tmp:
        sim = similar_precision(Path(tmp) / "kaggle")  # its grid: --only-similar
        db = hf_database(Path(tmp) / "hf")
        sq = search_quality(db, args.queries, args.seed, grid=args.grid)
        rec_args = argparse.Namespace(hf_dir=str(HF_DIR), cut="2025-01-01", authors=args.authors, seed=args.seed)
        ra = ({"results": {}, "splits": []} if args.skip_authors
              else eval_recommend.real_authors(rec_args, db=db))
        db.close()
    load_after = _load()

    def f(value) -> str:
        return "–" if value is None else f"{value:.3f}"

    def test_recall(name: str) -> float | None:
        values = [v for v, s in zip(ra["results"].get(name, []), ra["splits"]) if s == "test"]
        return float(np.mean(values)) if values else None

    rows = [
        ("paperwire-static-v1 (dense)", ta["paperwire-static-v1"], sim["paperwire-static-v1"], None, None),
        ("paperwire-minilm-v1 (dense)", ta["paperwire-minilm-v1"], sim["paperwire-minilm-v1"], sq["semantic"],
         "dense centroid"),
        ("TF-IDF cosine", ta["TF-IDF cosine"], sim["TF-IDF cosine"], sq["TF-IDF cosine"], "TF-IDF centroid"),
        ("paperwire lexical (BM25)", None, None, sq["lexical"], None),
        ("popularity (HF upvotes)", None, None, None, "popularity (HF upvotes)"),
        ("fusion: similar papers / hybrid search / For you", None, sim["fusion (similar papers)"], sq["hybrid"],
         "For you (rank/recommend)"),
    ]
    print(f"\n# Discovery quality, one run ({time.perf_counter() - started:.0f} s)\n")
    print(f"{load_before} before, {load_after} after\n")
    print("| method | title→abstract R@1 | R@10 | similar P@10 (Kaggle, test half) | search MRR@10 keywords "
          "(test) | search MRR@10 paraphrase (test) | recall@50 real authors (test) |")
    print("|---|---|---|---|---|---|---|")
    for label, t, s, q, r in rows:
        print(f"| {label} | {f(t['R@1']) if t else '–'} | {f(t['R@10']) if t else '–'} | {f(s['test']) if s else '–'} "
              f"| {f(q.get('keywords test')) if q else '–'} | {f(q.get('paraphrase test')) if q else '–'} "
              f"| {f(test_recall(r)) if r else '–'} |")
    print("\nTune halves (what the constants were chosen on): similar P@10 "
          + ", ".join(f"{k} {v['tune']:.3f}" for k, v in sim.items())
          + "; search MRR@10 keywords/paraphrase "
          + ", ".join(f"{k} {v.get('keywords tune', 0):.3f}/{v.get('paraphrase tune', 0):.3f}" for k, v in sq.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
