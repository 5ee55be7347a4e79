"""Reading and writing papers: the repository the rest of the code uses.

``upsert_papers`` is the single write path for every importer. It works on a
batch inside the caller's transaction (so a batch is all-or-nothing), is
idempotent (re-importing changes nothing), lets newer arXiv versions replace
older ones, never lets a thinner source (a Daily-Papers page with a cut-off
abstract) overwrite richer metadata, and merges a title-derived paper into
its arXiv id once that id becomes known.

The same function serves a one-paper submission and a 2.8M-record snapshot:
per batch it reads the stored rows it may merge into with a few indexed
lookups and writes new rows through :mod:`paperwire.store.paper_rows`
(executemany on SQLite, COPY on PostgreSQL), so there is no second, bulk-only
write path that could behave differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from paperwire.ids import derived_paper_id, title_key
from paperwire.records import PaperRecord, content_hash, is_plain_text, normalise_record
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.paper_rows import insert_new_papers, select_rows

_PAPERS = Paper.__table__
#: Columns an update may fill; identity columns are handled separately.
_DATA_COLUMNS = (
    "title", "abstract", "authors", "authors_text", "author_count", "categories",
    "primary_category", "submitted_at", "updated_at", "latest_version", "versions",
    "doi", "journal_ref", "comments", "license",
)
#: Columns only a source's own listing knows (code link and stars, AI summary,
#: ...): the newest record that carries one replaces it, whatever its version
#: authority, because they change on the source, not on arXiv.
_SOURCE_COLUMNS = (
    "author_names", "organization", "github_repo", "github_stars", "project_page",
    "ai_summary", "ai_summary_source", "ai_keywords", "discussion_id",
)


#: Every column of a new row, so that all rows of one insert have the same shape.
_EMPTY_ROW: dict = {
    **{column: None for column in (*_DATA_COLUMNS, *_SOURCE_COLUMNS)},
    "abstract": "", "authors_text": "", "categories": "", "hidden": False,
}


@dataclass
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    featured: int = 0
    #: Database ids of papers inserted or changed (e.g. to embed them).
    changed_ids: list[int] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.featured += other.featured
        self.changed_ids.extend(other.changed_ids)


def utcnow() -> datetime:
    """Naive UTC timestamp (what the DateTime columns store on every backend)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _single_spaced(text: str) -> str:
    """``text`` on one line with single spaces; most already is (checked in C, no split)."""
    if is_plain_text(text) and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _version_number(version) -> int:
    return version.version


def _row_values(record: PaperRecord) -> dict:
    """Column values a record provides (empty values are left out)."""
    values: dict = {
        "title": _single_spaced(record.title),
        "abstract": _single_spaced(record.abstract),
        "authors": list(record.authors),
        "authors_text": ", ".join(record.authors),
        "author_count": record.author_count or (len(record.authors) or None),
        "categories": (" " + " ".join(record.categories) + " ") if record.categories else "",
        "primary_category": record.categories[0] if record.categories else None,
        "submitted_at": record.submitted,
        "updated_at": record.updated,
        "latest_version": max([v.version for v in record.versions]) if record.versions else None,
        "versions": [
            {"version": v.version, "created": v.created.isoformat() if v.created else None}
            for v in sorted(record.versions, key=_version_number)
        ],
        "doi": record.doi,
        "journal_ref": record.journal_ref,
        "comments": record.comments,
        "license": record.license,
        **{column: getattr(record, column) for column in _SOURCE_COLUMNS},
    }
    # ``v or``: most values are non-empty, which spares the four comparisons.
    return {k: v for k, v in values.items() if v or v not in (None, "", [], {})}


def _content_hash(values: dict) -> str:
    return content_hash(values.get("title", ""), values.get("abstract", ""), values.get("authors", []))


def _is_current(existing: dict, record: PaperRecord) -> bool:
    """Whether ``record`` describes the paper at least as recently as the stored row.

    By version number where the record has a version list; otherwise by the
    record's own datestamp (the OAI ``arXiv`` format and the arXiv API give
    the last update's date but no versions). A record with neither — a
    Daily-Papers page, a title-only list — is never authoritative.
    """
    old_version, new_version = existing["latest_version"], record.latest_version
    if new_version is not None:
        return old_version is None or new_version >= old_version
    if record.updated is None:
        return False
    stored = existing["updated_at"] or existing["submitted_at"]
    return stored is None or record.updated.date() >= stored.date()


