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
* **search MRR@10 mismatch / no-title** — the summary reuses the abstract's
  words, so "paraphrase" above is nearly a copy and BM25 finds it. A real
  reader describes a paper in *their* words, not the paper's: the
  vocabulary-mismatch query is the words of a paper's ``ai_summary`` whose
  English stems (tantivy's stemmer, the lexical index's) occur in neither its
  title nor its abstract — stopwords (scikit-learn's English list and the
  query parser's), 1-letter words and numbers dropped, each stem once, in
  summary order, at most 12 words; every paper of the lists with at least 4
  such words takes part (about one in ten has them; the sample above would
  leave too few). The milder "no-title" kind is the first 12 summary words
  whose stems are not in the title (same filters, same sampled papers as the
  keyword queries, at least 4 words). Both are built from real data only, no
  word is invented, and a query can still share no word at all with its own
  paper — only meaning connects them.
* **recall@50 real authors (test)** — ``bench/eval_recommend.py
  --real-authors`` on the same database: an author's library is their papers
  before 2025, do their 2025 papers reach the top 50 among all 2025 papers.

    PAPERWIRE_EMBEDDING_CACHE_DIR=/tmp/pw-cache python bench/eval_all.py [--authors 300 --queries 600]
    ... bench/eval_all.py --only-search --grid --reuse /tmp/pw-hf   # search part only, database kept
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
    from paperwire.index.publish_lexical import publish_lexical_index
    from paperwire.index.tfidf import publish_tfidf_index
    from paperwire.index.vectors import embed_all
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database

    reused = (folder / "eval.db").exists() and (folder / "ready").exists()
    _fresh_env(folder)
    db = open_database()
    if reused:  # a --reuse folder of an earlier run: imported, embedded and indexed already
        publish_lexical_index(db)  # a folder from before the lexical publish below: build it now
        return db
    for path in sorted(HF_DIR.glob("*.json")):
        import_items(db, read_path(path), skip_invalid=True)  # a few real lists are damaged
    embed_all(db)
    publish_vector_index(db)
    publish_tfidf_index(db)
    publish_lexical_index(db)  # imports do not publish the tantivy index (lexical search found nothing)
    (folder / "ready").write_text("imported, embedded and indexed\n")
    return db


#: Query words of the summary-made kinds, and the fewest unshared words a mismatch query needs.
QUERY_WORDS = 12
MIN_UNSHARED = 4
#: Query kinds in table order (see the module docstring).
KINDS = ("keywords", "paraphrase", "mismatch", "no-title", "written")
#: Queries written from each paper's title alone (``bench/written_queries.json``, see its "about").
WRITTEN = REPO / "bench" / "written_queries.json"


def _stopwords() -> frozenset[str]:
    """scikit-learn's English stopwords and the query parser's (words that say nothing of a paper)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from paperwire.index.query import STOPWORDS

    return frozenset(ENGLISH_STOP_WORDS) | STOPWORDS


def unshared_words(summary: str, paper_text: str, stop: frozenset[str]) -> list[str]:
    """The summary's words whose English stem is not in ``paper_text``, first of each stem, in order.

    Stems by the lexical index's own analyzer, so "not in the paper" means
    exactly "BM25 cannot match it": the words a reader uses that the paper does not.
    """
    from paperwire.index.lexical_tantivy import ANALYZERS, PLAIN, STEMMED

    stem, plain = ANALYZERS[STEMMED], ANALYZERS[PLAIN]
    present = set(stem.analyze(paper_text))
    out: list[str] = []
    seen: set[str] = set()
    for word in plain.analyze(summary):
        if len(word) < 2 or word.isdigit() or word in stop:
            continue
        stems = stem.analyze(word)
        key = stems[0] if stems else word
        if key in present or key in seen:
            continue
        seen.add(key)
        out.append(word)
    return out


def make_queries(rows, n_queries: int, seed: int) -> list[tuple[str, int, str]]:
    """(kind, paper id, query text) of every kind; the first two kinds as before this change (same seed, same queries)."""
    stop = _stopwords()
    usable = [r for r in rows if r.ai_keywords and len(_keywords(r.ai_keywords)) >= 3 and r.ai_summary]
    rng = random.Random(seed)
    chosen = rng.sample(sorted(usable, key=lambda r: r.id), min(n_queries, len(usable)))
    queries = []
    for r in chosen:
        queries.append(("keywords", r.id, " ".join(rng.sample(_keywords(r.ai_keywords), 3))))
        queries.append(("paraphrase", r.id, " ".join(r.ai_summary.split()[:QUERY_WORDS])))
    for r in chosen:
        words = unshared_words(r.ai_summary, r.title or "", stop)
        if len(words) >= MIN_UNSHARED:
            queries.append(("no-title", r.id, " ".join(words[:QUERY_WORDS])))
    for r in sorted(rows, key=lambda r: r.id):  # every paper with enough of them: about one in ten
        if not r.ai_summary:
            continue
        words = unshared_words(r.ai_summary, f"{r.title or ''} {r.abstract or ''}", stop)
        if len(words) >= MIN_UNSHARED:
            queries.append(("mismatch", r.id, " ".join(words[:QUERY_WORDS])))
    return queries + written_queries(rows)


def written_queries(rows) -> list[tuple[str, int, str]]:
    """The hand-written kind: a reader's description of a paper in other words than its title's.

    Written from the title alone (the abstract unseen), so unlike the
    summary-made kinds they do not reuse the abstract's words except by the
    chance any description has; no word of the title (see the file's "about").
    """
    import json

    by_arxiv = {r.arxiv_id: r.id for r in rows if r.arxiv_id}
    entries = json.loads(WRITTEN.read_text(encoding="utf-8"))["queries"]
    return [("written", by_arxiv[e["arxiv_id"]], e["query"]) for e in entries if e["arxiv_id"] in by_arxiv]


def search_quality(db, n_queries: int, seed: int, grid: bool = False,
                   dump: Path | None = None) -> dict[str, dict[str, list[float]]]:
    """Reciprocal ranks (cut at 10) per system and "<kind> <tune|test>" (odd paper ids are the test half)."""
    from sqlalchemy import select

    from paperwire.index.search import search
    from paperwire.index.tfidf import tfidf_index
    from paperwire.store.models import Paper

    with db.session() as session:
        rows = session.execute(select(Paper.id, Paper.arxiv_id, Paper.title, Paper.abstract, Paper.ai_keywords,
                                      Paper.ai_summary).where(Paper.hidden.is_(False))).all()
    queries = make_queries(rows, n_queries, seed)
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
    out: dict[str, dict[str, list[float]]] = {}
    for name, run in systems.items():
        t0, c0 = time.perf_counter(), time.process_time()
        out[name] = _rr([(kind, pid, run(text)) for kind, pid, text in queries])
        print(f"{name}: {len(queries)} queries in {time.perf_counter() - t0:.0f} s wall, "
              f"{time.process_time() - c0:.0f} CPU-s", file=sys.stderr)
    if grid or dump:
        _fusion_grid(db, queries, dump)
    return out


def _rr(ranked: list[tuple[str, int, list[int]]]) -> dict[str, list[float]]:
    """Reciprocal rank within the top 10 per query, grouped by "<kind> <tune|test>", in query order."""
    values: dict[str, list[float]] = {}
    for kind, pid, ids in ranked:
        ids = ids[:10]
        rr = 1.0 / (ids.index(pid) + 1) if pid in ids else 0.0
        values.setdefault(f"{kind} {'test' if pid % 2 else 'tune'}", []).append(rr)
    return values


def _mrr(ranked: list[tuple[str, int, list[int]]]) -> dict[str, float]:
    """MRR@10 per "<kind> <tune|test>" (odd paper ids are the test half)."""
    return {k: float(np.mean(v)) for k, v in _rr(ranked).items()}


def paired(a: list[float], b: list[float]) -> tuple[float, float]:
    """Mean of the paired differences a − b and its standard error (same queries, same order)."""
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


def _fusion_grid(db, queries, dump: Path | None = None) -> None:
    """Hybrid fusion constants (``index/hybrid.py``) grid-searched on the tune half, shown on both.

    Besides one k and one weight set for every query, the grid tries the
    weak-match rule (``hybrid.fusion_weights``): when no paper has all the
    words and the best any-word match holds less than a share of the query's
    terms, the semantic ranking gets another weight.
    """
    import pickle

    from paperwire.index import hybrid
    from paperwire.index.query import parse_query

    lists = []
    for kind, pid, text in queries:
        parsed = parse_query(text)
        words = hybrid.lexical_rankings(db, parsed, hybrid.CANDIDATES)
        semantic = hybrid.semantic_ranking(db, parsed, parsed.semantic_text(), hybrid.CANDIDATES)
        with db.read_session() as session:  # 1.0 where some paper has all the words
            coverage = hybrid.best_match_coverage(session, parsed, words)
        lists.append((kind, pid, words.ranking, words.tail, semantic, words.fell_back, coverage))
    if dump:
        dump.write_bytes(pickle.dumps(lists))
    kinds = [k for k in KINDS if any(q[0] == k for q in queries)]
    rows = []
    for k in (1, 5, 10, 20, 60):
        for w_lex in (1.0, 2.0, 3.0):
            for w_any in (0.0, 0.5, 1.0):
                for below in (0.0, 0.4, 0.5, 0.6, 0.7, 0.8):  # 0.0: the rule off
                    for w_weak in ((1.0,) if below == 0.0 else (2.0, 4.0, 6.0)):
                        m = _mrr([(kind, pid, [p for p, _ in hybrid.fuse(
                            [lex, tail, sem], [w_lex, w_any, w_weak if back and cov < below else 1.0], k=k)[:10]])
                                  for kind, pid, lex, tail, sem, back, cov in lists])
                        tune = float(np.mean([m.get(f"{kind} tune", 0) for kind in kinds]))
                        rows.append((tune, (k, w_lex, w_any, below, w_weak), m))
    rows.sort(key=lambda r: -r[0])
    current = (hybrid.RRF_K, hybrid.LEXICAL_WEIGHT / hybrid.SEMANTIC_WEIGHT,
               hybrid.ANY_WORD_WEIGHT / hybrid.SEMANTIC_WEIGHT, hybrid.WEAK_MATCH_COVERAGE,
               hybrid.WEAK_MATCH_SEMANTIC_WEIGHT / hybrid.SEMANTIC_WEIGHT)
    print("\n## Hybrid fusion grid (RRF; semantic weight 1, or the weak-match weight when no paper has all the "
          "words and the best any-word match holds less than the share given of them), best 10 by the tune "
          "half's mean MRR@10 over the kinds, and hybrid.py's\n")
    print("| k | lexical | any-word | weak match below | semantic on weak match | "
          + " | ".join(f"tune {k}" for k in kinds) + " | " + " | ".join(f"test {k}" for k in kinds) + " |")
    print("|" + "---|" * (5 + 2 * len(kinds)))
    for tune, params, m in rows[:10] + [r for r in rows[10:] if r[1] == current]:
        mark = " (hybrid.py)" if params == current else ""
        print(f"| {params[0]}{mark} | {params[1]} | {params[2]} | {params[3]} | {params[4]} | "
              + " | ".join(f"{m.get(f'{k} tune', 0):.3f}" for k in kinds) + " | "
              + " | ".join(f"{m.get(f'{k} test', 0):.3f}" for k in kinds) + " |")
    print("\nShare of queries where no paper has all the words: "
          + ", ".join(f"{k} {np.mean([q[5] for q in lists if q[0] == k]):.2f}" for k in kinds))
    print("Median share of the query's terms in the best any-word match, where it fell back: "
          + ", ".join(f"{k} {np.median([q[6] for q in lists if q[0] == k and q[5]] or [np.nan]):.2f}" for k in kinds))

    def rank(ranking, pid) -> int:
        ids = [p for p, _ in ranking][:10]
        return ids.index(pid) + 1 if pid in ids else 11

    # What any fusion could gain: the queries where the semantic ranking puts the paper higher than lexical does.
    print("\nHeadroom (tune half): queries where lexical does not rank the paper first / of those, where the "
          "semantic ranking ranks it higher: " + ", ".join(
              f"{k} {sum(rank(q[2] or q[3], q[1]) > 1 for q in part)}/{len(part)} → "
              f"{sum(rank(q[4], q[1]) < rank(q[2] or q[3], q[1]) for q in part)}"
              for k in kinds for part in [[q for q in lists if q[0] == k and q[1] % 2 == 0]]))


def _keywords(value) -> list[str]:
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [str(k) for k in value or [] if str(k).strip()]


def search_table(sq: dict[str, dict[str, list[float]]]) -> None:
    """Every search system on every query kind, both halves, and hybrid − lexical paired on each."""
    keys = [f"{k} {half}" for half in ("test", "tune") for k in KINDS if f"{k} {half}" in sq["lexical"]]
    print("\n## Search MRR@10 by query kind (test = odd paper ids; n = queries)\n")
    print("| system | " + " | ".join(f"{k} (n={len(sq['lexical'][k])})" for k in keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, values in sq.items():
        print(f"| {name} | " + " | ".join(f"{np.mean(values[k]):.3f}" for k in keys) + " |")
    print("\nPaired differences, mean ± standard error over the same queries: "
          + "; ".join(f"{k}: hybrid − lexical {d:+.3f} ± {se:.3f}, hybrid − semantic {d2:+.3f} ± {se2:.3f}"
                      for k in keys for (d, se), (d2, se2) in [(paired(sq["hybrid"][k], sq["lexical"][k]),
                                                                paired(sq["hybrid"][k], sq["semantic"][k]))]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", type=int, default=300)
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--grid", action="store_true", help="also grid-search the hybrid fusion constants")
    ap.add_argument("--skip-authors", action="store_true")
    ap.add_argument("--only-similar", action="store_true", help="only the similar-paper part, with its grid")
    ap.add_argument("--only-search", action="store_true", help="only the search part (Hugging Face lists)")
    ap.add_argument("--reuse", metavar="FOLDER", type=Path,
                    help="keep the Hugging Face database in FOLDER (built once, reused on later runs)")
    ap.add_argument("--dump", metavar="FILE", type=Path,
                    help="write the per-query lexical/any-word/semantic rankings (pickle) for offline fusion grids")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    cpu_started = time.process_time()
    load_before = _load()
    if args.only_similar:
        title_abstract()
        with tempfile.TemporaryDirectory(prefix="pw-eval-all-") as tmp:
            for label, value in similar_precision(Path(tmp) / "kaggle", grid=True).items():
                print(f"{label}: tune {value['tune']:.3f}, test {value['test']:.3f}")
        return 0
    ta = None if args.only_search else title_abstract()
    with tempfile.TemporaryDirectory(prefix="pw-eval-all-") as tmp:
        sim = None if args.only_search else similar_precision(Path(tmp) / "kaggle")  # its grid: --only-similar
        db = hf_database(args.reuse or Path(tmp) / "hf")
        print(f"database ready after {time.perf_counter() - started:.0f} s", file=sys.stderr)
        sq = search_quality(db, args.queries, args.seed, grid=args.grid, dump=args.dump)
        rec_args = argparse.Namespace(hf_dir=str(HF_DIR), cut="2025-01-01", authors=args.authors, seed=args.seed)
        ra = ({"results": {}, "splits": []} if args.skip_authors or args.only_search
              else eval_recommend.real_authors(rec_args, db=db))
        db.close()
    load_after = _load()
    print(f"\n# Discovery quality, one run ({time.perf_counter() - started:.0f} s wall, "
          f"{time.process_time() - cpu_started:.0f} CPU-s of this process)\n")
    print(f"{load_before} before, {load_after} after")
    search_table(sq)
    if args.only_search:
        return 0
    mrr = {name: {k: float(np.mean(v)) for k, v in values.items()} for name, values in sq.items()}

    def f(value) -> str:
        return "–" if value is None else f"{value:.3f}"

    def test_recall(name: str) -> float | None:
        values = [v for v, s in zip(ra["results"].get(name, []), ra["splits"]) if s == "test"]
        return float(np.mean(values)) if values else None

    rows = [
        ("paperwire-static-v1 (dense)", ta["paperwire-static-v1"], sim["paperwire-static-v1"], None, None),
        ("paperwire-minilm-v1 (dense)", ta["paperwire-minilm-v1"], sim["paperwire-minilm-v1"], mrr["semantic"],
         "dense centroid"),
        ("TF-IDF cosine", ta["TF-IDF cosine"], sim["TF-IDF cosine"], mrr["TF-IDF cosine"], "TF-IDF centroid"),
        ("paperwire lexical (BM25)", None, None, mrr["lexical"], None),
        ("popularity (HF upvotes)", None, None, None, "popularity (HF upvotes)"),
        ("fusion: similar papers / hybrid search / For you", None, sim["fusion (similar papers)"], mrr["hybrid"],
         "For you (rank/recommend)"),
    ]
    print("\n| method | title→abstract R@1 | R@10 | similar P@10 (Kaggle, test half) | search MRR@10 keywords "
          "(test) | search MRR@10 paraphrase (test) | search MRR@10 mismatch (test) | recall@50 real authors (test) |")
    print("|---|---|---|---|---|---|---|---|")
    for label, t, s, q, r in rows:
        print(f"| {label} | {f(t['R@1']) if t else '–'} | {f(t['R@10']) if t else '–'} | {f(s['test']) if s else '–'} "
              f"| {f(q.get('keywords test')) if q else '–'} | {f(q.get('paraphrase test')) if q else '–'} "
              f"| {f(q.get('mismatch test')) if q else '–'} | {f(test_recall(r)) if r else '–'} |")
    print("\nTune halves (what the constants were chosen on): similar P@10 "
          + ", ".join(f"{k} {v['tune']:.3f}" for k, v in sim.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
