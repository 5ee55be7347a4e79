"""Finding title-only papers on arXiv (``paperwire resolve``).

A Daily-Papers page gives a title and an abstract but no arXiv id, so such a
paper is stored as ``pw-<hash of the title>``. Once online, each one is looked
up through the arXiv API by its title (``search_query=ti:"…"``) and merged
into the real record when a result's title matches closely: the same
normalised title, or a difflib ratio of at least :data:`MIN_SIMILARITY` on the
normalised titles (hyphens, a changed word in a long title). Anything looser
would attach votes and featured days to the wrong paper, so it is left alone
and counted as "no match".

The merge is the store's own: the record goes through ``upsert_papers``, which
gives the ``pw-`` row its arXiv id and metadata in place, so its featured
days, votes and comments stay with it. One paper per transaction; requests
go through :class:`PoliteClient` at the harvest pace. When arXiv cannot be
reached the run stops, keeps what it merged, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher

from sqlalchemy import select, update

from paperwire.ids import normalise_title, title_key
from paperwire.records import PaperRecord
from paperwire.sources.arxiv_api import parse_atom
from paperwire.sources.http import HarvestError, PoliteClient
from paperwire.sources.importer import ChangedCallback
from paperwire.store.db import Database
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

#: How alike two normalised titles must be to count as the same paper.
MIN_SIMILARITY = 0.95
#: Results asked for per title (the right one is nearly always first).
RESULTS_PER_TITLE = 5
_QUOTES = re.compile(r'["\\]')


@dataclass
class ResolveReport:
    looked_up: int = 0
    resolved: int = 0
    no_match: int = 0
    #: Matched an arXiv id that another row already has (left for a person to merge).
    already_known: int = 0
    remaining: int = 0
    offline: str | None = None
    resolved_ids: list[str] = field(default_factory=list)
    unmatched_titles: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["unmatched_titles"] = self.unmatched_titles[:50]
        return data

    def summary(self) -> str:
        text = (
            f"Looked up {self.looked_up} title-only papers on arXiv: {self.resolved} resolved, "
            f"{self.no_match} without a close title match, {self.already_known} matching a paper already known"
        )
        if self.offline:
            text += f". Stopped: arXiv could not be reached ({self.offline}); {self.remaining} left for the next run"
        return text


def title_query(title: str) -> str:
    """The API's exact-phrase title search for ``title`` (quotes and backslashes dropped)."""
    words = " ".join(_QUOTES.sub(" ", title).split())
    return f'ti:"{words}"'


def close_match(wanted: str, candidates: list[PaperRecord]) -> PaperRecord | None:
    """The candidate whose title is (nearly) ``wanted``, or None."""
    target = normalise_title(wanted)
    best, best_ratio = None, 0.0
    for candidate in candidates:
        found = normalise_title(candidate.title)
        ratio = 1.0 if found == target else SequenceMatcher(None, target, found).ratio()
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return best if best_ratio >= MIN_SIMILARITY else None


def title_only_papers(db: Database, limit: int | None = None) -> list[tuple[int, str]]:
    """(id, title) of the visible papers without an arXiv id, oldest first."""
    query = select(Paper.id, Paper.title).where(Paper.arxiv_id.is_(None), Paper.hidden.is_(False)).order_by(Paper.id)
    with db.session() as session:
        return [tuple(row) for row in session.execute(query.limit(limit) if limit else query)]


def resolve_titles(
    db: Database,
    *,
    base_url: str,
    delay: float | None = None,
    limit: int | None = None,
    log: Callable[[str], None] = print,
    on_changed: ChangedCallback | None = None,
    client: PoliteClient | None = None,
) -> ResolveReport:
    """Look up title-only papers on arXiv and merge the close matches (see the module docstring)."""
    papers = title_only_papers(db, limit)
    report = ResolveReport(remaining=len(papers))
    own_client = client is None
    client = client or PoliteClient(delay=delay, retries=2, log=log)
    try:
        for paper_id, title in papers:
            params = {"search_query": title_query(title), "start": 0, "max_results": RESULTS_PER_TITLE}
            try:
                response = client.get(base_url, params, ok_statuses=frozenset({400}))
                items, _total = parse_atom(response.content, f"{base_url}?search_query={params['search_query']}")
            except HarvestError as exc:
                report.offline = str(exc)
                break
            except ValueError as exc:  # not an Atom feed: the endpoint is wrong, not this title
                report.offline = str(exc)
                break
            report.looked_up += 1
            report.remaining -= 1
            match = close_match(title, [item for item in items if isinstance(item, PaperRecord)])
            if match is None:
                report.no_match += 1
                report.unmatched_titles.append(title)
                continue
            changed = _merge(db, paper_id, title, match)
            if changed is None:
                report.already_known += 1
                log(f"{title!r} is {match.arxiv_id}, which is already a separate paper here")
                continue
            report.resolved += 1
            report.resolved_ids.append(match.arxiv_id)
            log(f"{title!r} → {match.arxiv_id}")
            if on_changed and changed:
                on_changed(changed)
    finally:
        if own_client:
            client.close()
    return report


def _merge(db: Database, paper_id: int, title: str, record: PaperRecord) -> list[int] | None:
    """Give the title-only row ``record``'s id and metadata; None if that id is taken."""
    with db.session() as session:
        if session.scalar(select(Paper.id).where(Paper.arxiv_id == record.arxiv_id)) is not None:
            return None
        if title_key(record.title) != title_key(title):
            # A close, not identical, title: let the upsert find this row under the arXiv title.
            session.execute(update(Paper).where(Paper.id == paper_id).values(title_key=title_key(record.title)))
        result = upsert_papers(session, [record])
        return result.changed_ids
