"""Published generations of derived indexes (the vector index today).

The worker builds an index from the database and then *publishes* it as a
numbered generation row; web processes only ever load the newest published
generation and never build one inside a request. The ``marker`` fingerprints
the rows an index was built from (count, newest write, id sum), so "is it
stale?" is an exact comparison rather than a guess from counts, and a
re-embedded vector (same count, newer write) makes the index stale too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, bindparam, case, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.embeddings import Embedding
from paperwire.store.models import Base, Paper

VECTORS = "vectors"
#: The tantivy lexical index (``model`` = its schema name).
LEXICAL = "lexical"


class IndexGeneration(Base):
    __tablename__ = "index_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(100))
    #: File name inside the data folder (None where the index lives in the database).
    path: Mapped[str | None] = mapped_column(Text)
    vectors: Mapped[int] = mapped_column(Integer, default=0)
    marker: Mapped[str] = mapped_column(String(200))
    built_at: Mapped[datetime] = mapped_column(DateTime)
    build_seconds: Mapped[float | None] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean, default=False)


def embeddings_marker(session: Session, model: str) -> str:
    """Fingerprint of ``model``'s stored vectors: changes with every insert, re-embed or delete."""
    count, newest, id_sum = session.execute(
        select(func.count(), func.max(Embedding.created_at), func.sum(Embedding.paper_id)).where(Embedding.model == model)
    ).one()
    newest_text = newest.isoformat() if isinstance(newest, datetime) else (str(newest) if newest else "-")
    return f"{int(count or 0)}:{newest_text}:{int(id_sum or 0)}"


def papers_marker(session: Session) -> str:
    """Fingerprint of the papers a lexical index is built from: changes with every
    insert, content update (``imported_at``), delete, merge, hide or unhide."""
    count, newest, id_sum, hidden_sum = session.execute(select(
        func.count(), func.max(Paper.imported_at), func.sum(Paper.id),
        func.sum(case((Paper.hidden.is_(True), Paper.id), else_=0)),
    )).one()
    newest_text = newest.isoformat() if isinstance(newest, datetime) else (str(newest) if newest else "-")
    return f"{int(count or 0)}:{newest_text}:{int(id_sum or 0)}:{int(hidden_sum or 0)}"


def begin_generation(session: Session, kind: str, model: str, marker: str, now: datetime) -> int:
    """Reserve the next generation number (unpublished until :func:`publish_generation`)."""
    row = IndexGeneration(kind=kind, model=model, marker=marker, built_at=now, published=False)
    session.add(row)
    session.flush()
    return row.id


def publish_generation(session: Session, generation: int, *, path: str | None, size: int, seconds: float) -> None:
    """Mark a built generation published: from now on readers load it."""
    row = session.get(IndexGeneration, generation)
    row.path, row.vectors, row.build_seconds, row.published = path, size, seconds, True


#: Built once: every semantic search asks (building the statement costs more than running it).
_LATEST = (
    select(IndexGeneration)
    .where(IndexGeneration.kind == bindparam("kind"), IndexGeneration.model == bindparam("model"),
           IndexGeneration.published.is_(True))
    .order_by(IndexGeneration.id.desc())
    .limit(1)
)


def latest_generation(session: Session, kind: str, model: str) -> IndexGeneration | None:
    """The newest *published* generation of an index."""
    return session.scalar(_LATEST, {"kind": kind, "model": model})


def older_generations(session: Session, kind: str, model: str, keep: int) -> list[IndexGeneration]:
    """Every generation but the newest ``keep`` published ones (call under the build lock:
    unpublished rows are then leftovers of a build that died)."""
    rows = list(session.scalars(
        select(IndexGeneration).where(IndexGeneration.kind == kind, IndexGeneration.model == model)
        .order_by(IndexGeneration.id.desc())
    ))
    kept = {r.id for r in rows if r.published}
    kept = set(sorted(kept, reverse=True)[:keep])
    return [r for r in rows if r.id not in kept]


def retire_generations(session: Session, kind: str, model: str, keep: int) -> list[tuple[int, str | None]]:
    """Delete the rows of every generation but the newest ``keep`` published ones
    (call under the build lock); returns their (id, path) so that the caller,
    which knows what a generation's files or rows are, removes those."""
    return _delete(session, [(row.id, row.path) for row in older_generations(session, kind, model, keep)])


def retire_other_models(session: Session, kind: str, model: str) -> list[tuple[int, str | None]]:
    """Delete the rows of every ``kind`` generation not made by ``model`` (a schema this
    version no longer reads); returns their (id, path) like :func:`retire_generations`."""
    rows = session.execute(select(IndexGeneration.id, IndexGeneration.path).where(
        IndexGeneration.kind == kind, IndexGeneration.model != model)).all()
    return _delete(session, [(gid, path) for gid, path in rows])


def _delete(session: Session, rows: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
    if rows:
        session.execute(delete(IndexGeneration).where(IndexGeneration.id.in_([gid for gid, _ in rows])))
    return rows
