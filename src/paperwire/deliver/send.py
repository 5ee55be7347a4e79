"""Sending one period's digests to every due subscriber, exactly once.

1. One send-log row per (active subscription, period) is inserted with a
   single INSERT … SELECT … WHERE NOT EXISTS; the UNIQUE constraint makes a
   concurrent insert fail, which is retried.
2. Rows are claimed in batches (:mod:`paperwire.deliver.claims`).
3. Each claimed row becomes a digest; an empty one is marked ``empty``, a
   sent one ``sent`` in its own transaction right after the SMTP server
   accepted it, a 5xx ``failed_permanent``. A temporary failure leaves it
   ``pending`` for the next run; an unreachable server stops the batch.

A crash leaves claimed rows that another run may take over after
``claim_timeout`` seconds. The only window for a duplicate is a crash between
the server's 250 reply and the commit that follows it; the Message-ID is
derived from (subscription, period) so receivers can tell such a copy apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import and_, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from paperwire.deliver.claims import claim_batch, default_worker_id, release
from paperwire.deliver.config import delivery_config
from paperwire.deliver.digest import DigestBuilder, Period, period_for
from paperwire.deliver.mailer import Mailer, MailError
from paperwire.deliver.render import build_digest_message
from paperwire.store.db import Database
from paperwire.store.delivery import SEND_EMPTY, SEND_FAILED, SEND_PENDING, SEND_SENT, SendLog, Subscription
from paperwire.store.locks import busy_message, job_lock
from paperwire.store.papers import utcnow


@dataclass
class SendReport:
    period: str
    dry_run: bool = False
    due: int = 0
    sent: int = 0
    empty: int = 0
    failed_permanent: int = 0
    deferred: int = 0
    cancelled: int = 0
    aborted: str | None = None
    #: Set when another worker was sending this period (job lock held): nothing was done.
    skipped: str | None = None
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["errors"] = self.errors[:50]
        return data

    def summary(self) -> str:
        if self.skipped:
            return f"{self.period}: skipped — {self.skipped}"
        verb = "would send" if self.dry_run else "sent"
        text = (f"{self.period}: {verb} {self.sent}, {self.empty} empty (not sent), "
                f"{self.failed_permanent} failed permanently, {self.deferred} deferred, {self.due} due "
                f"({self.seconds:.1f} s)")
        return text + (f" — stopped: {self.aborted}" if self.aborted else "")


def _active(frequency: str):
    return and_(Subscription.frequency == frequency, Subscription.confirmed_at.is_not(None),
                Subscription.unsubscribed_at.is_(None))


def ensure_log_rows(db: Database, period: Period) -> None:
    """Insert the missing (subscription, period) rows; safe under concurrency."""
    missing = select(Subscription.id, literal(period.key), literal(SEND_PENDING), literal(0), literal(0),
                     literal(utcnow())).where(
        _active(period.frequency),
        ~exists().where(SendLog.subscription_id == Subscription.id, SendLog.period_key == period.key),
    )
    statement = insert(SendLog).from_select(
        ["subscription_id", "period_key", "status", "attempts", "paper_count", "created_at"], missing)
    for attempt in range(5):
        try:
            with db.session() as session:
                session.execute(statement)
            return
        except (IntegrityError, OperationalError):  # another worker inserted the same rows first
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def _finish(db: Database, row_id: int, tag: str, **values) -> bool:
    with db.session() as session:
        result = session.execute(
            update(SendLog).where(SendLog.id == row_id, SendLog.claimed_by == tag, SendLog.status == SEND_PENDING)
            .values(**values).execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def send_digests(
    db: Database,
    *,
    day: date,
    frequency: str = "daily",
    dry_run: bool = False,
    worker_id: str | None = None,
    mailer: Mailer | None = None,
    claim_timeout: int | None = None,
    batch_size: int | None = None,
    connections: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send the ``frequency`` digest of the period containing ``day`` (see module docstring).

    ``connections`` > 1 runs that many claim-and-send loops in threads, each
    with its own SMTP connection: rendering one mail overlaps with waiting
    for the server's reply to another. They claim rows like separate workers.
    """
    cfg = delivery_config()
    period = period_for(frequency, day)
    report = SendReport(period=period.key, dry_run=dry_run)
    started = time.perf_counter()
    if dry_run:
        _dry_run(db, period, report)
        report.seconds = time.perf_counter() - started
        return report
    # The send log already prevents duplicates; the lock keeps a second worker
    # from claiming the same period's rows concurrently, so it skips instead.
    with job_lock(db, f"digest:{period.key}") as acquired:
        if not acquired:
            report.skipped = busy_message(db, f"digest:{period.key}", f"sender of {period.key}")
            report.seconds = time.perf_counter() - started
            return report
        ensure_log_rows(db, period)
        loop = _Loop(db, period, report, worker_id or default_worker_id(),
                     cfg.claim_timeout if claim_timeout is None else claim_timeout, batch_size or cfg.claim_batch)
        try:
            if mailer is not None or connections <= 1:
                loop.run(mailer or Mailer(sleep=sleep), close=mailer is None)
            else:
                threads = [threading.Thread(target=loop.run, args=(Mailer(sleep=sleep),), daemon=True)
                           for _ in range(connections)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if loop.crashed:
                    raise loop.crashed
        finally:
            loop.close()
    report.seconds = time.perf_counter() - started
    return report


class _Loop:
    """Claim batches and send them until nothing is left (one per connection)."""

    def __init__(self, db: Database, period: Period, report: SendReport, worker: str, stale: int, batch: int):
        self.db, self.period, self.report = db, period, report
        self.worker, self.stale, self.batch = worker, stale, batch
        self.lock = threading.Lock()
        self.builder_session = db.sessionmaker()
        self._builder: DigestBuilder | None = None
        self.crashed: BaseException | None = None

    def builder(self) -> DigestBuilder:
        with self.lock:
            if self._builder is None:
                self._builder = _LockedBuilder(self.builder_session, self.period, lock=threading.Lock())
            return self._builder

    def run(self, mailer: Mailer, close: bool = True) -> None:
        db, report, cursor = self.db, self.report, 0
        try:
            while report.aborted is None:
                tag, ids = claim_batch(db, SendLog, filters=[SendLog.period_key == self.period.key],
                                       worker_id=self.worker, batch=self.batch, stale_after=self.stale,
                                       after_id=cursor)
                if not ids:
                    break
                cursor = ids[-1]
                with self.lock:
                    report.due += len(ids)
                with db.session() as session:
                    rows = session.execute(
                        select(SendLog.id, Subscription).join(Subscription, Subscription.id == SendLog.subscription_id)
                        .where(SendLog.id.in_(ids))).all()
                builder = self.builder()
                pending = [row_id for row_id, _ in rows]
                for row_id, subscription in rows:
                    pending.remove(row_id)
                    if report.aborted is not None or not _send_one(db, builder, row_id, tag, subscription, mailer,
                                                                   report, self.lock):
                        release(db, SendLog, pending, tag)
                        break
                for row_id in set(ids) - {row_id for row_id, _ in rows}:  # subscription deleted meanwhile
                    _finish(db, row_id, tag, status="cancelled", last_error="subscription no longer exists")
        except BaseException as exc:
            self.crashed = exc
            raise
        finally:
            if close:
                mailer.close()

    def close(self) -> None:
        self.builder_session.close()


class _LockedBuilder(DigestBuilder):
    """A builder shared by threads: building may add recommended papers to it."""

    def __init__(self, session, period: Period, *, lock: threading.Lock):
        super().__init__(session, period)
        self._lock = lock

    def build(self, *args, **kwargs):
        with self._lock:
            return super().build(*args, **kwargs)


def _send_one(db: Database, builder: DigestBuilder, row_id: int, tag: str, subscription: Subscription,
              mailer: Mailer, report: SendReport, lock: threading.Lock) -> bool:
    """Handle one claimed row; False means stop the batch (server unreachable)."""
    kind, note = _deliver(db, builder, row_id, tag, subscription, mailer)
    with lock:
        if note:
            report.errors.append(note)
        if kind.startswith("stop:"):
            kind = kind.removeprefix("stop:")
            report.aborted = report.aborted or note
        setattr(report, kind, getattr(report, kind) + 1)
        return report.aborted is None


def _deliver(db: Database, builder: DigestBuilder, row_id: int, tag: str, subscription: Subscription,
             mailer: Mailer) -> tuple[str, str | None]:
    """Send one claimed row; returns (the report counter to bump, "stop:" first to stop; error note)."""
    if not subscription.active:
        _finish(db, row_id, tag, status="cancelled", last_error="unsubscribed")
        return "cancelled", None
    digest = builder.for_subscription(subscription)
    if digest.is_empty:
        _finish(db, row_id, tag, status=SEND_EMPTY, sent_at=None)
        return "empty", None
    message = build_digest_message(digest)
    try:
        attempts = mailer.send(message)
    except MailError as error:
        note = f"{subscription.email}: {error}"
        stop = "stop:" if error.connection else ""  # unreachable server or bad credentials: all would fail
        if error.permanent:
            _finish(db, row_id, tag, status=SEND_FAILED, attempts=SendLog.attempts + error.attempts,
                    last_error=str(error)[:1000])
            return stop + "failed_permanent", note
        _finish(db, row_id, tag, attempts=SendLog.attempts + error.attempts, last_error=str(error)[:1000],
                claimed_by=None, claimed_at=None)
        return stop + "deferred", note
    _finish(db, row_id, tag, status=SEND_SENT, sent_at=utcnow(), attempts=SendLog.attempts + attempts,
            paper_count=len(digest.items), last_error=None)
    return "sent", None


def _dry_run(db: Database, period: Period, report: SendReport) -> None:
    """Count what a real run would do, writing nothing."""
    with db.session() as session:
        done = select(SendLog.subscription_id).where(SendLog.period_key == period.key, SendLog.status != SEND_PENDING)
        subscriptions = session.scalars(
            select(Subscription).where(_active(period.frequency), Subscription.id.not_in(done))).all()
        builder = DigestBuilder(session, period)
        for subscription in subscriptions:
            report.due += 1
            if builder.for_subscription(subscription).is_empty:
                report.empty += 1
            else:
                report.sent += 1
