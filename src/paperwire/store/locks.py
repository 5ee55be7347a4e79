"""Named job locks, so only one process at a time harvests a source, sends a
digest period or runs an embedding backfill.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock(hashtext(name))``)
  on a dedicated connection held for the duration. The server releases it
  when that connection ends, so a crashed holder never blocks anyone.
* SQLite (and any other database): a row in ``job_locks`` with a lease. It is
  taken atomically — an INSERT, or an UPDATE of an *expired* row — and a
  heartbeat thread renews the lease while the job runs. A crashed holder stops
  renewing, so its lock is free again ``lease`` seconds later.

Both are advisory: they only exclude other callers of :func:`job_lock`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from paperwire.store.db import Database
from paperwire.store.papers import utcnow

log = logging.getLogger(__name__)

#: Seconds after which the lock of a holder that stopped renewing is free.
DEFAULT_LEASE = 120.0

# Core table (not an ORM model): the migration 0008 creates it.
_metadata = MetaData()
job_locks = Table(
    "job_locks",
    _metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("acquired_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)


class JobBusy(RuntimeError):
    """Another process holds the job lock (raised by callers that cannot wait)."""


@dataclass(frozen=True)
class LockHolder:
    owner: str
    acquired_at: datetime
    expires_at: datetime


def new_owner() -> str:
    """A unique holder tag that also tells a human where the job runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def job_lock(db: Database, name: str, *, wait: bool = False, lease: float = DEFAULT_LEASE,
             poll: float = 0.5, timeout: float | None = None) -> Iterator[bool]:
    """Hold the lock ``name`` for the ``with`` block; yields whether it was acquired.

    ``wait=False`` tries once; ``wait=True`` retries (every ``poll`` seconds on
    SQLite) until it is free or ``timeout`` seconds have passed.
    """
    if not name or len(name) > 200:
        raise ValueError("a job lock name must be 1 to 200 characters")
    if db.dialect == "postgresql":
        with _pg_lock(db, name, wait=wait, timeout=timeout) as acquired:
            yield acquired
    else:
        with _lease_lock(db, name, wait=wait, lease=lease, poll=poll, timeout=timeout) as acquired:
            yield acquired


def lock_holder(db: Database, name: str) -> LockHolder | None:
    """Who holds the lock ``name`` now (None if free)."""
    if db.dialect == "postgresql" and not _pg_lock_is_held(db, name):
        return None  # a row left by a crashed holder says nothing
    with db.session() as session:
        row = session.execute(select(job_locks).where(job_locks.c.name == name)).first()
    if row is None or row.expires_at < utcnow():
        return None
    return LockHolder(row.owner, row.acquired_at, row.expires_at)


def busy_message(db: Database, name: str, what: str) -> str:
    """'another <what> is running (…)', naming the holder when it is known."""
    holder = lock_holder(db, name)
    where = f" (held by {holder.owner} since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC)" if holder else ""
    return f"another {what} is running{where}; try again when it has finished"


# -- SQLite / generic: a leased row ------------------------------------------
def try_acquire_lease(db: Database, name: str, owner: str, lease: float) -> bool:
    """One atomic attempt: insert the row, or take it over if its lease expired."""
    now = utcnow()
    expires = now + timedelta(seconds=lease)
    try:
        with db.session() as session:
            session.execute(insert(job_locks).values(name=name, owner=owner, acquired_at=now, expires_at=expires))
        return True
    except IntegrityError:
        pass
    with db.session() as session:
        current = session.scalar(select(job_locks.c.owner).where(job_locks.c.name == name))
        takeover = job_locks.c.expires_at < now
        if current is not None and holder_is_dead(current):
            takeover = takeover | (job_locks.c.owner == current)
        result = session.execute(
            update(job_locks).where(job_locks.c.name == name, takeover)
            .values(owner=owner, acquired_at=now, expires_at=expires)
        )
        return result.rowcount == 1


def holder_is_dead(owner: str) -> bool:
    """True if ``owner`` names a process on this host that no longer exists.

    Lets a restart take over at once after a crash instead of waiting out the
    lease (holders on other hosts can only be judged by their lease).
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False


def renew_lease(db: Database, name: str, owner: str, lease: float) -> bool:
    """Push the expiry forward; False means the lock was lost (taken over)."""
    with db.session() as session:
        result = session.execute(
            update(job_locks).where(job_locks.c.name == name, job_locks.c.owner == owner)
            .values(expires_at=utcnow() + timedelta(seconds=lease))
        )
        return result.rowcount == 1


def release_lease(db: Database, name: str, owner: str) -> None:
    with db.session() as session:
        session.execute(delete(job_locks).where(job_locks.c.name == name, job_locks.c.owner == owner))


class _Heartbeat(threading.Thread):
    """Renews a lease every ``lease / 4`` seconds until stopped."""

    def __init__(self, db: Database, name: str, owner: str, lease: float):
        super().__init__(name=f"job-lock:{name}", daemon=True)
        self.db, self.lock_name, self.owner, self.lease = db, name, owner, lease
        self.stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stopped.wait(self.lease / 4):
            try:
                if not renew_lease(self.db, self.lock_name, self.owner, self.lease):
                    self.lost = True
                    log.warning("job lock %r was taken over by another process (lease expired)", self.lock_name)
                    return
            except Exception as exc:  # noqa: BLE001 - a busy database must not kill the heartbeat
                log.warning("could not renew job lock %r: %s", self.lock_name, exc)


@contextmanager
def _lease_lock(db: Database, name: str, *, wait: bool, lease: float, poll: float,
                timeout: float | None) -> Iterator[bool]:
    if lease <= 0:
        raise ValueError("lease must be positive")
    owner = new_owner()
    deadline = None if timeout is None else time.monotonic() + timeout
    acquired = try_acquire_lease(db, name, owner, lease)
    while not acquired and wait and (deadline is None or time.monotonic() < deadline):
        time.sleep(poll)
        acquired = try_acquire_lease(db, name, owner, lease)
    if not acquired:
        yield False
        return
    heartbeat = _Heartbeat(db, name, owner, lease)
    heartbeat.start()
    try:
        yield True
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
        release_lease(db, name, owner)


# -- PostgreSQL: advisory lock on a dedicated connection ------------------------
@contextmanager
def _pg_lock(db: Database, name: str, *, wait: bool, timeout: float | None) -> Iterator[bool]:
    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if wait and timeout is None:
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
            acquired = True
        else:
            deadline = time.monotonic() + (timeout or 0)
            while True:
                acquired = bool(connection.scalar(text("SELECT pg_try_advisory_lock(hashtext(:name))"),
                                                  {"name": name}))
                if acquired or not wait or time.monotonic() >= deadline:
                    break
                time.sleep(0.5)
        if acquired:  # who holds it, for messages; the advisory lock is what excludes
            now = utcnow()
            connection.execute(delete(job_locks).where(job_locks.c.name == name))
            connection.execute(insert(job_locks).values(name=name, owner=new_owner(), acquired_at=now,
                                                        expires_at=now + timedelta(days=36500)))
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    connection.execute(delete(job_locks).where(job_locks.c.name == name))
                    connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
                except Exception:  # noqa: BLE001 - dropping the session releases the lock anyway
                    connection.invalidate()
    finally:
        connection.close()


def _pg_lock_is_held(db: Database, name: str) -> bool:
    """Whether some session holds the advisory lock (probe: try it and let go)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        free = bool(connection.scalar(text("SELECT pg_try_advisory_lock(hashtext(:name))"), {"name": name}))
        if free:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
    return not free
