"""Harvesting Hugging Face Daily Papers live: ``GET {base}/api/daily_papers?date=D``,
one request per day.

Why per day: the endpoint answers one day's list (weekends and holidays are
``[]``), so a day is the natural unit of work. Each day is **one
transaction** — its papers, featured rows and the harvest state that says it
is done are committed together — so a crash or a network failure mid-range
loses nothing that was committed and the next run starts at the first day
that was not. Requests go through :class:`PoliteClient` (the harvest delay,
retries with backoff, ``Retry-After`` on 429/503) under the same job lock the
other harvesters take, so two runs never write the same days at once.

Where a run starts (the state row ``hf-daily:{base}``):

* ``--from D``: at D (or, when the same ``--from``/``--to`` range was
  interrupted before, at its first day not committed);
* without ``--from``: an interrupted range is finished first; otherwise the
  run continues after the last day harvested, or goes back
  ``settings.hf_first_harvest_days`` days on a first run.

A day counts as harvested once it is over (UTC): today's list still grows and
its upvotes still move, so it is fetched again by the next run (the upsert is
idempotent and refreshes the counts).

A damaged day (not JSON, or entries that are not paper objects) is reported
with its URL and entry; without ``skip_invalid`` the harvest stops there with
the earlier days kept, with it the damaged entries are skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.harvest_state import StoredState, load_state, write_state
from paperwire.sources.hf_daily import records_from_response
from paperwire.sources.http import HarvestError, PoliteClient
from paperwire.sources.importer import ChangedCallback
from paperwire.store.db import Database
from paperwire.store.locks import busy_message, job_lock
from paperwire.store.papers import upsert_papers, utcnow


@dataclass
class HfHarvestReport:
    """What one ``harvest hf`` run did."""

    from_date: date | None = None
    to_date: date | None = None
    days: int = 0
    empty_days: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    featured: int = 0
    invalid: int = 0
    #: True when the run finished a range an earlier run left unfinished.
    resumed: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["from_date"] = self.from_date.isoformat() if self.from_date else None
        data["to_date"] = self.to_date.isoformat() if self.to_date else None
        data["errors"] = self.errors[:20]
        return data

    def summary(self) -> str:
        if self.from_date is None or self.to_date is None or self.to_date < self.from_date:
            return "Nothing to harvest: every day up to today is already harvested."
        resumed = " (resumed an interrupted harvest)" if self.resumed else ""
        invalid = f"; {self.invalid} damaged entries skipped" if self.invalid else ""
        return (
            f"Harvested {self.records} papers from {self.days} days ({self.from_date} to {self.to_date}, "
            f"{self.empty_days} empty){resumed}: {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged{invalid}"
        )


def state_key(base_url: str) -> str:
    return f"hf-daily:{base_url.rstrip('/')}"


def _range_label(start: date, end: date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def _stored_range(state: StoredState) -> tuple[date, date] | None:
    """The (start, end) of an unfinished range, from its stored token."""
    if not state.token or ".." not in state.token:
        return None
    first, _, last = state.token.partition("..")
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None


def plan_days(
    state: StoredState, from_date: date | None, to_date: date | None, today: date, first_days: int
) -> tuple[date, date, date, bool]:
    """(range start as asked, first day to fetch, last day, resumed) for a run."""
    stored = _stored_range(state)
    if from_date is None and stored is not None and state.token_started is not None:
        end = to_date or max(stored[1], today)
        return stored[0], state.token_started, end, True
    if from_date is None:
        start = state.last_from or today - timedelta(days=first_days)
        return start, start, to_date or today, False
    end = to_date or today
    if stored == (from_date, end) and state.token_started is not None:
        return from_date, state.token_started, end, True
    return from_date, from_date, end, False


def harvest_hf(
    db: Database,
    *,
    base_url: str,
    from_date: date | None = None,
    to_date: date | None = None,
    delay: float | None = None,
    skip_invalid: bool = False,
    first_days: int = 7,
    today: date | None = None,
    log: Callable[[str], None] = print,
    on_changed: ChangedCallback | None = None,
    client: PoliteClient | None = None,
) -> HfHarvestReport:
    """Harvest the daily lists of a range of days (see the module docstring)."""
    if from_date and to_date and to_date < from_date:
        raise ValueError(f"--to {to_date} is before --from {from_date}")
    today = today or utcnow().date()
    key = state_key(base_url)
    endpoint = f"{base_url.rstrip('/')}/api/daily_papers"
    with job_lock(db, f"harvest:{key}") as acquired:
        if not acquired:  # a second run would write the same days concurrently
            raise HarvestError(busy_message(db, f"harvest:{key}", f"harvest of {endpoint}"), code="busy")
        state = load_state(db, key)
        asked, start, end, resumed = plan_days(state, from_date, to_date, today, first_days)
        report = HfHarvestReport(from_date=start, to_date=end, resumed=resumed)
        if resumed:
            log(f"Resuming the interrupted harvest of {_range_label(asked, end)} at {start}")
        label = _range_label(asked, end)
        harvested_until = state.last_from
        own_client = client is None
        client = client or PoliteClient(delay=delay, log=log)
        try:
            day = start
            while day <= end:
                records, listed = _fetch_day(client, endpoint, day, skip_invalid, report, log)
                following = day + timedelta(days=1)
                if day < today and (harvested_until is None or following > harvested_until):
                    harvested_until = following
                with db.session() as session:  # the day and the point reached: one transaction
                    result = upsert_papers(session, records)
                    write_state(
                        session, key, records=len(records), last_from=harvested_until,
                        token=label if day < end else None, token_started=following,
                    )
                if on_changed and result.changed_ids:
                    on_changed(result.changed_ids)
                report.days += 1
                report.empty_days += not listed
                report.records += len(records)
                report.inserted += result.inserted
                report.updated += result.updated
                report.unchanged += result.unchanged
                report.featured += result.featured
                log(f"{day}: {len(records)} papers (+{result.inserted} new, {result.updated} updated)")
                day = following
        finally:
            if own_client:
                client.close()
        return report


def _fetch_day(
    client: PoliteClient, endpoint: str, day: date, skip_invalid: bool, report: HfHarvestReport,
    log: Callable[[str], None],
) -> tuple[list[PaperRecord], int]:
    """The records of one day's list and its number of entries; damaged entries
    raise or are counted (``skip_invalid``)."""
    response = client.get(endpoint, {"date": day.isoformat()})
    source = f"{endpoint}?date={day.isoformat()}"
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        items: list[PaperRecord | InvalidRecord] = [InvalidRecord(f"{source}:1", f"not valid JSON ({exc})")]
    else:
        items = list(records_from_response(data, source, list_day=day))
    bad = [item for item in items if isinstance(item, InvalidRecord)]
    if bad and not skip_invalid:
        more = f" (and {len(bad) - 1} more damaged entries)" if len(bad) > 1 else ""
        raise HarvestError(
            f"{bad[0]}{more}. Stopped at {day}: the days before it are kept; "
            "pass --skip-invalid to skip damaged entries",
            url=str(response.request.url), code="invalid",
        )
    for error in bad:
        report.invalid += 1
        report.errors.append(str(error))
        log(f"skipped: {error}")
    return [item for item in items if isinstance(item, PaperRecord)], len(items)
