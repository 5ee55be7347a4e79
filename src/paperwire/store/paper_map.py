"""Stored map of papers: one 2D point per paper and labelled clusters, per generation.

The worker writes a whole generation (``rank/paper_map.py``) and publishes it
as an :class:`~paperwire.store.generations.IndexGeneration` of kind
:data:`MAP`; web requests read only the newest published one and never lay
anything out themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.generations import IndexGeneration
from paperwire.store.models import Base, Paper

#: Generation kind of the map (``index_generations.kind``).
MAP = "map"
_HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash: an even, fixed shuffle of ids


class MapPoint(Base):
    __tablename__ = "paper_map"

    generation: Mapped[int] = mapped_column(ForeignKey("index_generations.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    cluster: Mapped[int] = mapped_column(Integer)
    sample_rank: Mapped[int] = mapped_column(BigInteger)


class MapCluster(Base):
    __tablename__ = "paper_map_clusters"

    generation: Mapped[int] = mapped_column(ForeignKey("index_generations.id", ondelete="CASCADE"), primary_key=True)
    cluster: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    topic_slug: Mapped[str | None] = mapped_column(String(200))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class ClusterRow:
    cluster: int
    label: str
    topic_slug: str | None
    x: float
    y: float
    size: int


def sample_rank(paper_ids: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random rank per paper: the first N by rank are an even sample."""
    return (paper_ids.astype(np.uint64) * np.uint64(_HASH_MULTIPLIER)) % np.uint64(2**32)


def latest_map(session: Session) -> IndexGeneration | None:
    """The newest published map generation (of whichever model it was laid out from)."""
    return session.scalar(
        select(IndexGeneration).where(IndexGeneration.kind == MAP, IndexGeneration.published.is_(True))
        .order_by(IndexGeneration.id.desc()).limit(1)
    )


def load_points(session: Session, generation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(paper ids sorted, (n, 2) float coordinates, cluster per point) of a generation."""
    rows = session.execute(
        select(MapPoint.paper_id, MapPoint.x, MapPoint.y, MapPoint.cluster)
        .where(MapPoint.generation == generation).order_by(MapPoint.paper_id)
    ).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    xy = np.array([(r[1], r[2]) for r in rows], dtype=np.float64).reshape(-1, 2)
    clusters = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
    return ids, xy, clusters


def save_points(session: Session, generation: int, ids: np.ndarray, xy: np.ndarray, clusters: np.ndarray,
                chunk: int = 20000) -> None:
    """Write a generation's points in chunks (a 100k-point map is one bulk insert per chunk)."""
    ranks = sample_rank(ids)
    for start in range(0, len(ids), chunk):
        session.execute(insert(MapPoint), [
            {"generation": generation, "paper_id": int(ids[i]), "x": float(xy[i, 0]), "y": float(xy[i, 1]),
             "cluster": int(clusters[i]), "sample_rank": int(ranks[i])}
            for i in range(start, min(start + chunk, len(ids)))
        ])


def save_clusters(session: Session, generation: int, clusters: Sequence[ClusterRow]) -> None:
    if clusters:
        session.execute(insert(MapCluster), [
            {"generation": generation, "cluster": c.cluster, "label": c.label, "topic_slug": c.topic_slug,
             "x": c.x, "y": c.y, "size": c.size} for c in clusters
        ])


def load_clusters(session: Session, generation: int) -> list[ClusterRow]:
    rows = session.scalars(select(MapCluster).where(MapCluster.generation == generation).order_by(MapCluster.cluster))
    return [ClusterRow(r.cluster, r.label, r.topic_slug, r.x, r.y, r.size) for r in rows]


def points_in_box(session: Session, generation: int, *, limit: int,
                  bbox: tuple[float, float, float, float] | None = None) -> list[tuple[int, float, float, int]]:
    """Up to ``limit`` points (paper id, x, y, cluster) inside ``bbox`` (x0, y0, x1, y1), an even sample."""
    query = (select(MapPoint.paper_id, MapPoint.x, MapPoint.y, MapPoint.cluster)
             .join(Paper, Paper.id == MapPoint.paper_id).where(MapPoint.generation == generation, Paper.hidden.is_(False)))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        query = query.where(MapPoint.x >= x0, MapPoint.x <= x1, MapPoint.y >= y0, MapPoint.y <= y1)
    return [tuple(r) for r in session.execute(query.order_by(MapPoint.sample_rank, MapPoint.paper_id).limit(limit))]


def count_in_box(session: Session, generation: int, bbox: tuple[float, float, float, float] | None = None) -> int:
    from sqlalchemy import func

    query = (select(func.count()).select_from(MapPoint).join(Paper, Paper.id == MapPoint.paper_id)
             .where(MapPoint.generation == generation, Paper.hidden.is_(False)))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        query = query.where(MapPoint.x >= x0, MapPoint.x <= x1, MapPoint.y >= y0, MapPoint.y <= y1)
    return session.scalar(query) or 0


def cluster_paper_ids(session: Session, generation: int, cluster: int) -> list[int]:
    return list(session.scalars(
        select(MapPoint.paper_id).where(MapPoint.generation == generation, MapPoint.cluster == cluster)
    ))
