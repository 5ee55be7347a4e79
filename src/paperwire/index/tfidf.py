"""The TF-IDF neighbour index: the lexical half of similar papers and "For you".

Every visible paper's title + abstract becomes a sparse, L2-normalised
TF-IDF row (sublinear term frequency × smoothed IDF, the terms of
:func:`paperwire.rank.usermodel.tokens`). Cosine between two papers is then
one sparse dot product; a paper's lexical neighbours are its row times the
term-major copy of the matrix (posting lists), which only touches the
papers that share one of its terms.

Derived state, never built in a request: :func:`publish_tfidf_index` (the
worker's ``index`` job, imports and the demo) builds the matrix under the
job lock ``index:tfidf:<MODEL>`` when the papers' fingerprint
(:func:`~paperwire.store.generations.papers_marker`) changed, writes
``tfidf-g<N>.npz`` in the data folder (written beside, renamed into place)
and publishes it as a generation. A host whose data folder lacks the newest
generation's file builds that same generation locally (as the tantivy index
does), so hosts converge on one number.

Size: terms in at least ``MIN_DF`` papers and at most ``MAX_DF`` of them;
each paper keeps its ``MAX_TERMS`` heaviest terms (≈ 64 × 8 bytes twice —
row- and term-major — ≈ 1 GB for a million papers).

Owner and invalidation of the in-memory copy: :func:`tfidf_index` caches one
matrix per (database, data folder) in this module; at most every
``REFRESH_SECONDS`` one small query reads the newest published generation
and a new one is loaded when it changed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.index.query import STOPWORDS, terms
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.store.generations import (
    begin_generation, latest_generation, papers_marker, publish_generation, retire_generations,
)
from paperwire.store.locks import job_lock
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

#: Generation kind and model name of the published matrix.
TFIDF = "tfidf"
MODEL = "tfidf-v1"
MIN_DF = 2
MAX_DF = 0.5
MAX_TERMS = 64
KEEP_GENERATIONS = 2
BATCH = 5000
REFRESH_SECONDS = 10.0
_EXTRA_STOP = frozenset("we our paper show results using based new approach also these which".split())


@dataclass
class TfidfMatrix:
    """Row-normalised TF-IDF of the visible papers, rows aligned with sorted ``ids``."""

    ids: np.ndarray
    X: sparse.csr_matrix
    #: The columns' terms and their IDF (to turn a new text, e.g. a query, into a row).
    terms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    generation: int = 0
    checked_at: float = 0.0
    _postings: sparse.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def postings(self) -> sparse.csr_matrix:
        """Term-major copy (terms × papers), made once on first use."""
        if self._postings is None:
            self._postings = self.X.T.tocsr()
        return self._postings

    def rows_of(self, paper_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(row indexes, mask of which ``paper_ids`` have a row)."""
        wanted = np.asarray(list(paper_ids), dtype=np.int64)
        if not len(self.ids) or not len(wanted):
            return np.zeros(0, dtype=np.int64), np.zeros(len(wanted), dtype=bool)
        pos = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = self.ids[pos] == wanted
        return pos[found], found

    def scores_against(self, rows: np.ndarray) -> np.ndarray:
        """Dense (len(rows) × papers) cosine of the given rows with every paper."""
        if not len(rows) or not len(self.ids):
            return np.zeros((len(rows), len(self.ids)), dtype=np.float32)
        return np.asarray((self.X[rows] @ self.postings).todense(), dtype=np.float32)

    def vectorize(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows of new texts in this matrix's columns (unknown terms dropped)."""
        column = {t: i for i, t in enumerate(self.terms.tolist())}
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            for term in tokens(text):
                if (c := column.get(term)) is not None:
                    counts[c] = counts.get(c, 0) + 1
            if not counts:
                continue
            c = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
            v = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self.idf[c]
            rows.append(np.full(len(c), r, dtype=np.int32))
            cols.append(c)
            vals.append(v / (math.sqrt(float(v @ v)) or 1.0))
        if not rows:
            return sparse.csr_matrix((len(texts), self.X.shape[1]), dtype=np.float32)
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                 shape=(len(texts), self.X.shape[1]), dtype=np.float32)

    def neighbours(self, paper_id: int, k: int) -> list[tuple[int, float]]:
        """The ``k`` papers sharing most weighted terms with ``paper_id`` (cosine, best first)."""
        rows, found = self.rows_of([paper_id])
        if not found.any() or k <= 0:
            return []
        scores = (self.X[rows] @ self.postings).tocsr()
        cols, values = scores.indices, scores.data
        keep = self.ids[cols] != paper_id
        cols, values = cols[keep], values[keep]
        if len(cols) > k:
            top = np.argpartition(-values, k - 1)[:k]
            cols, values = cols[top], values[top]
        order = np.lexsort((self.ids[cols], -values))
        return [(int(self.ids[cols[i]]), float(values[i])) for i in order]


