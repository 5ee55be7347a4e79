"""Search quality: lexical vs semantic vs hybrid vs a plain TF-IDF baseline.

Builds a throw-away database from the bundled demo corpus (~450 papers), then
measures, in one run and on labels the project ships:

1. **Known-item retrieval.** Every paper gets queries that do *not* copy its
   title, generated deterministically (seeded) from its abstract:

   * ``keywords`` — 3 salient abstract words that are not title words (no
     word sharing a crude stem with a title word), drawn at random from the
     paper's 10 highest-TF-IDF such words; in half of the queries one of the
     words is given the other inflection (``model`` <-> ``models``), as a
     user remembering a paper would. The FTS index does no stemming, so this
     costs lexical search; it costs the embedder almost nothing.
   * ``description`` — a sentence of the abstract other than the first (the
     first usually restates the title) with the title's words removed, a
     quarter of the remaining content words dropped at random and at most
     12 words kept: a loose, sentence-length description of the paper.

   Metrics: MRR@10, Recall@1, Recall@10 (one relevant paper per query).

2. **Category agreement.** For each of the 200 Kaggle records (the only
   papers with arXiv categories) the title is the query; precision@10 is the
   share of the top 10 results (the paper itself excluded) whose primary
   archive (``hep-ph``, ``math``, ``cs``, ``cond-mat`` …) equals the paper's,
   counting only results that have categories (the Daily-Papers papers have
   none; a query whose top 10 has no categorised paper is skipped). The same
   metric is given for *similar papers* (``similar_papers``: neighbours of the
   paper's own vector) and for TF-IDF document-document neighbours.

The TF-IDF baseline is title+abstract, the index's own tokenisation, English
stopwords removed, sublinear tf, smoothed idf, L2-normalised, cosine ranking.

**Fusion tuning.** Lexical and semantic candidate lists (depth
``hybrid.CANDIDATES``) are computed once per query; fusion methods and
parameters are grid-searched offline on the *tuning half* (papers with an
even id) and reported on the *test half* (odd ids). The hybrid rows of the
main table are the real ``search(mode="hybrid")`` path with the constants in
``paperwire/index/hybrid.py``, on all queries and on the test half.

    python bench/eval_search.py            # ~1 minute on 2 cores
    python bench/eval_search.py --no-grid  # skip the grid search
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEED = 20240611
KEYWORDS_PER_QUERY = 3
TOPIC_WORDS = 4
DESCRIPTION_MAX_WORDS = 12

#: English stopwords for query generation and the TF-IDF baseline (broader than the search box's list).
ENGLISH_STOPWORDS = frozenset("""
a about above after again against all also although am among an and any are as at be because been before being
below between both but by can could did do does doing done down due during each either et etc few for from further
had has have having he her here hers herself him himself his how however i if in into is it its itself just least
less many may might more most much must my near neither no nor not now of off often on once one only or other our
ours out over own per rather same several she should show shown shows since so some such than that the their them
then there these they this those through thus to too two under until up upon us use used uses using very via was we
well were what when where whether which while who whom whose why will with within without would yet you your
paper propose proposed present presented study studied result results new based first second also given obtain
obtained find found approach method methods work
""".split())

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


# --------------------------------------------------------------------------- corpus


@dataclass
class Doc:
    id: int
    uid: str
    title: str
    abstract: str
    archive: str | None  # primary arXiv archive ("hep-ph", "math", "cs") or None


def archive_of(primary_category: str | None) -> str | None:
    if not primary_category:
        return None
    return primary_category.strip().split(".")[0] or None


def build_demo_db(folder: Path):
    """A fresh SQLite database in ``folder`` holding the embedded demo corpus."""
    os.environ["PAPERWIRE_DATA_DIR"] = str(folder / "data")
    os.environ["PAPERWIRE_DATABASE_URL"] = f"sqlite:///{folder / 'eval.db'}"
    from paperwire.settings import get_settings

    get_settings.cache_clear()
    from paperwire.demo import load_demo
    from paperwire.store.db import open_database

    db = open_database(f"sqlite:///{folder / 'eval.db'}")
    load_demo(db, log=lambda *_: None, real_days=False)
    return db


def load_docs(db) -> list[Doc]:
    from sqlalchemy import select

    from paperwire.store.models import Paper

    with db.session() as session:
        papers = session.scalars(select(Paper).where(Paper.hidden.is_(False)).order_by(Paper.id)).all()
        return [Doc(p.id, p.uid, p.title, p.abstract or "", archive_of(p.primary_category)) for p in papers]


# --------------------------------------------------------------------------- text helpers


def tokens(text: str) -> list[str]:
    from paperwire.index.query import terms

    return terms(text)


#: LaTeX command names left in abstracts as words (``\\widetilde`` -> ``widetilde``): never query words.
LATEX_WORDS = frozenset(
    "times mtimes widetilde tilde mathbb mathcal mathrm mathbf frac sqrt cdot ldots dots left right textit textbf "
    "emph epsilon varepsilon delta omega alpha beta gamma lambda sigma theta infty leq geq neq approx sim".split()
)


def content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if len(t) >= 3 and t.isalpha() and t not in ENGLISH_STOPWORDS]


def query_words(text: str) -> list[str]:
    """Content words a person could remember (no LaTeX command names)."""
    return [t for t in content_tokens(text) if t not in LATEX_WORDS]


def crude_stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def other_inflection(word: str) -> str:
    """``models`` -> ``model``, ``model`` -> ``models`` (crude, like a user's memory)."""
    if word.endswith(("ed", "ing", "ly", "al", "ous", "ive", "ic", "ble")):  # not a noun: -ed/-ing swap
        if word.endswith("ed") and len(word) > 5:
            return word[:-2] + "ing"
        if word.endswith("ing") and len(word) > 6:
            return word[:-3] + "ed"
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        return word[:-1]
    if word.endswith("y") and len(word) > 3 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


# --------------------------------------------------------------------------- TF-IDF baseline


class TfIdf:
    """Title+abstract TF-IDF (sublinear tf, smoothed idf, L2 norm) with cosine ranking."""

    def __init__(self, docs: list[Doc]):
        self.ids = np.array([d.id for d in docs])
        counts = [Counter(content_tokens(f"{d.title} {d.abstract}")) for d in docs]
        vocab: dict[str, int] = {}
        for c in counts:
            for t in c:
                vocab.setdefault(t, len(vocab))
        self.vocab = vocab
        df = np.zeros(len(vocab))
        for c in counts:
            for t in c:
                df[vocab[t]] += 1
        self.df = df
        self.idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
        matrix = np.zeros((len(docs), len(vocab)), dtype=np.float32)
        for row, c in enumerate(counts):
            for t, n in c.items():
                matrix[row, vocab[t]] = (1 + math.log(n)) * self.idf[vocab[t]]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms > 0, norms, 1)

    def rank(self, text: str, k: int, exclude: int | None = None) -> list[int]:
        found = [(self.vocab[t], (1 + math.log(n)) * self.idf[self.vocab[t]])
                 for t, n in Counter(content_tokens(text)).items() if t in self.vocab]
        if not found:
            return []
        cols = np.array([c for c, _ in found])
        weights = np.array([w for _, w in found], dtype=np.float32)
        return self._top(self.matrix[:, cols] @ (weights / np.linalg.norm(weights)), k, exclude)

    def neighbours(self, row: int, k: int) -> list[int]:
        return self._top(self.matrix @ self.matrix[row], k, int(self.ids[row]))

    def _top(self, scores: np.ndarray, k: int, exclude: int | None) -> list[int]:
        order = np.argsort(-scores, kind="stable")
        out = [int(self.ids[i]) for i in order[: k + 1] if scores[i] > 0 and int(self.ids[i]) != exclude]
        return out[:k]


