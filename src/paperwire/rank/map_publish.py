"""Building and publishing the map of papers: the one place a layout is computed.

The worker's ``map`` job, ``paperwire map rebuild`` and the demo loader call
:func:`publish_map`. It compares the fingerprint of the default model's
stored vectors with the newest published map; when they differ it

- places the new papers beside their neighbours (old points keep their place)
  and gives them the cluster of the nearest cluster centre, or
- lays the whole map out again when there is no map yet, the vectors changed
  dimension, ``force`` is given, or the new papers are more than
  ``Settings.map_relayout_fraction`` of those already placed,

then writes it as a new generation (kind ``map``) and publishes it; older
generations beyond the previous one are deleted. Cluster labels come from
the topic index (the most distinctive topic among a cluster's papers) and
fall back to the most distinctive arXiv category or source keyword while it
is empty; a newly published topic index relabels the clusters (points stay).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperwire.rank import paper_map
from paperwire.store.db import Database
from paperwire.store.embeddings import iter_all_vectors
from paperwire.store.generations import (
    begin_generation, embeddings_marker, latest_generation, publish_generation, retire_generations,
)
from paperwire.store.locks import job_lock
from paperwire.store.models import Paper
from paperwire.store.paper_map import (
    MAP, ClusterRow, MapCluster, MapPoint, load_clusters, load_points, save_clusters, save_points,
)
from paperwire.store.papers import utcnow

#: Generations kept (the newest and the one before it, for requests still reading it).
KEEP_GENERATIONS = 2
#: A full layout of 100k papers takes minutes: the lock lease outlasts it.
LOCK_LEASE = 3600.0


@dataclass
class MapReport:
    model: str
    generation: int | None = None
    points: int = 0
    placed: int = 0
    built: bool = False
    full: bool = False
    seconds: float = 0.0
    busy: bool = False

    def summary(self) -> str:
        if self.busy:
            return f"map of {self.model}: another process is laying it out"
        if not self.built:
            return f"map of {self.model}: generation {self.generation} is current ({self.points} papers)"
        how = "laid out" if self.full else f"updated ({self.placed} new papers placed)"
        return f"map of {self.model}: generation {self.generation} {how} and published ({self.points} papers, {self.seconds:.1f} s)"


def default_model() -> str:
    from paperwire.index.embeddings import get_embedder
    from paperwire.settings import get_settings

    return get_embedder(get_settings().embedder).name


def _all_vectors(session: Session, model: str) -> tuple[np.ndarray, np.ndarray]:
    ids, parts = [], []
    for chunk_ids, matrix in iter_all_vectors(session, model):
        ids.append(chunk_ids.astype(np.int64))
        parts.append(matrix)
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(ids), np.vstack(parts)


def publish_map(db: Database, *, force: bool = False, model: str | None = None) -> MapReport:
    """Lay out (or extend) and publish the map if the stored vectors changed since the last one."""
    from paperwire.settings import get_settings

    model = model or default_model()
    report = MapReport(model=model)
    with job_lock(db, f"index:{MAP}:{model}", lease=LOCK_LEASE) as acquired:
        if not acquired:
            report.busy = True
            return report
        with db.session() as session:
            marker = f"{embeddings_marker(session, model)}|topics:{_topics_generation(session)}"
            previous = latest_generation(session, MAP, model)
            if previous is not None and previous.marker == marker and not force:
                report.generation, report.points = previous.id, previous.vectors
                return report
            ids, X = _all_vectors(session, model)
            old = (load_points(session, previous.id), load_clusters(session, previous.id)) if previous else None
        started = time.perf_counter()
        xy, labels, centres, placed, full = _positions(ids, X, old, force, get_settings().map_relayout_fraction)
        with db.session() as session:
            relabel = full or previous is None or previous.marker.rsplit("|", 1)[-1] != marker.rsplit("|", 1)[-1]
            rows = _label_clusters(session, ids, labels, centres) if relabel else _keep_clusters(old[1], labels, centres)
            generation = begin_generation(session, MAP, model, marker, utcnow())
            save_points(session, generation, ids, xy, labels)
            save_clusters(session, generation, rows)
            report.seconds = time.perf_counter() - started
            publish_generation(session, generation, path=None, size=len(ids), seconds=report.seconds)
        _remove_old(db, model)
        report.generation, report.points, report.placed, report.built, report.full = generation, len(ids), placed, True, full
        return report


def _topics_generation(session: Session) -> int:
    """The published topic index the labels come from (0: none): a new one relabels the map."""
    try:
        from paperwire.rank.topics import GENERATION_KIND, GENERATION_MODEL
    except ImportError:
        return 0
    row = latest_generation(session, GENERATION_KIND, GENERATION_MODEL)
    return row.id if row is not None else 0


def _positions(ids: np.ndarray, X: np.ndarray, old, force: bool, fraction: float):
    """(xy, cluster per point, centres, papers placed incrementally, whether it was a full layout)."""
    if old is not None and not force and len(ids):
        (old_ids, old_xy, old_labels), old_clusters = old
        keep = np.isin(old_ids, ids)
        old_ids, old_xy, old_labels = old_ids[keep], old_xy[keep], old_labels[keep]
        new_mask = ~np.isin(ids, old_ids)
        new_count = int(new_mask.sum())
        same_dim = len(old_ids) > 0 and X.shape[1] > 0
        if same_dim and old_clusters and new_count <= fraction * len(old_ids):
            placed_rows = np.searchsorted(ids, old_ids)  # ids are sorted; old_ids ⊂ ids
            xy = np.zeros((len(ids), 2))
            labels = np.zeros(len(ids), dtype=np.int64)
            xy[placed_rows], labels[placed_rows] = old_xy, old_labels
            centres = np.array([(c.x, c.y) for c in old_clusters])
            if new_count:
                xy[new_mask] = paper_map.place_new(X[placed_rows], old_xy, X[new_mask])
                labels[new_mask] = np.array([old_clusters[i].cluster for i in paper_map.nearest_centre(xy[new_mask], centres)])
            return xy, labels, centres, new_count, False
    xy = paper_map.layout(X, n_jobs=max(1, min(8, os.cpu_count() or 1))) if len(ids) else np.zeros((0, 2))
    labels, centres = paper_map.clusters(xy) if len(ids) else (np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    return xy, labels, centres, 0, True


def _keep_clusters(old_clusters: Sequence[ClusterRow], labels: np.ndarray, centres) -> list[ClusterRow]:
    sizes = Counter(labels.tolist())
    return [ClusterRow(c.cluster, c.label, c.topic_slug, c.x, c.y, sizes.get(c.cluster, 0)) for c in old_clusters]


def _label_clusters(session: Session, ids: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> list[ClusterRow]:
    """A label per cluster: its most distinctive topic (or arXiv category while topics are empty)."""
    members: dict[int, list[int]] = {}
    for paper_id, cluster in zip(ids.tolist(), labels.tolist()):
        members.setdefault(cluster, []).append(paper_id)
    terms = _paper_terms(session, ids.tolist())
    picked = _distinctive(members, terms)
    rows = []
    for cluster, paper_ids in sorted(members.items()):
        slug, label = picked.get(cluster, (None, f"Cluster {cluster + 1}"))
        x, y = centres[cluster] if cluster < len(centres) else (0.0, 0.0)
        rows.append(ClusterRow(cluster, label, slug, float(x), float(y), len(paper_ids)))
    return rows


def _paper_terms(session: Session, paper_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(slug, label) terms per paper: topics from the topic index, else the paper's arXiv
    categories and its source's keywords (Hugging Face ``ai_keywords``)."""
    terms = _topic_terms(session, paper_ids)
    if terms:
        return terms
    from paperwire.taxonomy import taxonomy

    names = {c.id: c.name for g in taxonomy() for a in g.archives for c in a.categories}
    out: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(paper_ids), 5000):
        chunk = paper_ids[start:start + 5000]
        rows = session.execute(select(Paper.id, Paper.categories, Paper.ai_keywords).where(Paper.id.in_(chunk)))
        for paper_id, categories, keywords in rows:
            found = [(c, f"{names[c]} ({c})" if c in names else c) for c in (categories or "").split()]
            found += [(f"kw:{k.strip().lower()}", k.strip()) for k in (keywords or []) if isinstance(k, str) and k.strip()]
            out[paper_id] = found
    return out


