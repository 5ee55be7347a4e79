"""Stored embeddings: float32 vectors as bytes, keyed by (paper, model).

The content hash says which title/abstract/authors a vector was computed
from, so only new or changed papers are embedded again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.models import Base, Paper


class Embedding(Base):
    __tablename__ = "embeddings"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(40))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


def stale_paper_ids(session: Session, model: str, paper_ids: Sequence[int] | None = None) -> list[int]:
    """Papers (of ``paper_ids``, or all) with no vector for ``model`` or an outdated one."""
    query = (
        select(Paper.id)
        .outerjoin(Embedding, (Embedding.paper_id == Paper.id) & (Embedding.model == model))
        .where((Embedding.paper_id.is_(None)) | (Embedding.content_hash != Paper.content_hash))
        .order_by(Paper.id)
    )
    if paper_ids is not None:
        query = query.where(Paper.id.in_(paper_ids))
    return list(session.scalars(query))


def count_stale(session: Session, model: str) -> int:
    """How many papers wait to be embedded with ``model`` (no vector, or an outdated one)."""
    query = (
        select(func.count())
        .select_from(Paper)
        .outerjoin(Embedding, (Embedding.paper_id == Paper.id) & (Embedding.model == model))
        .where((Embedding.paper_id.is_(None)) | (Embedding.content_hash != Paper.content_hash))
    )
    return session.scalar(query) or 0


def save_vectors(session: Session, model: str, rows: Sequence[tuple[int, str]], vectors: np.ndarray, now: datetime) -> None:
    """Insert or replace vectors for (paper_id, content_hash) rows."""
    ids = [paper_id for paper_id, _ in rows]
    session.execute(delete(Embedding).where(Embedding.model == model, Embedding.paper_id.in_(ids)))
    session.execute(
        Embedding.__table__.insert(),
        [
            {"paper_id": paper_id, "model": model, "content_hash": content_hash, "dim": vectors.shape[1],
             "vector": vectors[i].astype(np.float32).tobytes(), "created_at": now}
            for i, (paper_id, content_hash) in enumerate(rows)
        ],
    )


def count_vectors(session: Session, model: str) -> int:
    return session.scalar(select(func.count()).where(Embedding.model == model)) or 0


def load_vectors(session: Session, model: str, paper_ids: Sequence[int]) -> dict[int, np.ndarray]:
    result = session.execute(
        select(Embedding.paper_id, Embedding.vector).where(Embedding.model == model, Embedding.paper_id.in_(paper_ids))
    )
    return {paper_id: np.frombuffer(blob, dtype=np.float32) for paper_id, blob in result}


def iter_all_vectors(session: Session, model: str, chunk: int = 20000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, matrix) chunks of every vector of ``model``, for rebuilding an index."""
    last = 0
    while True:
        rows = session.execute(
            select(Embedding.paper_id, Embedding.vector)
            .where(Embedding.model == model, Embedding.paper_id > last)
            .order_by(Embedding.paper_id)
            .limit(chunk)
        ).all()
        if not rows:
            return
        ids = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
        matrix = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        yield ids, matrix
        last = rows[-1][0]