# --------------------------------------------------------------------------- queries


@dataclass
class Query:
    paper_id: int
    kind: str  # "keywords" | "description" | "title"
    text: str


def known_item_queries(docs: list[Doc], tfidf: TfIdf, seed: int = SEED) -> list[Query]:
    rng = random.Random(seed)
    out: list[Query] = []
    for doc in docs:
        title_stems = _forms(tokens(doc.title))
        words = [t for t in query_words(doc.abstract) if not _forms([t]) & title_stems]
        if len(words) < 4:
            continue
        # keywords: 3 of the 10 most salient non-title words, one re-inflected half the time
        counts = Counter(words)
        salience = {w: (1 + math.log(n)) * tfidf.idf[tfidf.vocab[w]] for w, n in counts.items()}
        top = sorted(salience, key=lambda w: (-salience[w], w))[:10]
        out.append(Query(doc.id, "keywords", " ".join(_reinflect(rng, rng.sample(top, min(KEYWORDS_PER_QUERY, len(top)))))))
        # topic: 4 non-title words that other papers use too (df >= 2), one re-inflected half the time
        shared = sorted(w for w in counts if tfidf.df[tfidf.vocab[w]] >= 2)
        if len(shared) >= TOPIC_WORDS:
            out.append(Query(doc.id, "topic", " ".join(_reinflect(rng, rng.sample(shared, TOPIC_WORDS)))))
        # description: a non-first sentence without title words, thinned out
        sentences = [s for s in _SENTENCE_RE.split(" ".join(doc.abstract.split())) if len(content_tokens(s)) >= 4]
        if len(sentences) > 1:
            sentences = sentences[1:]
        if not sentences:
            continue
        sentence = rng.choice(sentences)
        kept = []
        for t in tokens(sentence):
            if _forms([t]) & title_stems or not t.isalpha() or t in LATEX_WORDS:
                continue
            if t not in ENGLISH_STOPWORDS and len(t) >= 3 and rng.random() < 0.25:
                continue
            kept.append(t)
        kept = kept[:DESCRIPTION_MAX_WORDS]
        if len(content_tokens(" ".join(kept))) >= 2:
            out.append(Query(doc.id, "description", " ".join(kept)))
    return out


