"""Library terms: lexical closeness to the user's papers and who wrote them.

The dense classifier of :mod:`paperwire.rank.usermodel` learns a boundary from
a handful of positives against a random background; on real authors' libraries
(``bench/eval_recommend.py --real-authors``) a plain TF-IDF centroid of the
library found more of their later papers. So "For you" adds, for every paper:

* ``centroid`` — TF-IDF cosine with the (unit) mean of the library's TF-IDF rows;
* ``nearest`` — TF-IDF cosine with the *nearest* library paper (a library with
  two topics has a centroid between them; each new paper is close to one);
* ``authors`` — how much of the library its authors wrote: the largest share of
  library papers carrying one of its authors (1.0 when an author is on every
  liked paper). People follow people; a new paper by the authors one keeps
  upvoting is the strongest signal a library gives.

All three come from data production has (the published TF-IDF index and the
papers' author lists); the weights they get are in :mod:`paperwire.rank.recommend`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from paperwire.index.tfidf import TfidfMatrix
from paperwire.rank.vector_matrix import VectorMatrix

#: Library papers used for the lexical terms (callers pass the newest first).
MAX_LIBRARY = 200
#: Library authors whose other papers are pulled into the candidate pool.
POOL_AUTHORS = 20


@dataclass
class LexicalLibrary:
    #: Per row of the vector matrix: TF-IDF cosine with the library centroid.
    centroid: np.ndarray
    #: Per row: the best TF-IDF cosine with one library paper.
    nearest: np.ndarray


def lexical_library(matrix: VectorMatrix, lexical: TfidfMatrix | None, library_ids: Sequence[int]) -> LexicalLibrary:
    """Centroid and nearest-paper TF-IDF cosine of every matrix row (zeros without an index)."""
    n = len(matrix)
    centroid, nearest = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    ids = list(dict.fromkeys(library_ids))[:MAX_LIBRARY]
    if lexical is None or not len(lexical) or not n or not ids:
        return LexicalLibrary(centroid, nearest)
    own, _ = lexical.rows_of(ids)
    cols, found = lexical.rows_of(matrix.ids)  # matrix rows -> TF-IDF rows
    if not len(own) or not len(cols):
        return LexicalLibrary(centroid, nearest)
    L = lexical.X[own]
    mean = np.asarray(L.mean(axis=0)).ravel()
    mean /= max(float(np.linalg.norm(mean)), 1e-9)
    on_lex = np.asarray(lexical.X @ mean).ravel()
    centroid[found] = on_lex[cols]
    best = np.asarray((L @ lexical.postings).max(axis=0).todense()).ravel()  # sparse max: no dense p × N
    nearest[found] = best[cols]
    return LexicalLibrary(centroid, nearest)


def author_shares(library_authors: Iterable[Sequence[str]]) -> dict[str, float]:
    """Author (lower-cased) -> share of the library's papers that carry that author."""
    papers = [list(dict.fromkeys(a.strip().lower() for a in authors if a and a.strip())) for authors in library_authors]
    if not papers:
        return {}
    counts = Counter(a for authors in papers for a in authors)
    return {a: c / len(papers) for a, c in counts.items()}


def author_score(authors: Sequence[str], shares: dict[str, float]) -> float:
    """The largest library share among a paper's authors (0 when none is in the library)."""
    return max((shares.get(a.strip().lower(), 0.0) for a in authors or ()), default=0.0)


def pool_authors(shares: dict[str, float], k: int = POOL_AUTHORS) -> list[str]:
    """The ``k`` authors with the largest share (ties by name), for the candidate pool."""
    return [a for a, _ in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
