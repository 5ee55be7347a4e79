"""Claiming work rows so that concurrent workers never do the same job twice.

A row is claimable when it is ``pending`` and either unclaimed or claimed so
long ago that its worker must have died. The claim is a conditional UPDATE
that re-checks exactly that condition, so on SQLite (one writer at a time) and
on PostgreSQL (READ COMMITTED re-evaluates the WHERE clause after waiting for
a row lock) only one worker's UPDATE changes a given row. The worker then
reads back the rows carrying its own unique claim tag.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from paperwire.store.db import Database
from paperwire.store.papers import utcnow


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_batch(db: Database, model, *, filters: list, worker_id: str, batch: int, stale_after: int,
                after_id: int = 0) -> tuple[str, list[int]]:
    """Claim up to ``batch`` pending rows of ``model`` with id > ``after_id``.

    Returns the claim tag and the ids this worker now owns (possibly fewer
    than selected when another worker won some of them).
    """
    now = utcnow()
    stale: datetime = now - timedelta(seconds=stale_after)
    claimable = [
        model.status == "pending",
        or_(model.claimed_by.is_(None), model.claimed_at < stale),
        *filters,
    ]
    tag = f"{worker_id}#{uuid.uuid4().hex[:12]}"[:100]
    with db.session() as session:
        ids = session.scalars(
            select(model.id).where(model.id > after_id, *claimable).order_by(model.id).limit(batch)
        ).all()
        if not ids:
            return tag, []
        session.execute(
            update(model).where(model.id.in_(ids), *claimable).values(claimed_by=tag, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    with db.session() as session:
        owned = session.scalars(select(model.id).where(model.claimed_by == tag).order_by(model.id)).all()
    return tag, list(owned)


def release(db: Database, model, ids: list[int], tag: str) -> None:
    """Give claimed rows back (still pending) so another run picks them up."""
    if not ids:
        return
    with db.session() as session:
        session.execute(
            update(model).where(model.id.in_(ids), model.claimed_by == tag, model.status == "pending")
            .values(claimed_by=None, claimed_at=None).execution_options(synchronize_session=False)
        )