def _merge(existing: dict, record: PaperRecord, values: dict) -> dict:
    """The column changes that applying ``record`` to ``existing`` makes."""
    authoritative = _is_current(existing, record)
    thin_over_thin = record.latest_version is None and existing["latest_version"] is None
    changes: dict = {}
    for column in _DATA_COLUMNS:
        if column not in values:
            continue
        current = existing[column]
        empty = current in (None, "", [], {})
        if (authoritative or thin_over_thin or empty) and values[column] != current:
            changes[column] = values[column]
    for column in _SOURCE_COLUMNS:
        if column in values and values[column] != existing[column]:
            changes[column] = values[column]
    return changes


def _dedupe(records: Sequence[PaperRecord]) -> list[PaperRecord]:
    """Keep one record per paper in a batch (the newest version wins)."""
    chosen: dict[str, PaperRecord] = {}
    for record in records:
        key = record.arxiv_id or title_key(record.title)
        previous = chosen.get(key)
        if previous is None or (record.latest_version or 0) >= (previous.latest_version or 0):
            if previous is not None and previous.featured_on and not record.featured_on:
                record.featured_on, record.upvotes = previous.featured_on, previous.upvotes
            chosen[key] = record
    return list(chosen.values())


def _existing_rows(session: Session, uids: list[str], keys: list[str]) -> list[dict]:
    """Stored rows with one of ``uids`` or title keys: indexed lookups, a few per batch."""
    connection = session.connection()
    rows: dict[int, dict] = {}
    for column, values in (("uid", uids), ("title_key", keys)):
        for row in select_rows(connection, column, values):
            rows.setdefault(row["id"], row)
    return list(rows.values())


@dataclass(frozen=True)
class PreparedBatch:
    """A batch normalised and turned into column values, before any database work.

    Why a separate step: it is most of an import's CPU and needs no database,
    so an import does it *outside* its write transaction — parallel import
    workers then hold SQLite's write lock only for the lookups and the insert.
    Preparing is idempotent, so a retried batch reuses it.
    """

    records: list[PaperRecord]
    keys: list[str]
    values: list[dict]


def prepare_batch(records: Iterable[PaperRecord]) -> PreparedBatch:
    """Normalise, de-duplicate and compute title keys and column values of ``records``."""
    batch = _dedupe([r for r in map(normalise_record, records) if r.title.strip()])
    return PreparedBatch(batch, [title_key(r.title) for r in batch], [_row_values(r) for r in batch])


def upsert_papers(session: Session, records: Iterable[PaperRecord] | PreparedBatch) -> UpsertResult:
    """Insert or update a batch of records (or a :func:`prepare_batch`) in the current transaction."""
    prepared = records if isinstance(records, PreparedBatch) else prepare_batch(records)
    batch, keys_in_order = prepared.records, prepared.keys
    result = UpsertResult()
    if not batch:
        return result
    now = utcnow()
    keys = set(keys_in_order)
    uids = {r.arxiv_id for r in batch if r.arxiv_id}
    by_uid = {row["uid"]: row for row in _existing_rows(session, sorted(uids), sorted(keys))}
    by_key: dict[str, dict] = {}
    for row in by_uid.values():
        # Prefer the row with a real arXiv id when a title occurs twice.
        if row["title_key"] not in by_key or row["arxiv_id"]:
            by_key[row["title_key"]] = row

    inserts: list[dict] = []
    updates: list[dict] = []
    #: (row dict, record): the row's uid is read at the end, as a merge may change it.
    featured: list[tuple[dict, PaperRecord]] = []
    for record, key, values in zip(batch, keys_in_order, prepared.values):
        existing = None
        if record.arxiv_id:
            existing = by_uid.get(record.arxiv_id)
            if existing is None:
                candidate = by_key.get(key)
                if candidate is not None and candidate["arxiv_id"] is None:
                    existing = candidate  # a title-only paper learns its arXiv id
        else:
            existing = by_key.get(key)
        if existing is None:
            uid = record.arxiv_id or derived_paper_id(record.title)
            row = {
                **_EMPTY_ROW, "uid": uid, "arxiv_id": record.arxiv_id, "title_key": key,
                "authors": [], "versions": [], "source": record.source, "imported_at": now, **values,
            }
            row["content_hash"] = _content_hash(row)
            inserts.append(row)
            by_uid[uid] = row
            by_key.setdefault(key, row)
            featured.append((row, record))
            continue
        changes = _merge(existing, record, values)
        if record.arxiv_id and existing["arxiv_id"] is None:
            changes.update(uid=record.arxiv_id, arxiv_id=record.arxiv_id)
        if changes:
            merged = {**existing, **changes}
            changes["content_hash"] = _content_hash(merged)
            changes["title_key"] = title_key(merged["title"])
            changes["source"] = record.source
            changes["imported_at"] = now
            if "id" in existing:
                updates.append({"id": existing["id"], **changes})
                result.changed_ids.append(existing["id"])
            else:  # inserted earlier in this batch
                existing.update(changes)
            existing.update(changes)
            result.updated += 1
        else:
            result.unchanged += 1
        featured.append((existing, record))

    if inserts:
        new_ids = insert_new_papers(session, inserts)
        result.changed_ids.extend(new_ids[r["uid"]] for r in inserts)
        result.inserted = len(inserts)
    if updates:
        session.execute(update(Paper), updates)
    result.featured = _upsert_featured(session, featured, now)
    return result