def _topic_terms(session: Session, paper_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    try:
        from paperwire.rank.topics import topics_of_papers
    except ImportError:  # the topic index is not part of this installation
        return {}
    out: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(paper_ids), 5000):
        found = topics_of_papers(session, paper_ids[start:start + 5000], limit_per_paper=5)
        for pid, topics in found.items():
            # Categories label a cluster only for papers with no keyword or phrase topic:
            # "Computer Vision (cs.CV)" says less about an island than "3D Gaussian splatting".
            named = [t for t in topics if t.kind != "category"] or list(topics)
            if named:
                out[pid] = [(t.slug, t.label) for t in named]
    return out


def _distinctive(members: dict[int, list[int]], terms: dict[int, list[tuple[str, str]]],
                 min_count: int = 2) -> dict[int, tuple[str, str]]:
    """Per cluster the term with the largest log-likelihood contribution ``a · ln(a/E)``
    (``a`` papers of the cluster carry it, ``E`` expected from its share overall), so a term
    every cluster has (cs.LG, "large language models") does not label them all."""
    total = sum(len(m) for m in members.values()) or 1
    overall = Counter(slug for pid in terms for slug, _ in dict(terms[pid]).items())
    label_of = {slug: label for pid in terms for slug, label in terms[pid]}
    picked = {}
    for cluster, paper_ids in members.items():
        counts = Counter(slug for pid in paper_ids for slug in dict(terms.get(pid, [])))
        best, best_score = None, 0.0
        for slug, a in counts.items():
            expected = overall[slug] * len(paper_ids) / total
            score = a * math.log(a / expected) if a >= min_count and expected > 0 else 0.0
            if score > best_score or (score == best_score and best is not None and slug < best):
                best, best_score = slug, score
        if best is not None:
            picked[cluster] = (best, label_of[best])
    return picked


def _remove_old(db: Database, model: str) -> None:
    with db.session() as session:
        old = [gid for gid, _ in retire_generations(session, MAP, model, KEEP_GENERATIONS)]
        if old:  # a map generation's "files" are its rows
            session.execute(delete(MapPoint).where(MapPoint.generation.in_(old)))
            session.execute(delete(MapCluster).where(MapCluster.generation.in_(old)))
