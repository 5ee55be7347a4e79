"""Known-item quality of the lexical engines on real recent ML papers.

Imports every Hugging Face daily list in ``../shared/corpus/hf-daily-papers/``
(about 3,700 papers with model-written keywords and summaries) into a
throw-away SQLite database, publishes the tantivy generation, and asks, for a
seeded sample of papers that have both:

* ``keywords`` — 2 of the paper's ``ai_keywords`` (what a reader remembers);
* ``paraphrase`` — up to 10 content words of its ``ai_summary`` (a model's
  retelling, not the abstract), a fifth of them dropped at random, in order.

Systems, in the same run on the same queries: ``tantivy`` (paperwire's
lexical engine: stemmed and exact forms, all words then any word, title x4,
neighbouring words as exact phrases, exact BM25), ``tantivy-plain`` (tantivy's default
tokenizer and OR query parser over title+abstract, title boosted 4: what
"just use tantivy" gives), ``tfidf`` (title+abstract, sublinear tf, smoothed
idf, cosine). Metric: MRR@10 (one relevant paper per query), Recall@10.
The retired database path (FTS5: no stemming, title 4 : abstract 1 :
authors 0.5) measured 0.898 / 0.961 on the same queries (commit 1452c31);
:data:`DATABASE_BASELINE` prints it beside the others.

    python bench/eval_lexical.py                 # ~1-2 minutes on a loaded machine
    python bench/eval_lexical.py --papers 150    # quicker
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CORPUS = ROOT.parent / "shared" / "corpus" / "hf-daily-papers"
SEED = 17
#: (keywords MRR@10, R@10, paraphrase MRR@10, R@10) of the retired FTS5 path, default arguments.
DATABASE_BASELINE = (0.898, None, 0.961, None)
STOP = frozenset("""a about above after all also an and any are as at be been being between both but by can could do does
for from has have how however in into is it its more most new no not of on one or our over paper propose proposed
show shows such than that the their them then there these they this through to two under up use used uses using via
was we well were what when where which while who will with within without would yet model models method approach
study work results result based introduce introduces presents present""".split())


def words(text: str) -> list[str]:
    from paperwire.index.query import terms

    return [t for t in terms(text) if len(t) >= 3 and t.isalpha() and t not in STOP]


def build(folder: Path):
    os.environ.update(PAPERWIRE_DATABASE_URL=f"sqlite:///{folder / 'eval.db'}", PAPERWIRE_DATA_DIR=str(folder / "data"),
                      PAPERWIRE_EMBED_ON_IMPORT="0")
    from paperwire.settings import get_settings

    get_settings.cache_clear()
    from paperwire.index.publish_lexical import publish_lexical_index
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database

    db = open_database()
    for path in sorted(CORPUS.glob("*.json")):
        try:
            import_items(db, read_path(path), skip_invalid=True)
        except Exception as exc:  # noqa: BLE001 - a damaged list must not stop the evaluation
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
    started = time.perf_counter()
    report = publish_lexical_index(db)
    print(f"{report.papers} papers; tantivy generation built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return db


def queries(db, n: int, seed: int) -> list[tuple[int, str, str]]:
    from sqlalchemy import select

    from paperwire.store.models import Paper

    with db.session() as session:
        rows = session.execute(select(Paper.id, Paper.ai_keywords, Paper.ai_summary)
                               .where(Paper.ai_summary.is_not(None)).order_by(Paper.id)).all()
    rows = [r for r in rows if r[1] and len(r[1]) >= 2 and r[2]]
    rng = random.Random(seed)
    out = []
    for pid, keywords, summary in rng.sample(rows, min(n, len(rows))):
        out.append((pid, "keywords", " ".join(rng.sample(list(keywords), 2))))
        kept = [w for w in words(summary)[:12] if rng.random() >= 0.2][:10]
        out.append((pid, "paraphrase", " ".join(kept)))
    return out


class PlainTantivy:
    """tantivy as it comes: default tokenizer, OR parser, title boosted over abstract."""

    def __init__(self, db):
        import tantivy
        from sqlalchemy import select

        from paperwire.store.models import Paper

        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", indexed=True, fast=True)
        builder.add_text_field("title")
        builder.add_text_field("abstract")
        self.index = tantivy.Index(builder.build())
        writer = self.index.writer(100_000_000, 1)
        with db.session() as session:
            for pid, title, abstract in session.execute(select(Paper.id, Paper.title, Paper.abstract)):
                writer.add_document(tantivy.Document(id=pid, title=title, abstract=abstract or ""))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def rank(self, text: str, k: int = 10) -> list[int]:
        query, _ = self.index.parse_query_lenient(re.sub(r"[^\w\s]", " ", text), ["title", "abstract"],
                                                  field_boosts={"title": 4.0})
        hits = self.searcher.search(query, k).hits
        return [int(i) for i in self.searcher.fast_field_values("id", [a for _, a in hits])] if hits else []


class SparseTfIdf:
    """Title+abstract TF-IDF with cosine ranking over an inverted index (no dense matrix)."""

    def __init__(self, db):
        from sqlalchemy import select

        from paperwire.store.models import Paper

        with db.session() as session:
            docs = session.execute(select(Paper.id, Paper.title, Paper.abstract)).all()
        counts = {pid: Counter(words(f"{t} {a or ''}")) for pid, t, a in docs}
        df = Counter(t for c in counts.values() for t in c)
        self.idf = {t: math.log((1 + len(docs)) / (1 + n)) + 1.0 for t, n in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for pid, c in counts.items():
            weights = {t: (1 + math.log(n)) * self.idf[t] for t, n in c.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for t, w in weights.items():
                self.postings[t].append((pid, w / norm))

    def rank(self, text: str, k: int = 10) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for t, n in Counter(words(text)).items():
            for pid, w in self.postings.get(t, ()):
                scores[pid] += w * (1 + math.log(n)) * self.idf[t]
        return [pid for pid, _ in sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]]


def engine_ranker(db):
    from paperwire.index.search import lexical_search
    from paperwire.index.query import parse_query

    def rank(text: str, k: int = 10) -> list[int]:
        return [h.paper.id for h in lexical_search(db, parse_query(text), limit=k).hits]
    return rank


def metrics(ranked: list[tuple[int, list[int]]]) -> tuple[float, float]:
    rr = [next((1 / (i + 1) for i, pid in enumerate(ids[:10]) if pid == want), 0.0) for want, ids in ranked]
    return sum(rr) / len(rr), sum(1 for r in rr if r > 0) / len(rr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=300, help="papers sampled (two queries each)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        db = build(Path(folder))
        qs = queries(db, args.papers, args.seed)
        systems = {"tantivy": engine_ranker(db),
                   "tantivy-plain": PlainTantivy(db).rank, "tfidf": SparseTfIdf(db).rank}
        print(f"{len(qs)} queries on {args.papers} papers (seed {args.seed})\n")
        print(f"{'system':<14} {'keywords MRR@10':>16} {'R@10':>6} {'paraphrase MRR@10':>18} {'R@10':>6} {'ms/query':>9}")
        if (args.papers, args.seed) == (300, SEED):
            km, _, pm, _ = DATABASE_BASELINE
            print(f"{'database*':<14} {km:>16.3f} {'':>6} {pm:>18.3f} {'':>6} {'':>9}   (* retired FTS5, earlier run)")
        for name, rank in systems.items():
            started = time.perf_counter()
            results = {kind: [(pid, rank(text)) for pid, k, text in qs if k == kind] for kind in ("keywords", "paraphrase")}
            ms = (time.perf_counter() - started) * 1000 / len(qs)
            (km, kr), (pm, pr) = metrics(results["keywords"]), metrics(results["paraphrase"])
            print(f"{name:<14} {km:>16.3f} {kr:>6.3f} {pm:>18.3f} {pr:>6.3f} {ms:>9.2f}")
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
