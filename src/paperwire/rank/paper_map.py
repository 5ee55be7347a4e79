"""The 2D map of papers: layout, incremental placement and clusters (pure numpy in, arrays out).

Layout: openTSNE (FFT-accelerated t-SNE) on a 50-dimensional PCA of the
stored, L2-normalised vectors with the cosine metric and a fixed seed, so the
same vectors always give the same map. t-SNE rather than UMAP because
openTSNE installs from PyPI as plain wheels (numpy/scipy/scikit-learn, no
numba JIT compile on first use) and keeps local neighbourhoods — what a
reader of a paper map looks at — as well; see ``bench/map_layout.py`` for the
time and memory beside a PCA-to-2D baseline.

New papers are placed without moving anyone (:func:`place_new`): at the
weighted mean of their ``k`` most similar already-placed papers (cosine in the
full embedding space, weights sharply favouring the closest). openTSNE's own
``transform`` needs the fitted affinity model kept between runs (hundreds of
MB at 100k papers, and a pickle in the database) and then optimises the new
points from exactly this neighbour-based start; the start alone is what keeps
old points still and a new paper beside the papers it resembles. When many
papers are new the worker lays the whole map out again
(``Settings.map_relayout_fraction``).
"""

from __future__ import annotations

import numpy as np

#: Fixed seed: the same vectors always give the same map.
SEED = 42
#: Below this many papers t-SNE has too few neighbours to mean anything: PCA instead.
MIN_TSNE_POINTS = 50
#: Barnes-Hut gradients below this many papers (about 3x less CPU than FFT on the
#: 1,100-paper demo), FFT interpolation from here on (linear in the papers).
FFT_FROM = 10_000
#: Neighbours a new paper is placed among, and how sharply the closest ones weigh.
PLACE_NEIGHBOURS = 10
PLACE_TEMPERATURE = 0.02
#: Coordinates are scaled so the map spans about [-SPAN, SPAN] on its longer side.
SPAN = 100.0


def _reduce(X: np.ndarray, dims: int = 50) -> np.ndarray:
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=np.float32)
    if X.shape[1] <= dims or len(X) <= dims:
        return X - X.mean(axis=0)
    return PCA(n_components=dims, svd_solver="randomized", random_state=SEED).fit_transform(X).astype(np.float32)


def _scaled(Y: np.ndarray) -> np.ndarray:
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y - (Y.max(axis=0) + Y.min(axis=0)) / 2
    extent = float(np.abs(Y).max()) if len(Y) else 0.0
    return Y * (SPAN / extent) if extent > 0 else Y


def pca_layout(X: np.ndarray) -> np.ndarray:
    """Linear 2D projection: the baseline the benchmark compares with, and tiny corpora's layout."""
    if len(X) < 2:
        return np.zeros((len(X), 2))
    # The top two eigenvectors of the d × d covariance: one pass over float32 rows,
    # no n × d float64 copy (100k × 256 stays ~100 MB).
    centred = np.asarray(X, dtype=np.float32) - np.asarray(X, dtype=np.float32).mean(axis=0)
    _, vectors = np.linalg.eigh((centred.T @ centred).astype(np.float64))
    top = vectors[:, ::-1][:, :2]
    Y = (centred @ top.astype(np.float32)).astype(np.float64)
    if Y.shape[1] < 2:
        Y = np.hstack([Y, np.zeros((len(Y), 2 - Y.shape[1]))])
    # Fix each axis's sign (SVD may flip it) so the result is deterministic.
    signs = np.sign(Y[np.abs(Y).argmax(axis=0), [0, 1]])
    return _scaled(Y * np.where(signs == 0, 1, signs))


def layout(X: np.ndarray, *, n_jobs: int = 1) -> np.ndarray:
    """(n, 2) map coordinates of the rows of ``X`` (deterministic for the same input)."""
    if len(X) < MIN_TSNE_POINTS:
        return pca_layout(X)
    from openTSNE import TSNE

    reduced = _reduce(X)
    perplexity = float(min(30.0, (len(X) - 1) / 3))
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", initialization="pca",
                neighbors="auto", negative_gradient_method="bh" if len(X) < FFT_FROM else "fft",
                random_state=SEED, n_jobs=n_jobs, verbose=False)
    return _scaled(np.asarray(tsne.fit(reduced)))


def place_new(placed_X: np.ndarray, placed_xy: np.ndarray, new_X: np.ndarray, *,
              k: int = PLACE_NEIGHBOURS, chunk: int = 128) -> np.ndarray:
    """Map positions for ``new_X`` from their nearest already-placed papers; old points do not move."""
    if not len(new_X):
        return np.zeros((0, 2))
    if not len(placed_X):
        return pca_layout(new_X)
    k = min(k, len(placed_X))
    placed = _normalised(placed_X)
    out = np.zeros((len(new_X), 2))
    for start in range(0, len(new_X), chunk):
        sims = _normalised(new_X[start:start + chunk]) @ placed.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        weights = np.exp((top_sims - top_sims.max(axis=1, keepdims=True)) / PLACE_TEMPERATURE)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start:start + chunk] = np.einsum("nk,nkd->nd", weights, placed_xy[top])
    return out


def _normalised(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms == 0, 1, norms)


def cluster_count(n: int) -> int:
    """About √n / 2.5 clusters, 2 to 60: a dozen on the 1,100-paper demo, 60 labels at 100k."""
    return int(min(60, max(2, round(np.sqrt(n) / 2.5)))) if n >= 4 else 1


def clusters(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cluster per point, (k, 2) centres): k-means on the map itself, so a cluster is a visible island."""
    k = cluster_count(len(xy))
    if k <= 1:
        centre = xy.mean(axis=0, keepdims=True) if len(xy) else np.zeros((1, 2))
        return np.zeros(len(xy), dtype=np.int64), centre
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=4 if len(xy) <= 20_000 else 1, random_state=SEED).fit(xy)
    return model.labels_.astype(np.int64), model.cluster_centers_


def nearest_centre(xy: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Cluster of each new point: the nearest existing cluster centre."""
    if not len(xy):
        return np.zeros(0, dtype=np.int64)
    distances = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1).astype(np.int64)
