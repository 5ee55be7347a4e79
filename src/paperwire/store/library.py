"""A user's personal library and interest signals: collections of saved papers,
"not interested" dismissals, followed categories/authors/keywords, exclusions,
and the queue of imported arXiv ids not yet in the catalogue.

Storage only (no HTTP, no model): the recommender reads :func:`user_signals`,
the web layer calls the small repository functions. Every user has a default
collection called "Saved" (created on first use); saving without naming a
collection puts the paper there. Saving a paper withdraws an earlier
dismissal; a dismissal outranks an upvote (the paper counts as negative).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.ids import InvalidArxivId, canonical_arxiv_id
from paperwire.store.community import Vote
from paperwire.store.models import Base, Paper
from paperwire.store.papers import utcnow

DEFAULT_COLLECTION = "Saved"
FOLLOW_KINDS = ("category", "author", "keyword")
EXCLUSION_KINDS = ("word", "author", "category")
MAX_NAME = 100
MAX_VALUE = 200
MAX_RULES = 200
_CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[a-z][a-z\-]*)?$", re.IGNORECASE)


class LibraryError(ValueError):
    """Invalid input to a library action; the message is shown to the user."""


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_collections_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CollectionItem(Base):
    __tablename__ = "collection_items"

    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime)


class Dismissal(Base):
    """An explicit "not interested": a negative example, and never shown again."""

    __tablename__ = "dismissals"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class _UserRule:
    """A (kind, value) rule of one user; follows and exclusions share the shape."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(MAX_VALUE))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Follow(_UserRule, Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value", name="uq_follows_user_kind_value"),)


class Exclusion(_UserRule, Base):
    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value", name="uq_exclusions_user_kind_value"),)


class HarvestQueue(Base):
    """An arXiv id someone asked for (library import) that the catalogue lacks."""

    __tablename__ = "harvest_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: pending | done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)


# --- collections -------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise LibraryError("A collection needs a name.")
    if len(name) > MAX_NAME:
        raise LibraryError(f"Collection names are limited to {MAX_NAME} characters.")
    return name


def default_collection(session: Session, user_id: int) -> Collection:
    """The user's "Saved" collection, created on first use."""
    found = session.scalar(select(Collection).where(Collection.user_id == user_id, Collection.name == DEFAULT_COLLECTION))
    if found is not None:
        return found
    row = Collection(user_id=user_id, name=DEFAULT_COLLECTION, created_at=utcnow())
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # created concurrently
        return session.scalar(select(Collection).where(Collection.user_id == user_id, Collection.name == DEFAULT_COLLECTION))
    return row