def _forms(words: list[str]) -> set[str]:
    """The words, their crude stems and other inflections (to keep title words out of queries)."""
    out: set[str] = set()
    for w in words:
        other = other_inflection(w)
        out |= {w, crude_stem(w), other, crude_stem(other)}
    return out


def _reinflect(rng: random.Random, words: list[str]) -> list[str]:
    if words and rng.random() < 0.5:
        i = rng.randrange(len(words))
        words[i] = other_inflection(words[i])
    return words


def title_queries(docs: list[Doc]) -> list[Query]:
    """The Kaggle papers' titles (index terms only, so no query syntax leaks in)."""
    return [Query(d.id, "title", " ".join(tokens(d.title))) for d in docs if d.archive and tokens(d.title)]


# --------------------------------------------------------------------------- rankings


@dataclass
class Candidates:
    """Lexical and semantic candidate lists of one query, computed once."""

    query: Query
    lexical: list[tuple[int, float]]
    semantic: list[tuple[int, float]]
    tfidf: list[int]
    hybrid: list[int] = field(default_factory=list)  # the real search(mode="hybrid") path


def candidates(db, queries: list[Query], tfidf: TfIdf, *, depth: int | None = None, real_hybrid: bool = True) -> list[Candidates]:
    from paperwire.index import hybrid
    from paperwire.index.query import parse_query
    from paperwire.index.search import search

    depth = depth or hybrid.CANDIDATES
    out = []
    for q in queries:
        parsed = parse_query(q.text)
        lexical = hybrid.lexical_ranking(db, parsed, depth)
        semantic = hybrid.semantic_ranking(db, parsed, parsed.semantic_text(), depth)
        exclude = q.paper_id if q.kind == "title" else None
        deep = q.kind == "title"  # category agreement looks past uncategorised results
        c = Candidates(q, lexical, semantic, tfidf.rank(q.text, depth if deep else 11, exclude))
        if real_hybrid:
            c.hybrid = [h.paper.id for h in search(db, q.text, mode="hybrid", limit=50 if deep else 11).hits]
        out.append(c)
    return out


def fused_ids(c: Candidates, method: str, params: dict) -> list[int]:
    """Top ids of an offline fusion of ``c``'s two lists (the grid search)."""
    from paperwire.index import hybrid

    if method == "rrf":
        return [pid for pid, _ in hybrid.fuse([c.lexical, c.semantic], [params["w_lex"], 1.0], k=params["k"])][:50]
    # normalised score combination (CombSUM of min-max scores; a missing paper scores 0)
    scores: dict[int, float] = {}
    for ranking, weight in ((c.lexical, params["w_lex"]), (c.semantic, 1.0)):
        if not ranking:
            continue
        values = [s for _, s in ranking]
        lo, hi = min(values), max(values)
        for pid, s in ranking:
            scores[pid] = scores.get(pid, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    return [pid for pid, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))][:50]


def ranked_ids(c: Candidates, system: str, fusion: tuple[str, dict] | None = None,
               keep: set[int] | None = None) -> list[int]:
    """The top 10 of ``system`` (for title queries: without the paper itself, only ids in ``keep``)."""
    if system == "lexical":
        ids = [pid for pid, _ in c.lexical]
    elif system == "semantic":
        ids = [pid for pid, _ in c.semantic]
    elif system == "tfidf":
        ids = c.tfidf
    elif system == "hybrid":
        ids = c.hybrid if fusion is None else fused_ids(c, *fusion)
    else:
        raise ValueError(system)
    if c.query.kind == "title":
        ids = [pid for pid in ids if pid != c.query.paper_id and (keep is None or pid in keep)]
    return ids[:10]


# --------------------------------------------------------------------------- metrics


