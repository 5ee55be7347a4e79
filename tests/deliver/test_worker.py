"""The worker's schedule and one round of sending; the CLI commands."""

from __future__ import annotations

import json
from datetime import date, datetime

import typer
from typer.testing import CliRunner

from paperwire.deliver.cli import digest_app, worker
from paperwire.deliver.worker import due_periods, run_once
from tests.deliver.conftest import DAY, add_subscription


def test_due_periods_follow_send_hour():
    # Tuesday 2024-08-13, 07:00 UTC with send hour 6: yesterday's daily, last ISO week's weekly.
    assert due_periods(datetime(2024, 8, 13, 7), 6) == [("daily", date(2024, 8, 12)), ("weekly", date(2024, 8, 11))]
    # Before the send hour, the previous day's state still applies.
    assert due_periods(datetime(2024, 8, 13, 5), 6) == [("daily", date(2024, 8, 11)), ("weekly", date(2024, 8, 11))]


def test_run_once_sends_due_daily_and_weekly(db, papers, smtp_server):
    add_subscription(db, "d@example.org")
    add_subscription(db, "w@example.org", frequency="weekly")
    logs: list[str] = []
    run_once(db, now=datetime(2024, 8, 19, 8), send_hour=6, log=logs.append)  # Monday after DAY's week
    assert [m["To"] for m in smtp_server.messages] == ["w@example.org"]  # daily of the 18th is empty
    run_once(db, now=datetime(2024, 8, 13, 8), send_hour=6, log=logs.append)
    run_once(db, now=datetime(2024, 8, 13, 9), send_hour=6, log=logs.append)  # idempotent
    assert sorted(m["To"] for m in smtp_server.messages) == ["d@example.org", "w@example.org"]


def test_cli_send_json_and_dry_run(db, papers, smtp_server):
    add_subscription(db, "cli@example.org")
    app = typer.Typer()
    app.add_typer(digest_app, name="digest")
    app.command("worker")(worker)
    runner = CliRunner()
    dry = runner.invoke(app, ["digest", "send", "--date", DAY.isoformat(), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["sent"] == 1 and smtp_server.messages == []
    real = runner.invoke(app, ["digest", "send", "--date", DAY.isoformat(), "--json"])
    assert real.exit_code == 0 and json.loads(real.stdout)["sent"] == 1
    assert len(smtp_server.messages) == 1
    bad = runner.invoke(app, ["digest", "send", "--date", "12/08/2024"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
