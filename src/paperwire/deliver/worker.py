"""Digests and webhooks that are due now: the ``deliver`` job of ``paperwire worker``.

Each round (:mod:`paperwire.worker.runner`) checks what is due and sends it: after
``send_hour`` (UTC) the daily digest of yesterday, and the weekly digest of
the last complete ISO week (from Monday on), then the webhooks of the same
periods. Because the send log makes every period idempotent, checking often
costs a couple of queries, several workers may run side by side, and a
worker that was down catches up on the next start.

Deployment: run ``paperwire worker`` under systemd (``Restart=always``;
SIGTERM stops it after the job in flight), or call ``paperwire digest send``
from cron — see the README.
"""

from __future__ import annotations

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