def known_item_metrics(ranked: list[tuple[int, list[int]]]) -> dict[str, float]:
    """MRR@10, Recall@1, Recall@10 of (target id, ranked ids) pairs."""
    if not ranked:
        return {"MRR@10": 0.0, "R@1": 0.0, "R@10": 0.0}
    rr = r1 = r10 = 0.0
    for target, ids in ranked:
        ids = ids[:10]
        if target in ids:
            pos = ids.index(target) + 1
            rr += 1 / pos
            r1 += pos == 1
            r10 += 1
    n = len(ranked)
    return {"MRR@10": rr / n, "R@1": r1 / n, "R@10": r10 / n}


def category_precision(results: list[tuple[str, list[int]]], archives: dict[int, str | None]) -> float:
    """Mean precision@10 of archive agreement over the first 10 *categorised* results.

    Uncategorised results are skipped (not counted either way); fewer than
    10 categorised results count the missing places as misses (standard P@10),
    so a mode that returns nothing related scores 0, not "undefined".
    """
    values = []
    for archive, ids in results:
        labelled = [archives[pid] for pid in ids if archives.get(pid)][:10]
        values.append(sum(a == archive for a in labelled) / 10)
    return float(np.mean(values)) if values else 0.0


def evaluate(cands: list[Candidates], docs: list[Doc], systems=("lexical", "semantic", "hybrid", "tfidf"),
             fusion: tuple[str, dict] | None = None) -> dict[str, dict[str, float]]:
    """{system: {metric: value}} over the given candidate lists."""
    archives = {d.id: d.archive for d in docs}
    out: dict[str, dict[str, float]] = {}
    for system in systems:
        row: dict[str, float] = {}
        for kind in KNOWN_ITEM_KINDS:
            pairs = [(c.query.paper_id, ranked_ids(c, system, fusion)) for c in cands if c.query.kind == kind]
            for metric, value in known_item_metrics(pairs).items():
                row[f"{kind} {metric}"] = value
        pairs = [(c.query.paper_id, ranked_ids(c, system, fusion)) for c in cands if c.query.kind != "title"]
        row.update({f"all {m}": v for m, v in known_item_metrics(pairs).items()})
        keep = {pid for pid, a in archives.items() if a}
        results = [(archives[c.query.paper_id], ranked_ids(c, system, fusion, keep)) for c in cands if c.query.kind == "title"]
        row["category P@10"] = category_precision(results, archives)
        out[system] = row
    return out


def objective(metrics: dict[str, float]) -> float:
    """What the grid search maximises: known-item MRR@10 (all queries) and category P@10, equally."""
    return (metrics["all MRR@10"] + metrics["category P@10"]) / 2


FUSION_GRID: list[tuple[str, dict]] = (
    [("rrf", {"k": k, "w_lex": w}) for k in (1, 2, 5, 10, 20, 60) for w in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)]
    + [("minmax", {"w_lex": w}) for w in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)]
)


def grid_search(cands: list[Candidates], docs: list[Doc]) -> list[tuple[float, tuple[str, dict]]]:
    scored = [(objective(evaluate(cands, docs, ("hybrid",), f)["hybrid"]), f) for f in FUSION_GRID]
    return sorted(scored, key=lambda item: -item[0])


def lexical_any_word(db, text: str, depth: int) -> list[int]:
    """BM25 over *any* of the words (the all-words-first fallback forced), best first."""
    from paperwire.index.lexical import get_lexical_index
    from paperwire.index.query import parse_query

    parsed = parse_query(text)
    if not parsed.required_words() and not parsed.phrases:
        return []
    with db.session() as session:
        page = get_lexical_index().search(session, parsed, limit=depth, offset=0, sort="relevance", any_word=True)
    return [hit.paper_id for hit in page.hits]


def neighbour_precision(db, docs: list[Doc], tfidf: TfIdf, cands: list[Candidates]) -> dict[str, float]:
    """Category P@10 of "related papers" lists for each Kaggle paper (itself excluded)."""
    from paperwire.index.similar import similar_papers

    archives = {d.id: d.archive for d in docs}
    row_of = {d.id: i for i, d in enumerate(docs)}
    labelled = [d for d in docs if d.archive]

    def first10(ids: list[int], own: int) -> list[int]:
        return [pid for pid in ids if pid != own and archives.get(pid)][:10]

    lists = {
        "similar_papers (own vector, semantic)": [
            (d.archive, first10([h.paper.id for h in similar_papers(db, d.uid, limit=60)], d.id)) for d in labelled],
        "TF-IDF title+abstract neighbours": [
            (d.archive, first10(tfidf.neighbours(row_of[d.id], 200), d.id)) for d in labelled],
        "lexical title, any word (BM25 OR)": [
            (d.archive, first10(lexical_any_word(db, " ".join(tokens(d.title)), 200), d.id)) for d in labelled],
    }
    keep = {pid for pid, a in archives.items() if a}
    titles = [c for c in cands if c.query.kind == "title"]
    for system in ("lexical", "semantic", "hybrid", "tfidf"):
        lists[f"title query, {system}"] = [(archives[c.query.paper_id], ranked_ids(c, system, None, keep)) for c in titles]
    return {name: category_precision(results, archives) for name, results in lists.items()}