def _upsert_featured(session: Session, featured: list[tuple[dict, PaperRecord]], now: datetime) -> int:
    wanted = [(row["uid"], r) for row, r in featured if r.featured_on is not None]
    if not wanted:
        return 0
    ids = dict(session.execute(select(Paper.uid, Paper.id).where(Paper.uid.in_({u for u, _ in wanted}))).all())
    existing = {
        (row.paper_id, row.day): row
        for row in session.scalars(
            select(FeaturedPaper).where(FeaturedPaper.paper_id.in_(ids.values()))
        )
    }
    count = 0
    for uid, record in wanted:
        paper_id = ids[uid]
        row = existing.get((paper_id, record.featured_on))
        if row is None:
            row = FeaturedPaper(
                paper_id=paper_id, day=record.featured_on, source=record.source, created_at=now,
                imported_upvotes=record.upvotes or 0, imported_comments=record.num_comments or 0,
                submitted_by=record.submitted_by, submitter=record.submitter,
                featured_at=record.featured_at, is_author_participating=record.is_author_participating,
            )
            session.add(row)
            existing[(paper_id, record.featured_on)] = row
            count += 1
        else:
            if record.upvotes is not None:
                row.imported_upvotes = record.upvotes
            if record.num_comments is not None:
                row.imported_comments = record.num_comments
            if record.submitted_by:
                row.submitted_by = record.submitted_by
            if record.submitter:
                row.submitter = record.submitter
            if record.featured_at is not None:
                row.featured_at = record.featured_at
            if record.is_author_participating is not None:
                row.is_author_participating = record.is_author_participating
    session.flush()
    return count


def get_paper(session: Session, uid: str) -> Paper | None:
    """A paper by public id; arXiv ids with a version suffix or URLs work too."""
    from paperwire.ids import InvalidArxivId, parse_arxiv_id

    try:
        uid = parse_arxiv_id(uid)[0]
    except InvalidArxivId:
        uid = uid.strip()
    return session.scalar(select(Paper).where(Paper.uid == uid))


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def papers_by_ids(session: Session, ids: Sequence[int]) -> list[Paper]:
    """Papers in the order of ``ids`` (missing ones are skipped)."""
    if not ids:
        return []
    found = {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def published_date(paper: Paper) -> datetime | None:
    """When the paper first appeared: v1 date, else the submitted date."""
    for version in paper.versions or []:
        if version.get("version") == 1 and version.get("created"):
            return datetime.fromisoformat(version["created"])
    return paper.submitted_at


def paper_summary(paper: Paper, score: float | None = None) -> dict:
    """The JSON shape shared by ``search --json``, ``similar --json`` and the API."""
    published = published_date(paper)
    return {
        "id": paper.uid,
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "authors": list(paper.authors or []),
        "categories": paper.category_list,
        "published": published.date().isoformat() if published else None,
        "score": score,
    }


def paper_detail(paper: Paper) -> dict:
    """Everything known about a paper, for ``show --json`` and the API."""
    detail = paper_summary(paper)
    detail.pop("score")
    detail.update(
        abstract=paper.abstract,
        author_count=paper.author_count,
        primary_category=paper.primary_category,
        submitted=paper.submitted_at.isoformat() if paper.submitted_at else None,
        updated=paper.updated_at.isoformat() if paper.updated_at else None,
        latest_version=paper.latest_version,
        versions=paper.versions,
        doi=paper.doi,
        journal_ref=paper.journal_ref,
        comments=paper.comments,
        license=paper.license,
        source=paper.source,
        imported_at=paper.imported_at.isoformat(),
    )
    return detail