def create_collection(session: Session, user_id: int, name: str) -> Collection:
    name = _clean_name(name)
    exists = session.scalar(
        select(Collection.id).where(Collection.user_id == user_id, func.lower(Collection.name) == name.lower())
    )
    if exists:
        raise LibraryError(f"You already have a collection called {name!r}.")
    row = Collection(user_id=user_id, name=name, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def get_collection(session: Session, user_id: int, collection_id: int) -> Collection | None:
    """The collection if it belongs to the user (others' collections are private)."""
    row = session.get(Collection, collection_id)
    return row if row is not None and row.user_id == user_id else None


def delete_collection(session: Session, user_id: int, collection_id: int) -> bool:
    row = get_collection(session, user_id, collection_id)
    if row is None:
        return False
    if row.name == DEFAULT_COLLECTION:
        raise LibraryError("The default collection cannot be deleted.")
    session.delete(row)
    return True


def list_collections(session: Session, user_id: int) -> list[tuple[Collection, int]]:
    """The user's collections with their sizes, default collection first."""
    default_collection(session, user_id)
    counts = (
        select(CollectionItem.collection_id, func.count().label("n")).group_by(CollectionItem.collection_id).subquery()
    )
    rows = session.execute(
        select(Collection, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.collection_id == Collection.id)
        .where(Collection.user_id == user_id)
        .order_by((Collection.name != DEFAULT_COLLECTION), Collection.name)
    ).all()
    return [(c, int(n)) for c, n in rows]


def save_paper(session: Session, user_id: int, paper_id: int, collection_id: int | None = None) -> bool:
    """Put a paper in a collection (default "Saved"); True if newly added."""
    collection = default_collection(session, user_id) if collection_id is None else get_collection(session, user_id, collection_id)
    if collection is None:
        raise LibraryError("No such collection.")
    session.execute(delete(Dismissal).where(Dismissal.user_id == user_id, Dismissal.paper_id == paper_id))
    if session.get(CollectionItem, (collection.id, paper_id)) is not None:
        return False
    session.add(CollectionItem(collection_id=collection.id, paper_id=paper_id, added_at=utcnow()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        return False
    return True


def unsave_paper(session: Session, user_id: int, paper_id: int, collection_id: int | None = None) -> bool:
    """Remove a paper from one collection, or from all of the user's collections."""
    mine = select(Collection.id).where(Collection.user_id == user_id)
    if collection_id is not None:
        mine = mine.where(Collection.id == collection_id)
    result = session.execute(
        delete(CollectionItem).where(CollectionItem.paper_id == paper_id, CollectionItem.collection_id.in_(mine))
    )
    return bool(result.rowcount)


def collection_papers(session: Session, collection_id: int, *, limit: int = 1000, offset: int = 0) -> list[Paper]:
    """Papers of a collection, most recently added first."""
    return list(session.scalars(
        select(Paper).join(CollectionItem, CollectionItem.paper_id == Paper.id)
        .where(CollectionItem.collection_id == collection_id)
        .order_by(CollectionItem.added_at.desc(), Paper.id.desc()).limit(limit).offset(offset)
    ))


def library_papers(session: Session, user_id: int, *, limit: int = 10_000) -> list[Paper]:
    """Every paper in any of the user's collections (each once), most recent first."""
    latest = (
        select(CollectionItem.paper_id, func.max(CollectionItem.added_at).label("added"))
        .join(Collection, Collection.id == CollectionItem.collection_id)
        .where(Collection.user_id == user_id).group_by(CollectionItem.paper_id).subquery()
    )
    return list(session.scalars(
        select(Paper).join(latest, latest.c.paper_id == Paper.id).order_by(latest.c.added.desc(), Paper.id.desc()).limit(limit)
    ))


def saved_ids(session: Session, user_id: int | None, paper_ids: list[int] | None = None) -> set[int]:
    """Which papers (of ``paper_ids``, or all) are in any of the user's collections."""
    if user_id is None:
        return set()
    query = (
        select(CollectionItem.paper_id).join(Collection, Collection.id == CollectionItem.collection_id)
        .where(Collection.user_id == user_id)
    )
    if paper_ids is not None:
        if not paper_ids:
            return set()
        query = query.where(CollectionItem.paper_id.in_(paper_ids))
    return set(session.scalars(query))


# --- dismissals --------------------------------------------------------------

def dismiss(session: Session, user_id: int, paper_id: int) -> bool:
    """Mark a paper "not interested" (idempotent); True if newly dismissed."""
    if session.get(Dismissal, (user_id, paper_id)) is not None:
        return False
    session.add(Dismissal(user_id=user_id, paper_id=paper_id, created_at=utcnow()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        return False
    return True


def undismiss(session: Session, user_id: int, paper_id: int) -> bool:
    result = session.execute(delete(Dismissal).where(Dismissal.user_id == user_id, Dismissal.paper_id == paper_id))
    return bool(result.rowcount)


def dismissed_ids(session: Session, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    return set(session.scalars(select(Dismissal.paper_id).where(Dismissal.user_id == user_id)))


# --- follows and exclusions ------------------------------------------------

def normalise_rule(kind: str, value: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    """Validate and tidy a follow/exclusion rule (categories keep arXiv's case)."""
    if kind not in kinds:
        raise LibraryError(f"Unknown kind {kind!r}; use one of: {', '.join(kinds)}.")
    value = " ".join((value or "").split())
    if not value:
        raise LibraryError(f"Give a {kind} to {'follow' if kinds == FOLLOW_KINDS else 'exclude'}.")
    if len(value) > MAX_VALUE:
        raise LibraryError(f"That {kind} is too long (at most {MAX_VALUE} characters).")
    if kind == "category":
        value = value.removesuffix(".*")
        if not _CATEGORY_RE.match(value):
            raise LibraryError(f"{value!r} is not an arXiv category (e.g. cs.LG, hep-th, math).")
        archive, _, subject = value.partition(".")
        value = archive.lower() + (f".{subject.upper() if len(subject) <= 2 else subject}" if subject else "")
    return kind, value


def _add_rule(session: Session, model, user_id: int, kind: str, value: str, kinds: tuple[str, ...]) -> bool:
    kind, value = normalise_rule(kind, value, kinds)
    existing = session.scalar(
        select(model.id).where(model.user_id == user_id, model.kind == kind, func.lower(model.value) == value.lower())
    )
    if existing:
        return False
    if (session.scalar(select(func.count()).where(model.user_id == user_id)) or 0) >= MAX_RULES:
        raise LibraryError(f"At most {MAX_RULES} entries.")
    session.add(model(user_id=user_id, kind=kind, value=value, created_at=utcnow()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        return False
    return True


def _remove_rule(session: Session, model, user_id: int, kind: str, value: str) -> bool:
    result = session.execute(
        delete(model).where(model.user_id == user_id, model.kind == kind, func.lower(model.value) == value.strip().lower())
    )
    return bool(result.rowcount)


def _rules(session: Session, model, user_id: int | None) -> list[tuple[str, str]]:
    if user_id is None:
        return []
    return [(r.kind, r.value) for r in session.scalars(select(model).where(model.user_id == user_id).order_by(model.id))]


def follow(session: Session, user_id: int, kind: str, value: str) -> bool:
    return _add_rule(session, Follow, user_id, kind, value, FOLLOW_KINDS)


def unfollow(session: Session, user_id: int, kind: str, value: str) -> bool:
    return _remove_rule(session, Follow, user_id, kind, value)


def follows(session: Session, user_id: int | None) -> list[tuple[str, str]]:
    """(kind, value) pairs in the order they were added."""
    return _rules(session, Follow, user_id)


def add_exclusion(session: Session, user_id: int, kind: str, value: str) -> bool:
    return _add_rule(session, Exclusion, user_id, kind, value, EXCLUSION_KINDS)


def remove_exclusion(session: Session, user_id: int, kind: str, value: str) -> bool:
    return _remove_rule(session, Exclusion, user_id, kind, value)


def exclusions(session: Session, user_id: int | None) -> list[tuple[str, str]]:
    return _rules(session, Exclusion, user_id)


# --- harvest queue -----------------------------------------------------------

def queue_harvest(session: Session, arxiv_ids: list[str], user_id: int | None = None) -> int:
    """Queue arXiv ids for the harvester (ids already queued are skipped); returns how many were added."""
    wanted: list[str] = []
    for raw in arxiv_ids:
        try:
            arxiv_id = canonical_arxiv_id(raw)
        except InvalidArxivId as exc:
            raise LibraryError(str(exc)) from exc
        if arxiv_id not in wanted:
            wanted.append(arxiv_id)
    if not wanted:
        return 0
    known = set(session.scalars(select(HarvestQueue.arxiv_id).where(HarvestQueue.arxiv_id.in_(wanted))))
    now = utcnow()
    added = 0
    for arxiv_id in wanted:
        if arxiv_id in known:
            continue
        session.add(HarvestQueue(arxiv_id=arxiv_id, requested_by=user_id, created_at=now, status="pending"))
        added += 1
    session.flush()
    return added


def pending_harvest(session: Session, *, limit: int = 100) -> list[str]:
    """arXiv ids waiting to be fetched, oldest request first (for the harvester)."""
    return list(session.scalars(
        select(HarvestQueue.arxiv_id).where(HarvestQueue.status == "pending").order_by(HarvestQueue.id).limit(limit)
    ))


def mark_harvested(session: Session, arxiv_ids: list[str], status: str = "done") -> None:
    if status not in ("pending", "done", "failed"):
        raise LibraryError(f"unknown harvest status {status!r}")
    for row in session.scalars(select(HarvestQueue).where(HarvestQueue.arxiv_id.in_(arxiv_ids))):
        row.status = status


# --- everything the recommender needs ------------------------------------

@dataclass
class UserSignals:
    """A user's explicit signals, read in one go."""

    user_id: int
    #: Upvoted or saved papers.
    positives: set[int] = field(default_factory=set)
    #: Dismissed papers ("not interested").
    negatives: set[int] = field(default_factory=set)
    follows: list[tuple[str, str]] = field(default_factory=list)
    exclusions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.positives or self.negatives or self.follows)


def user_signals(session: Session, user_id: int) -> UserSignals:
    voted = set(session.scalars(select(Vote.paper_id).where(Vote.user_id == user_id)))
    negatives = dismissed_ids(session, user_id)
    positives = (voted | saved_ids(session, user_id)) - negatives
    return UserSignals(
        user_id=user_id, positives=positives, negatives=negatives,
        follows=follows(session, user_id), exclusions=exclusions(session, user_id),
    )
