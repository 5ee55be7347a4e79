"""The long-running sender: ``paperwire worker``.

Every ``poll_seconds`` it checks what is due and sends it: after
``send_hour`` (UTC) the daily digest of yesterday, and the weekly digest of
the last complete ISO week (from Monday on), then the webhooks of the same
periods. Because the send log makes every period idempotent, checking often
costs a couple of queries, several workers may run side by side, and a
worker that was down catches up on the next start.

Deployment: run it under systemd (``Restart=always``; SIGTERM stops it after
the mail in flight), or skip it and call ``paperwire digest send`` from cron
— see docs in the README.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from paperwire.deliver.config import delivery_config
from paperwire.deliver.send import send_digests
from paperwire.deliver.webhooks import deliver_webhooks
from paperwire.store.db import Database
from paperwire.store.papers import utcnow


def due_periods(now: datetime, send_hour: int) -> list[tuple[str, date]]:
    """(frequency, a day of the period) pairs that should have been sent by ``now``."""
    if now.hour < send_hour:
        now = now - timedelta(days=1)  # today's run has not started yet: yesterday's state
    yesterday = now.date() - timedelta(days=1)
    last_week_day = now.date() - timedelta(days=now.date().isoweekday())  # Sunday of the previous ISO week
    return [("daily", yesterday), ("weekly", last_week_day)]


def run_once(db: Database, *, now: datetime | None = None, send_hour: int | None = None,
             log: Callable[[str], None] = print) -> list:
    """Send everything that is due now; returns the reports."""
    cfg = delivery_config()
    hour = cfg.send_hour if send_hour is None else send_hour
    reports = []
    for frequency, day in due_periods(now or utcnow(), hour):
        report = send_digests(db, day=day, frequency=frequency)
        if report.due or report.aborted or report.skipped:
            log(report.summary())
        reports.append(report)
        hooks = deliver_webhooks(db, day=day, frequency=frequency)
        if hooks.due:
            log(hooks.summary())
        reports.append(hooks)
    return reports


def run_worker(db: Database, *, once: bool = False, send_hour: int | None = None, poll_seconds: float | None = None,
               stop: threading.Event | None = None, log: Callable[[str], None] = print) -> None:
    """Loop until SIGTERM/SIGINT (or ``stop`` is set); ``once`` does a single round."""
    cfg = delivery_config()
    poll = cfg.poll_seconds if poll_seconds is None else poll_seconds
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    log(f"paperwire worker started (send hour {cfg.send_hour if send_hour is None else send_hour}:00 UTC, "
        f"checking every {poll:g} s)")
    try:
        while not stop.is_set():
            try:
                run_once(db, send_hour=send_hour, log=log)
            except Exception as exc:  # noqa: BLE001 - a worker must survive a bad round
                log(f"error during a round (will retry): {type(exc).__name__}: {exc}")
            if once:
                break
            stop.wait(poll)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log("paperwire worker stopped")
