"""What a harvest did (:class:`HarvestReport`) and where it stands
(:class:`HarvestState` rows), shared by the arXiv API and OAI-PMH harvesters.

The state row is what makes harvests incremental and resumable: ``last_from``
is the date the next run starts from, and an unfinished OAI-PMH list keeps its
resumption token (with the day that list was started) until it completes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy.orm import Session

from paperwire.sources.importer import ImportReport
from paperwire.store.db import Database
from paperwire.store.models import HarvestState
from paperwire.store.papers import utcnow


@dataclass
class HarvestReport:
    pages: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted_skipped: int = 0
    #: True when the run continued an interrupted harvest (stored token).
    resumed: bool = False
    from_date: date | None = None

    def add_import(self, report: ImportReport) -> None:
        self.records += report.read
        self.inserted += report.result.inserted
        self.updated += report.result.updated
        self.unchanged += report.result.unchanged

    def as_dict(self) -> dict:
        data = asdict(self)
        data["from_date"] = self.from_date.isoformat() if self.from_date else None
        return data

    def summary(self) -> str:
        since = f" since {self.from_date.isoformat()}" if self.from_date else ""
        resumed = " (resumed an interrupted harvest)" if self.resumed else ""
        return (
            f"Harvested {self.records} records{since} in {self.pages} pages{resumed}: "
            f"{self.inserted} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deleted_skipped} deleted skipped"
        )


@dataclass
class StoredState:
    last_from: date | None = None
    token: str | None = None
    #: Day the interrupted list was started (becomes ``last_from`` on completion).
    token_started: date | None = None
    #: The ``from`` date the interrupted list was asked for, so that a restart
    #: after an expired token asks for the same list, not the whole archive.
    token_from: date | None = None


def load_state(db: Database, key: str) -> StoredState:
    with db.session() as session:
        row = session.get(HarvestState, key)
        if row is None:
            return StoredState()
        token, started, since = _decode_token(row.resumption_token)
        return StoredState(last_from=row.last_from, token=token, token_started=started, token_from=since)


def save_state(
    db: Database,
    key: str,
    *,
    records: int = 0,
    last_from: date | None = None,
    token: str | None = None,
    token_started: date | None = None,
    token_from: date | None = None,
) -> None:
    """Write the state row: a token marks an unfinished list; none clears it."""
    with db.session() as session:
        write_state(session, key, records=records, last_from=last_from, token=token, token_started=token_started,
                    token_from=token_from)


def write_state(
    session: Session,
    key: str,
    *,
    records: int = 0,
    last_from: date | None = None,
    token: str | None = None,
    token_started: date | None = None,
    token_from: date | None = None,
) -> None:
    """:func:`save_state` inside the caller's transaction, so a harvester can
    commit a batch and the point it reached together (all or nothing)."""
    row = session.get(HarvestState, key)
    if row is None:
        row = HarvestState(key=key, records=0, updated_at=utcnow())
        session.add(row)
    if last_from is not None:
        row.last_from = last_from
    row.resumption_token = _encode_token(token, token_started, token_from) if token else None
    row.records = (row.records or 0) + records
    row.updated_at = utcnow()


def _encode_token(token: str, started: date | None, since: date | None = None) -> str:
    return json.dumps({
        "token": token,
        "started": started.isoformat() if started else None,
        "from": since.isoformat() if since else None,
    })


def _decode_token(text: str | None) -> tuple[str | None, date | None, date | None]:
    if not text:
        return None, None, None
    try:
        data = json.loads(text)
        started = date.fromisoformat(data["started"]) if data.get("started") else None
        since = date.fromisoformat(data["from"]) if data.get("from") else None
        return data["token"], started, since
    except (ValueError, KeyError, TypeError):
        return text, None, None  # a bare token written by hand or an older version
