"""``paperwire digest send`` and ``paperwire worker``.

The lead registers these in :mod:`paperwire.cli`::

    app.add_typer(digest_app, name="digest")
    app.command("worker")(worker)

Running ``python -m paperwire.deliver.cli send …`` works too.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from paperwire.settings import get_settings
from paperwire.store.db import missing_sqlite_file, open_database
from paperwire.store.papers import utcnow

digest_app = typer.Typer(help="Email digests: send one period's digests now.", no_args_is_help=True)
console = Console(stderr=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $PAPERWIRE_DATABASE_URL).")]


def _open_existing(db: str | None):
    """The database, which sending never creates (an empty one has nothing to send)."""
    url = db or get_settings().database_url
    if (missing := missing_sqlite_file(url)) is not None:
        console.print(f"[red]error:[/] no database at {missing} (from --db or $PAPERWIRE_DATABASE_URL); "
                      "create one with `paperwire init` or `paperwire demo`.", markup=True, highlight=False)
        raise typer.Exit(1)
    return open_database(url)


def _parse_day(value: str | None) -> date:
    if value is None:
        return utcnow().date() - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--date expects YYYY-MM-DD, got {value!r}") from exc


@digest_app.command("send")
def send(
    date_: Annotated[Optional[str], typer.Option("--date", help="Day of the digest, YYYY-MM-DD (default: yesterday, UTC). Weekly: any day of the ISO week.")] = None,
    frequency: Annotated[str, typer.Option("--frequency", help="daily|weekly")] = "daily",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be sent; send and record nothing.")] = False,
    webhooks: Annotated[bool, typer.Option("--webhooks/--no-webhooks", help="Also post the period's digest to webhooks.")] = True,
    reclaim_after: Annotated[Optional[int], typer.Option("--reclaim-after", help="Seconds after which rows claimed by a crashed worker are taken over (default 600).")] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Send the digests of one period. Re-running never sends a digest twice."""
    from paperwire.deliver.send import send_digests
    from paperwire.deliver.webhooks import deliver_webhooks

    if frequency not in ("daily", "weekly"):
        raise typer.BadParameter("--frequency must be daily or weekly")
    day = _parse_day(date_)
    database = _open_existing(db)
    try:
        report = send_digests(database, day=day, frequency=frequency, dry_run=dry_run, claim_timeout=reclaim_after)
        hooks = None
        if webhooks and not dry_run:
            hooks = deliver_webhooks(database, day=day, frequency=frequency, claim_timeout=reclaim_after)
    finally:
        database.close()
    if as_json:
        out = report.as_dict()
        if hooks is not None:
            out["webhooks"] = hooks.as_dict()
        sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")
    else:
        console.print(report.summary())
        if hooks is not None:
            console.print(hooks.summary())
        for error in report.errors[:20]:
            console.print(f"  [yellow]{escape(str(error))}[/]", markup=True, highlight=False)
    if report.aborted:
        raise typer.Exit(75)  # EX_TEMPFAIL: cron/systemd may retry later


def worker(
    once: Annotated[bool, typer.Option("--once", help="Do one round of due work and exit.")] = False,
    poll_seconds: Annotated[Optional[float], typer.Option("--poll", help="Seconds between rounds (default $PAPERWIRE_WORKER_POLL_SECONDS, 60).")] = None,
    db: DbOption = None,
) -> None:
    """Run everything that is scheduled: harvests, the harvest queue, embedding backfill,
    vector-index publishing, digests and webhooks, purges (stops on SIGTERM).

    Each job runs under its own lock, so several workers may run side by side;
    schedules are settings (PAPERWIRE_HARVEST_OAI_SETS, PAPERWIRE_HARVEST_ARXIV_QUERIES,
    PAPERWIRE_JOB_INTERVALS, PAPERWIRE_DIGEST_SEND_HOUR). See `paperwire status`.
    """
    from paperwire.logs import configure_logging
    from paperwire.secret_key import startup_problem
    from paperwire.worker.runner import run_worker

    if problem := startup_problem():
        console.print(f"error: {problem}", markup=False, highlight=False)
        raise typer.Exit(2)
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    database = open_database(db or settings.database_url)  # it harvests: it may fill a new database
    try:
        run_worker(database, once=once, poll_seconds=poll_seconds)
    finally:
        database.close()


if __name__ == "__main__":  # pragma: no cover
    cli = typer.Typer(no_args_is_help=True)
    cli.add_typer(digest_app, name="digest")
    cli.command("worker")(worker)
    cli()
