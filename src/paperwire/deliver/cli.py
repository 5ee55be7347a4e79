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
from paperwire.store.db import open_database
from paperwire.store.papers import utcnow

digest_app = typer.Typer(help="Email digests: send one period's digests now.", no_args_is_help=True)
console = Console(stderr=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $PAPERWIRE_DATABASE_URL).")]


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
    database = open_database(db or get_settings().database_url)
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
    send_hour: Annotated[Optional[int], typer.Option("--send-hour", help="UTC hour after which yesterday's digests go out (default 6).")] = None,
    poll_seconds: Annotated[Optional[float], typer.Option("--poll", help="Seconds between checks (default 60).")] = None,
    db: DbOption = None,
) -> None:
    """Long-running sender: daily and weekly digests and webhooks on schedule (stops on SIGTERM)."""
    from paperwire.deliver.worker import run_worker

    database = open_database(db or get_settings().database_url)
    try:
        run_worker(database, once=once, send_hour=send_hour, poll_seconds=poll_seconds, log=console.print)
    finally:
        database.close()


if __name__ == "__main__":  # pragma: no cover
    cli = typer.Typer(no_args_is_help=True)
    cli.add_typer(digest_app, name="digest")
    cli.command("worker")(worker)
    cli()
