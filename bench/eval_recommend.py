"""Recommendation quality and latency, in one run.

**Quality.** A throw-away database gets the bundled demo corpus (~450 papers,
embedded with the configured embedder). The 200 Kaggle records carry arXiv
categories; their primary *archive* (``hep-th``, ``math``, ``cond-mat`` …) is
the label. Simulated users like one archive (or two), and for each of
``--repeats`` seeds they upvote ``--positives`` papers of the liked
archive(s) and dismiss ``--negatives`` papers of other archives — through the
real store functions. Every other labelled paper is a candidate; a candidate
is relevant when its archive is liked. precision@10 over the candidates, reported for all users and separately
for the *tune* users (seeds below ``--tune-seeds``, the only ones constants
may be chosen on) and the *held-out* users (the other seeds), for:

* **model** — the production path: ``recommend(session, user_id)`` (dense
  logistic regression + lexical profile, trained from the stored signals,
  sampled background from the whole database, then label spreading over the
  candidates' nearest-neighbour graph), its list restricted to the
  candidates;
* **classifier only** — the same model without the graph step (dense +
  lexical logits), to show what propagation adds;
* **dense only** — the same dense classifier without the lexical re-rank;
* **lexical only (TF-IDF LR)** — arxiv-sanity's model: a logistic regression
  on TF-IDF features of title+abstract, same examples and weights;
* **popularity** — candidates ordered by how many *other* simulated users
  upvoted them (leave-this-user-out "most popular"), ties by id.

Besides each ranking's mean, the paired difference *model − baseline* per
user (mean ± s.e. and wins/ties/losses) says whether the model is ahead: the
users are the same, so the paired error is much smaller than either mean's.

**Latency.** On a large SQLite database (``--db``, e.g. 100k synthetic papers
from ``bench/generate_corpus.py`` imported with ``bench/import_throughput.py``
and embedded with ``paperwire embed``): one user with upvotes, dismissals and
a followed category; time to first result (vector matrix load + training),
retraining after a new signal, and warm ``recommend()`` calls (cached model,
with explanations).

**Real authors** (``--real-authors``). Real people as users: every paper
of the Hugging Face daily lists (``../shared/corpus/hf-daily-papers/``,
real author names) goes into a throw-away database (embedded with the
configured embedder, vector and TF-IDF indexes published as the worker
does). Authors with papers submitted before ``--cut`` (2025-01-01) and after
it are the users (``--authors`` of them, seeded sample); an author's library
is their papers before the cut (upvoted through the real store), the
question is whether their later papers come up in the top 50 among every
paper submitted after the cut. recall@50 (share of their later papers in the
top 50), mean ± s.e., for:

* **For you** — the production path, ``recommend(session, user, since=cut)``;
* **TF-IDF centroid** — cosine of each candidate's TF-IDF row with the mean
  of the library's rows (:mod:`paperwire.index.tfidf`);
* **dense centroid** — cosine with the mean library vector;
* **fused max-sim** — the best over the library papers of the similar-paper
  fusion's cosine (0.7 dense + 0.3 TF-IDF, :mod:`paperwire.index.similar`);
* **TF-IDF nearest library paper** — the best TF-IDF cosine to one library paper;
* **TF-IDF centroid + library authors** (when ``AUTHOR_WEIGHT`` is on) — the
  centroid's cosine standardised, plus ``AUTHOR_WEIGHT`` × the library share of the
  candidate's authors: the baseline given the same author signal as "For you";
* **popularity** — the candidates' real Hugging Face upvotes.

``--library-grid C,N,A …`` adds "For you" with ``CENTROID_WEIGHT``, ``NEAREST_WEIGHT``
and ``AUTHOR_WEIGHT`` of :mod:`paperwire.rank.recommend` set to each triple (the
user's model stays cached), ``--json-out`` writes the per-author recalls.

Authors are split by a hash of their name into *tune* (constants may be
chosen on them) and *test* (reported); paired differences For you − other
give the per-author comparison.

    python bench/eval_recommend.py
    python bench/eval_recommend.py --real-authors --skip-quality
    python bench/eval_recommend.py --db /tmp/rec-100k.db --data-dir /tmp/rec-100k.data
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np


def _setup_env(db_file: Path, data_dir: Path) -> None:
    os.environ["PAPERWIRE_DATABASE_URL"] = f"sqlite:///{db_file}"
    os.environ["PAPERWIRE_DATA_DIR"] = str(data_dir)
    from paperwire.settings import get_settings

    get_settings.cache_clear()


def _precision(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    top = ranked[:k]
    return sum(1 for pid in top if pid in relevant) / k


def quality(args) -> dict[str, list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix="pw-eval-rec-"))
    _setup_env(tmp / "eval.db", tmp / "data")
    from sqlalchemy import select

    from paperwire.demo import load_demo
    from paperwire.index.embeddings import paper_text
    from paperwire.rank import recommend as rec
    from paperwire.rank.usermodel import (
        BACKGROUND_RATIO, NEGATIVE_WEIGHT, fit_logistic, tokens,
    )
    from paperwire.store.community import create_user, vote
    from paperwire.store.db import open_database
    from paperwire.store.library import dismiss
    from paperwire.store.models import Paper

    db = open_database()
    load_demo(db, log=lambda *_: None, real_days=False)
    with db.session() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.id)))
    labelled = {p.id: p.primary_category.split(".")[0] for p in papers if p.primary_category}
    by_archive: dict[str, list[int]] = defaultdict(list)
    for pid, archive in labelled.items():
        by_archive[archive].append(pid)
    big = sorted((a for a, ids in by_archive.items() if len(ids) >= args.min_archive), key=lambda a: -len(by_archive[a]))
    tastes = [(a,) for a in big] + [("hep-th", "gr-qc"), ("hep-ph", "hep-th"), ("astro-ph", "gr-qc"), ("math", "physics")]
    tastes = [t for t in tastes if all(a in by_archive for a in t)]
    text = {p.id: paper_text(p.title, p.abstract or "") for p in papers}
    all_ids = [p.id for p in papers]

    # TF-IDF over the whole database (what arxiv-sanity computes).
    docs = {pid: Counter(tokens(text[pid])) for pid in all_ids}
    df = Counter(t for d in docs.values() for t in d)
    vocab = {t: i for i, t in enumerate(sorted(t for t, c in df.items() if c >= 2))}
    n_docs = len(all_ids)
    tfidf = np.zeros((n_docs, len(vocab)), dtype=np.float32)
    row_of = {pid: i for i, pid in enumerate(all_ids)}
    for pid, d in docs.items():
        for t, c in d.items():
            if t in vocab:
                tfidf[row_of[pid], vocab[t]] = (1 + math.log(c)) * (math.log((n_docs + 1) / (df[t] + 1)) + 1)
    tfidf /= np.maximum(np.linalg.norm(tfidf, axis=1, keepdims=True), 1e-9)

    # Simulated users, created through the real store.
    users = []
    with db.session() as session:
        for t_index, taste in enumerate(tastes):
            liked = [pid for a in taste for pid in by_archive[a]]
            others = [pid for pid in labelled if labelled[pid] not in taste]
            for r in range(args.repeats):
                rng = random.Random(1000 * t_index + r)
                pos = rng.sample(liked, min(args.positives, len(liked) - 3))
                neg = rng.sample(others, args.negatives)
                user = create_user(session, f"sim{t_index}_{r}", "simulated-user-pw")
                for pid in pos:
                    vote(session, user, session.get(Paper, pid))
                for pid in neg:
                    dismiss(session, user.id, pid)
                users.append({"id": user.id, "taste": taste, "pos": pos, "neg": neg, "seed": r})
    liked_by = Counter(pid for u in users for pid in u["pos"])

    rows: dict[str, list[float]] = defaultdict(list)
    by_split: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    per_taste: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with db.session() as session:
        rec.clear_model_cache()
        matrix = rec.vector_matrix(session, rec.embedder_name())
        for u in users:
            train = set(u["pos"]) | set(u["neg"])
            candidates = [pid for pid in labelled if pid not in train]
            relevant = {pid for pid in candidates if labelled[pid] in u["taste"]}
            cand_set = set(candidates)
            results = {}
            ranked = rec.recommend(session, u["id"], limit=len(all_ids), with_reasons=False)
            results["model"] = [r.paper.id for r in ranked if r.paper.id in cand_set]

            model, signals, _ = rec.user_model(session, u["id"])
            rows_c, _ = matrix.rows_of(candidates)
            dense = model.dense_logits(matrix.X[rows_c])
            classifier = model.rerank_logits(dense, [text[pid] for pid in candidates])
            results["classifier only (no graph)"] = [candidates[i] for i in np.argsort(-classifier, kind="stable")]
            results["dense only"] = [candidates[i] for i in np.argsort(-dense, kind="stable")]

            rng = random.Random(u["id"])
            bg = [pid for pid in rng.sample(all_ids, min(len(all_ids), 300)) if pid not in train]
            X = tfidf[[row_of[p] for p in u["pos"] + u["neg"] + bg]]
            y = np.array([1] * len(u["pos"]) + [0] * (len(u["neg"]) + len(bg)))
            w = np.array([1.0] * len(u["pos"]) + [NEGATIVE_WEIGHT] * len(u["neg"])
                         + [BACKGROUND_RATIO * len(u["pos"]) / max(1, len(bg))] * len(bg))
            lr = fit_logistic(X, y, w)
            lex = lr.logits(tfidf[[row_of[p] for p in candidates]])
            results["lexical only (TF-IDF LR)"] = [candidates[i] for i in np.argsort(-lex, kind="stable")]
            pop = {pid: liked_by[pid] - (1 if pid in u["pos"] else 0) for pid in candidates}
            results["popularity"] = sorted(candidates, key=lambda pid: (-pop[pid], pid))
            for name, ranking in results.items():
                p10 = _precision(ranking, relevant)
                rows[name].append(p10)
                by_split["tune" if u["seed"] < args.tune_seeds else "held-out"][name].append(p10)
                per_taste["+".join(u["taste"])][name].append(p10)
    db.close()
    print(f"\n## Quality: {len(users)} simulated users ({len(tastes)} tastes × {args.repeats} seeds), "
          f"{args.positives} upvotes + {args.negatives} dismissals each, {len(labelled)} labelled papers, "
          f"{len(all_ids)} in the database\n")
    def cell(values: list[float]) -> str:
        if not values:
            return "–"
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.3f} ± {se:.3f}"

    n_tune = sum(1 for u in users if u["seed"] < args.tune_seeds)
    print(f"precision@10, mean ± s.e. Constants may be chosen on the tune users only (seeds < {args.tune_seeds}, "
          f"{n_tune} users); the held-out users (the other {len(users) - n_tune}) are for reporting.\n")
    print("| ranking | all users | tune | held-out |")
    print("|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {cell(values)} | {cell(by_split['tune'][name])} | {cell(by_split['held-out'][name])} |")
    print("\nPaired difference per user, model − other ranking (precision@10):\n")
    print("| model − … | all users | held-out | wins / ties / losses (all) |")
    print("|---|---|---|---|")
    held = [i for i, u in enumerate(users) if u["seed"] >= args.tune_seeds]
    for name in rows:
        if name == "model":
            continue
        diff = [a - b for a, b in zip(rows["model"], rows[name])]
        wins, losses = sum(d > 0 for d in diff), sum(d < 0 for d in diff)
        print(f"| {name} | {cell(diff)} | {cell([diff[i] for i in held])} | {wins} / {len(diff) - wins - losses} / {losses} |")
    print("\nPer taste (mean precision@10):\n")
    names = list(rows)
    print("| taste | share of candidates | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for taste, values in per_taste.items():
        share = sum(1 for pid in labelled if labelled[pid] in taste.split("+")) / len(labelled)
        print(f"| {taste} | {share:.2f} | " + " | ".join(f"{statistics.mean(values[n]):.2f}" for n in names) + " |")
    return rows


def latency(args) -> None:
    from sqlalchemy import func, select

    _setup_env(Path(args.db), Path(args.data_dir))
    from paperwire.rank import recommend as rec
    from paperwire.rank.vector_matrix import clear_cache
    from paperwire.store.community import create_user, get_user, vote
    from paperwire.store.db import open_database
    from paperwire.store.library import dismiss, follow, save_paper
    from paperwire.store.models import Paper

    db = open_database()
    with db.session() as session:
        n = session.scalar(select(func.count()).select_from(Paper))
        user = get_user(session, "latency_user") or create_user(session, "latency_user", "latency-password")
        uid = user.id
        rng = random.Random(7)
        ids = list(session.scalars(select(Paper.id).where(Paper.categories.like("% hep-th %")).limit(200)))
        others = list(session.scalars(select(Paper.id).where(Paper.categories.like("% cs.CV %")).limit(50)))
        for pid in rng.sample(ids, 10):
            vote(session, user, session.get(Paper, pid))
        for pid in rng.sample(ids, 3):
            save_paper(session, uid, pid)
        for pid in rng.sample(others, 3):
            dismiss(session, uid, pid)
        follow(session, uid, "category", "hep-th")
    clear_cache()
    rec.clear_model_cache()
    timings: dict[str, list[float]] = defaultdict(list)
    with db.session() as session:
        t = time.perf_counter()
        rec.recommend(session, uid, limit=20)
        timings["first call (load vector matrix + train + rank)"].append(time.perf_counter() - t)
    for i in range(args.latency_runs):
        with db.session() as session:
            t = time.perf_counter()
            out = rec.recommend(session, uid, limit=20)
            timings["warm: cached model, 20 results with reasons"].append(time.perf_counter() - t)
    for i in range(args.latency_runs):
        with db.session() as session:
            t = time.perf_counter()
            rec.recommend_for_user(session, uid, limit=20)
            timings["warm: cached model, no reasons (digests)"].append(time.perf_counter() - t)
    for i in range(max(3, args.latency_runs // 4)):
        with db.session() as session:
            dismiss(session, uid, others[10 + i])
        with db.session() as session:
            t = time.perf_counter()
            rec.recommend(session, uid, limit=20)
            timings["after a new dismissal (retrain + rank)"].append(time.perf_counter() - t)
    db.close()
    print(f"\n## Latency: {n:,} papers, {len(out)} results, {args.latency_runs} runs\n")
    print("| step | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        values = sorted(v * 1000 for v in values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"| {name} | {statistics.median(values):.1f} | {p95:.1f} | {values[-1]:.1f} |")


def _cell(values: list[float]) -> str:
    if not values:
        return "–"
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {se:.3f}"


def _hf_records(folder: Path) -> dict[str, object]:
    """Every paper of the daily lists once (first listing wins), by arXiv id."""
    from paperwire.sources.hf_daily import read_hf_daily

    papers: dict[str, object] = {}
    for path in sorted(folder.glob("*.json")):
        for rec in read_hf_daily(path):
            arxiv_id = getattr(rec, "arxiv_id", None)
            if arxiv_id and rec.abstract and arxiv_id not in papers:
                papers[arxiv_id] = rec
    return papers


def real_authors(args, db=None) -> dict:
    """The real-author evaluation (see the module docstring); ``db``: a database already
    holding every daily list, embedded and indexed (``bench/eval_all.py`` shares one).

    Returns {"results": {ranking: [recall@50 per author]}, "splits": ["tune" | "test" per author]}."""
    import hashlib
    from datetime import datetime

    reuse = getattr(args, "reuse", None)
    if db is None:
        tmp = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="pw-eval-authors-"))
        _setup_env(tmp / "eval.db", tmp / "data")
    from sqlalchemy import select

    from paperwire.index.publish import publish_vector_index
    from paperwire.index.similar import DENSE_WEIGHT
    from paperwire.index.tfidf import publish_tfidf_index, tfidf_index
    from paperwire.index.vectors import embed_all
    from paperwire.rank import recommend as rec
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.community import create_user, get_user, vote
    from paperwire.store.db import open_database
    from paperwire.store.models import Paper

    folder = Path(args.hf_dir)
    records = _hf_records(folder)
    cut = datetime.fromisoformat(args.cut)
    owned = db is None
    if owned and reuse:  # a folder left by an earlier run: imported, embedded and indexed already
        db = open_database()
    elif owned:
        db = open_database()
        t0 = time.perf_counter()
        for path in sorted(folder.glob("*.json")):
            import_items(db, read_path(path), skip_invalid=True)  # a few real lists are damaged
        embed_all(db)
        publish_vector_index(db)
        publish_tfidf_index(db)
        print(f"imported, embedded and indexed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    with db.session() as session:
        rows = session.execute(select(Paper.id, Paper.arxiv_id, Paper.submitted_at)).all()
    pid_of = {r.arxiv_id: r.id for r in rows if r.arxiv_id}
    when = {r.id: r.submitted_at for r in rows}
    upvotes = {r.id: (records[r.arxiv_id].upvotes or 0) if r.arxiv_id in records else 0 for r in rows}
    before: dict[str, set[int]] = defaultdict(set)
    after: dict[str, set[int]] = defaultdict(set)
    for arxiv_id, record in records.items():
        pid = pid_of.get(arxiv_id)
        if pid is None or when.get(pid) is None:
            continue
        for name in record.authors:
            (before if when[pid] < cut else after)[name].add(pid)
    names = sorted(n for n in before if n in after)
    rng = random.Random(args.seed)
    names = rng.sample(names, min(args.authors, len(names)))
    candidates = sorted(pid for pid, t in when.items() if t is not None and t >= cut)
    cand_index = {pid: i for i, pid in enumerate(candidates)}

    def split(name: str) -> str:
        return "tune" if hashlib.sha1(name.encode()).digest()[0] % 2 == 0 else "test"

    with db.session() as session:
        matrix = rec.vector_matrix(session, rec.embedder_name())
    lex = tfidf_index(db)
    d_rows, _ = matrix.rows_of(candidates)
    cand_X = matrix.X[d_rows]
    cand_X = cand_X / np.maximum(np.linalg.norm(cand_X, axis=1, keepdims=True), 1e-9)
    l_rows, _ = lex.rows_of(candidates)
    cand_L = lex.X[l_rows]
    popular = sorted(candidates, key=lambda pid: (-upvotes.get(pid, 0), pid))
    from paperwire.rank.library_terms import author_score, author_shares

    authors_of = {pid_of[a]: list(r.authors) for a, r in records.items() if a in pid_of}

    def recall(ranked: list[int], wanted: set[int], k: int = 50) -> float:
        return len(set(ranked[:k]) & wanted) / len(wanted)

    def top_of(scores: np.ndarray, k: int = 50) -> list[int]:
        top = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
        return [candidates[i] for i in top[np.argsort(-scores[top], kind="stable")]]

    results: dict[str, list[float]] = defaultdict(list)
    splits: list[str] = []
    timings: list[float] = []
    rec.clear_model_cache()
    for n, name in enumerate(names):
        library, later = sorted(before[name]), after[name] & set(candidates)
        if n % 25 == 0:
            print(f"author {n} of {len(names)}", file=sys.stderr, flush=True)
        if not later:
            continue
        with db.session() as session:
            user = get_user(session, f"author{n}")  # a --reuse folder keeps the users of an earlier run
            if user is None:
                user = create_user(session, f"author{n}", "real-author-eval")
                for pid in library:
                    vote(session, user, session.get(Paper, pid))
            uid = user.id
        with db.session() as session:
            t = time.perf_counter()
            ranked = rec.recommend(session, uid, limit=50, since=cut, with_reasons=False, popular_fallback=False)
            timings.append(time.perf_counter() - t)
        results["For you (rank/recommend)"].append(recall([r.paper.id for r in ranked], later))
        for weight in getattr(args, "affinity_grid", None) or []:  # the user's model stays cached
            kept_weight, rec.AFFINITY_WEIGHT = rec.AFFINITY_WEIGHT, weight
            with db.session() as session:
                other = rec.recommend(session, uid, limit=50, since=cut, with_reasons=False, popular_fallback=False)
            rec.AFFINITY_WEIGHT = kept_weight
            results[f"For you with AFFINITY_WEIGHT={weight}"].append(recall([r.paper.id for r in other], later))
        for weights in getattr(args, "library_grid", None) or []:  # "centroid,nearest,author"
            names_w = ("CENTROID_WEIGHT", "NEAREST_WEIGHT", "AUTHOR_WEIGHT")
            kept_w = [getattr(rec, k) for k in names_w]
            for k, v in zip(names_w, (float(x) for x in weights.split(","))):
                setattr(rec, k, v)
            with db.session() as session:
                other = rec.recommend(session, uid, limit=50, since=cut, with_reasons=False, popular_fallback=False)
            for k, v in zip(names_w, kept_w):
                setattr(rec, k, v)
            results[f"For you, library weights {weights}"].append(recall([r.paper.id for r in other], later))
        lib_d, _ = matrix.rows_of(library)
        lib_X = matrix.X[lib_d]
        lib_X = lib_X / np.maximum(np.linalg.norm(lib_X, axis=1, keepdims=True), 1e-9)
        lib_l, _ = lex.rows_of(library)
        lib_L = lex.X[lib_l]
        lex_sims = np.asarray((lib_L @ cand_L.T).todense(), dtype=np.float32)
        dense_sims = lib_X @ cand_X.T
        centroid = np.asarray(lib_L.mean(axis=0)).ravel()
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        results["TF-IDF centroid"].append(recall(top_of(np.asarray(cand_L @ centroid).ravel()), later))
        if rec.AUTHOR_WEIGHT:  # the baseline given the same author signal as For you
            shares = author_shares(authors_of.get(pid, []) for pid in library)
            z = np.asarray(cand_L @ centroid).ravel()
            z = (z - z.mean()) / (z.std() or 1.0)
            bonus = np.array([author_score(authors_of.get(pid, []), shares) for pid in candidates])
            results[f"TF-IDF centroid + library authors ({rec.AUTHOR_WEIGHT:g} sd)"].append(
                recall(top_of(z + rec.AUTHOR_WEIGHT * bonus), later))
        results["TF-IDF nearest library paper"].append(recall(top_of(lex_sims.max(axis=0)), later))
        mean = lib_X.mean(axis=0)
        results["dense centroid"].append(recall(top_of(cand_X @ (mean / max(float(np.linalg.norm(mean)), 1e-9))), later))
        fused = DENSE_WEIGHT * dense_sims + (1 - DENSE_WEIGHT) * lex_sims
        results["fused max-sim"].append(recall(top_of(fused.max(axis=0)), later))
        results["popularity (HF upvotes)"].append(recall(popular, later))
        splits.append(split(name))
    if owned:
        db.close()
    users = len(splits)
    print(f"\n## Real authors: {users} authors with papers before and after {args.cut} "
          f"({sum(s == 'tune' for s in splits)} tune, {sum(s == 'test' for s in splits)} test), "
          f"{len(candidates):,} candidate papers (submitted after the cut), {len(when):,} in the database\n")
    print("recall@50 of the author's later papers, mean ± s.e.\n")
    print("| ranking | all authors | tune | test |")
    print("|---|---|---|---|")
    for label, values in results.items():
        tune = [v for v, s in zip(values, splits) if s == "tune"]
        test = [v for v, s in zip(values, splits) if s == "test"]
        print(f"| {label} | {_cell(values)} | {_cell(tune)} | {_cell(test)} |")
    base = "For you (rank/recommend)"
    print(f"\nPaired difference per author, {base} − other (recall@50):\n")
    print("| For you − … | all authors | test | wins / ties / losses (all) |")
    print("|---|---|---|---|")
    for label, values in results.items():
        if label == base:
            continue
        diff = [a - b for a, b in zip(results[base], values)]
        wins, losses = sum(d > 0 for d in diff), sum(d < 0 for d in diff)
        test = [d for d, s in zip(diff, splits) if s == "test"]
        print(f"| {label} | {_cell(diff)} | {_cell(test)} | {wins} / {len(diff) - wins - losses} / {losses} |")
    print(f"\nload at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    if timings:
        print(f"\nFor you: median {1000 * statistics.median(timings):.0f} ms per author (train + rank, "
              f"{len(when):,} papers)")
    return {"results": dict(results), "splits": splits}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positives", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--tune-seeds", type=int, default=10,
                        help="seeds below this are the tune users, the rest are held out")
    parser.add_argument("--min-archive", type=int, default=12)
    parser.add_argument("--db", help="large SQLite database (embedded) for the latency part")
    parser.add_argument("--data-dir", help="data folder of --db (default: <db>.data)")
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--real-authors", action="store_true", help="also run the real-author evaluation")
    parser.add_argument("--hf-dir", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
                                                / "hf-daily-papers"))
    parser.add_argument("--cut", default="2025-01-01")
    parser.add_argument("--reuse", metavar="FOLDER", help="the pw-eval-authors-* folder of an earlier run")
    parser.add_argument("--authors", type=int, default=400)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--affinity-grid", type=float, nargs="*", default=[],
                        help="also For you with these AFFINITY_WEIGHT values (choose on the tune column)")
    parser.add_argument("--library-grid", nargs="*", default=[], metavar="C,N,A",
                        help="also For you with CENTROID_WEIGHT,NEAREST_WEIGHT,AUTHOR_WEIGHT set to these "
                             "(choose on the tune column)")
    parser.add_argument("--json-out", help="write the real-author results per author to this file")
    args = parser.parse_args(argv)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores", file=sys.stderr)
    if not args.skip_quality:
        quality(args)
    if args.real_authors:
        found = real_authors(args)
        if args.json_out:  # per-author recall, to compute other paired differences later
            import json

            Path(args.json_out).write_text(json.dumps(found))
    if args.db:
        if not Path(args.db).exists():
            sys.exit(f"no database at {args.db}")
        args.data_dir = args.data_dir or args.db + ".data"
        latency(args)


if __name__ == "__main__":
    main()