# --------------------------------------------------------------------------- report


KNOWN_ITEM_KINDS = ("keywords", "topic", "description")
COLUMNS = [f"{k} {m}" for k in KNOWN_ITEM_KINDS for m in ("MRR@10", "R@1", "R@10")] + [
    "all MRR@10", "all R@10", "category P@10"]


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| system | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for system, row in results.items():
        lines.append(f"| {system} | " + " | ".join(f"{row[c]:.3f}" for c in COLUMNS) + " |")
    return "\n".join(lines)


def describe(fusion: tuple[str, dict]) -> str:
    method, params = fusion
    return f"{method} " + ", ".join(f"{k}={v}" for k, v in params.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-grid", action="store_true", help="skip the fusion grid search")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show-queries", type=int, default=0, help="print N example queries of each kind")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from paperwire.index import hybrid

    with tempfile.TemporaryDirectory(prefix="paperwire-eval-") as tmp:
        db = build_demo_db(Path(tmp))
        docs = load_docs(db)
        tfidf = TfIdf(docs)
        queries = known_item_queries(docs, tfidf, args.seed) + title_queries(docs)
        if args.show_queries:
            by_id = {d.id: d for d in docs}
            for kind in KNOWN_ITEM_KINDS:
                for q in [q for q in queries if q.kind == kind][: args.show_queries]:
                    print(f"{kind:12} {q.text!r:70} -> {by_id[q.paper_id].title[:70]!r}")
        t0 = time.perf_counter()
        cands = candidates(db, queries, tfidf)
        search_s = time.perf_counter() - t0
        kinds = Counter(q.kind for q in queries)
        print(f"# Search evaluation — demo corpus: {len(docs)} papers, {sum(d.archive is not None for d in docs)} "
              f"with categories; queries: {dict(kinds)} (seed {args.seed})\n")
        current = ("rrf" if hybrid.fuse.__defaults__ else "?", {"k": hybrid.RRF_K, "w_lex": hybrid.LEXICAL_WEIGHT / hybrid.SEMANTIC_WEIGHT})
        print(f"hybrid.py: RRF_K={hybrid.RRF_K}, LEXICAL_WEIGHT={hybrid.LEXICAL_WEIGHT}, "
              f"SEMANTIC_WEIGHT={hybrid.SEMANTIC_WEIGHT}, CANDIDATES={hybrid.CANDIDATES}\n")
        print("## All queries (hybrid = real `search(mode=\"hybrid\")`)\n")
        print(table(evaluate(cands, docs)))
        tune = [c for c in cands if c.query.paper_id % 2 == 0]
        test = [c for c in cands if c.query.paper_id % 2 == 1]
        print("\n## Test half (odd paper ids; not used for tuning)\n")
        print(table(evaluate(test, docs)))
        if not args.no_grid:
            ranked = grid_search(tune, docs)
            print("\n## Fusion grid search (objective = mean of known-item MRR@10 over all queries and category P@10)\n")
            print("| fusion | tune objective | test objective |\n|---|---:|---:|")
            shown = ranked[:8] + [r for r in ranked if r[1] == current and r not in ranked[:8]]
            for score, fusion in shown:
                test_score = objective(evaluate(test, docs, ("hybrid",), fusion)["hybrid"])
                mark = " (hybrid.py)" if fusion == current else ""
                print(f"| {describe(fusion)}{mark} | {score:.4f} | {test_score:.4f} |")
            best = ranked[0][1]
            print(f"\nbest on the tuning half: {describe(best)}; its test-half figures (offline fusion):\n")
            print(table({f"hybrid ({describe(best)})": evaluate(test, docs, ("hybrid",), best)["hybrid"]}))
        print(f"\n## Category agreement of related papers ({sum(d.archive is not None for d in docs)} Kaggle papers; "
              "P@10 over the first 10 categorised results)\n")
        print("| related papers from | P@10 |\n|---|---:|")
        for name, value in neighbour_precision(db, docs, tfidf, cands).items():
            print(f"| {name} | {value:.3f} |")
        print(f"\nqueries run in {search_s:.1f} s; total {time.perf_counter() - started:.1f} s")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