def build_matrix(paper_ids: Sequence[int], texts: Sequence[str]) -> TfidfMatrix:
    """The TF-IDF matrix of these papers (also what the benchmarks call on plain texts)."""
    vocab: dict[str, int] = {}
    doc_terms: list[np.ndarray] = []
    doc_counts: list[np.ndarray] = []
    for text in texts:
        counts: dict[int, int] = {}
        for term in tokens(text):
            tid = vocab.setdefault(term, len(vocab))
            counts[tid] = counts.get(tid, 0) + 1
        doc_terms.append(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)))
        doc_counts.append(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
    return _assemble(np.asarray(paper_ids, dtype=np.int64), doc_terms, doc_counts, list(vocab))


def _assemble(ids: np.ndarray, doc_terms: list[np.ndarray], doc_counts: list[np.ndarray],
              vocabulary: list[str]) -> TfidfMatrix:
    n, n_terms = len(ids), len(vocabulary)
    if not n:
        return TfidfMatrix(ids, sparse.csr_matrix((0, 0), dtype=np.float32))
    lengths = np.fromiter((len(t) for t in doc_terms), dtype=np.int64, count=n)
    cols = np.concatenate(doc_terms) if n_terms else np.zeros(0, np.int32)
    counts = np.concatenate(doc_counts) if n_terms else np.zeros(0, np.float32)
    df = np.bincount(cols, minlength=n_terms)
    keep = (df >= MIN_DF) & (df <= max(MIN_DF, MAX_DF * n))
    idf = (np.log((n + 1) / (df + 1)) + 1.0).astype(np.float32)
    values = (1.0 + np.log(counts)) * idf[cols]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    rows_out, cols_out, vals_out = [], [], []
    for r in range(n):
        c, v = cols[indptr[r]:indptr[r + 1]], values[indptr[r]:indptr[r + 1]]
        mask = keep[c]
        c, v = c[mask], v[mask]
        if len(c) > MAX_TERMS:
            top = np.argpartition(-v, MAX_TERMS - 1)[:MAX_TERMS]
            c, v = c[top], v[top]
        norm = math.sqrt(float(v @ v)) or 1.0
        rows_out.append(np.full(len(c), r, dtype=np.int32))
        cols_out.append(c)
        vals_out.append(v / norm)
    kept = np.flatnonzero(keep)
    new_column = np.full(n_terms, -1, dtype=np.int64)
    new_column[kept] = np.arange(len(kept))
    order = np.argsort(ids, kind="stable")
    X = sparse.csr_matrix(
        (np.concatenate(vals_out).astype(np.float32), (np.concatenate(rows_out), new_column[np.concatenate(cols_out)])),
        shape=(n, len(kept)), dtype=np.float32,
    )
    terms = np.asarray([vocabulary[i] for i in kept], dtype=str)
    return TfidfMatrix(ids[order], X[order], terms, idf[kept])


def tokens(text: str) -> list[str]:
    """Index terms worth weighting: no stopwords, no 1-letter words, no pure numbers
    (the user model's lexical profile uses the same terms)."""
    return [t for t in terms(text) if len(t) > 1 and not t.isdigit() and t not in STOPWORDS and t not in _EXTRA_STOP]


# --- building and publishing ------------------------------------------------

@dataclass
class TfidfPublishReport:
    generation: int | None = None
    papers: int = 0
    built: bool = False
    seconds: float = 0.0
    busy: bool = False

    def summary(self) -> str:
        if self.busy:
            return "TF-IDF neighbour index: another process is building it"
        if not self.built:
            return f"TF-IDF neighbour index: generation {self.generation} is current ({self.papers} papers)"
        return (f"TF-IDF neighbour index: generation {self.generation} built and published "
                f"({self.papers} papers, {self.seconds:.1f} s)")


def file_name(generation: int) -> str:
    return f"tfidf-g{generation}.npz"


def publish_tfidf_index(db: Database, *, force: bool = False) -> TfidfPublishReport:
    """Build and publish a new generation if the papers changed since the last one."""
    report = TfidfPublishReport()
    data_dir = get_settings().resolved_data_dir()
    with job_lock(db, f"index:{TFIDF}:{MODEL}") as acquired:
        if not acquired:
            report.busy = True
            return report
        with db.session() as session:
            marker = papers_marker(session)
            previous = latest_generation(session, TFIDF, MODEL)
            info = (previous.id, previous.path, previous.marker, previous.vectors) if previous else None
        if info and info[2] == marker and not force:
            if info[1] and (data_dir / info[1]).is_file():
                report.generation, report.papers = info[0], info[3]
                return report
            started = time.perf_counter()  # another host published it: build this host's copy
            report.papers = _build_file(db, data_dir / info[1])
            report.generation, report.built, report.seconds = info[0], True, time.perf_counter() - started
            return report
        started = time.perf_counter()
        with db.session() as session:
            generation = begin_generation(session, TFIDF, MODEL, marker, utcnow())
        name = file_name(generation)
        papers = _build_file(db, data_dir / name)
        report.seconds = time.perf_counter() - started
        with db.session() as session:
            publish_generation(session, generation, path=name, size=papers, seconds=report.seconds)
        _remove_old(db, data_dir)
        report.generation, report.papers, report.built = generation, papers, True
        return report


def _build_file(db: Database, path: Path) -> int:
    """Read every visible paper in keyset batches, build the matrix, write it atomically."""
    ids: list[int] = []
    texts: list[str] = []
    from paperwire.index.embeddings import paper_text

    last_id = 0
    while True:
        with db.session() as session:
            rows = session.execute(
                select(Paper.id, Paper.title, Paper.abstract)
                .where(Paper.hidden.is_(False), Paper.id > last_id).order_by(Paper.id).limit(BATCH)
            ).all()
        if not rows:
            break
        ids += [r[0] for r in rows]
        texts += [paper_text(r[1], r[2] or "") for r in rows]
        last_id = rows[-1][0]
    matrix = build_matrix(ids, texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    X = matrix.X
    np.savez(tmp, ids=matrix.ids, data=X.data, indices=X.indices, indptr=X.indptr,
             shape=np.asarray(X.shape, dtype=np.int64), terms=matrix.terms, idf=matrix.idf)
    tmp.replace(path)
    return len(matrix)


def load_matrix(path: Path, generation: int = 0) -> TfidfMatrix | None:
    """A published matrix file (None when it is gone or unreadable)."""
    try:
        with np.load(path) as f:
            X = sparse.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(int(s) for s in f["shape"]))
            return TfidfMatrix(f["ids"].astype(np.int64), X, f["terms"], f["idf"], generation=generation)
    except (OSError, ValueError, KeyError):
        return None


def _remove_old(db: Database, data_dir: Path) -> None:
    with db.session() as session:
        names = [path for _, path in retire_generations(session, TFIDF, MODEL, KEEP_GENERATIONS) if path]
    for name in names:
        (data_dir / name).unlink(missing_ok=True)


# --- reading ----------------------------------------------------------------

_CACHE: dict[tuple[str, str], TfidfMatrix] = {}
_LOCK = threading.Lock()


def tfidf_index(db: Database | Session) -> TfidfMatrix | None:
    """The newest published matrix (None: none published yet, or its file is missing here).

    Takes the database, or a request's session (read with that session, so a
    request keeps to one)."""
    data_dir = get_settings().resolved_data_dir()
    engine_url = db.get_bind().url if isinstance(db, Session) else db.engine.url
    key = (engine_url.render_as_string(hide_password=False), str(data_dir))
    now = time.monotonic()
    with _LOCK:
        current = _CACHE.get(key)
        if current is not None and now - current.checked_at < REFRESH_SECONDS:
            return current
        if isinstance(db, Session):
            published = latest_generation(db, TFIDF, MODEL)
            found = (published.id, published.path) if published is not None else None
        else:
            with db.session() as session:
                published = latest_generation(session, TFIDF, MODEL)
                found = (published.id, published.path) if published is not None else None
        if found is None or not found[1]:
            return current
        if current is not None and current.generation == found[0]:
            current.checked_at = now
            return current
        loaded = load_matrix(data_dir / found[1], found[0])
        if loaded is None:  # removed under us, or not built on this host yet: keep what we have
            return current
        loaded.checked_at = now
        _CACHE[key] = loaded
        return loaded


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
