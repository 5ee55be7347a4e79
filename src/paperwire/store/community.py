"""Community tables and their repository: users, votes, comments, API tokens,
server-side sessions and rate-limit attempts.

Everything here is storage only (no HTTP): the web layer calls these
functions. Passwords are hashed with argon2 (``argon2-cffi``); session and API
tokens are random strings of which only a SHA-256 hash is stored, so a leaked
database does not leak usable credentials. Rate-limit attempts live in a table
so that the limit holds across several worker processes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from paperwire.store.models import Base, FeaturedPaper, Paper
from paperwire.store.papers import utcnow

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_COMMENT = 10_000


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    #: The account's address; used for mail only once ``email_verified_at`` is set.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: An address waiting for its owner to click the verification link (not
    #: unique: typing someone else's address must not block them).
    pending_email: Mapped[str | None] = mapped_column(String(320))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    @property
    def verified_email(self) -> str | None:
        """The address digests and notices may go to (None until verified)."""
        return self.email if self.email and self.email_verified_at is not None else None


class Vote(Base):
    __tablename__ = "votes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A logged-in browser; deleting the row logs it out everywhere."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class RateAttempt(Base):
    """One attempt at a rate-limited action (login, sign-up) by one key."""

    __tablename__ = "rate_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class CommunityError(ValueError):
    """Invalid input to a community action; the message is shown to the user."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- users -----------------------------------------------------------------

def create_user(
    session: Session, username: str, password: str, *, email: str | None = None, is_admin: bool = False,
    email_verified: bool = False,
) -> User:
    """A new account; raises :class:`CommunityError` for bad or taken names.

    ``email`` is set directly (for the CLI, demo data and tests); the sign-up
    form instead leaves it empty and asks for verification of a pending
    address (``store.email_verification``), so it never says whether an
    address is registered.
    """
    username = username.strip()
    email = (email or "").strip() or None
    if not USERNAME_RE.match(username):
        raise CommunityError("Usernames are 3–32 letters, digits, '_' or '-'.")
    if len(password) < MIN_PASSWORD:
        raise CommunityError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if email is not None and not EMAIL_RE.match(email):
        raise CommunityError("That e-mail address does not look valid.")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise CommunityError("That username is taken.")
    if email and session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        raise CommunityError("That e-mail address is already registered.")
    user = User(
        username=username, email=email, password_hash=_hasher.hash(password),
        is_admin=is_admin, is_banned=False, created_at=utcnow(),
        email_verified_at=utcnow() if email and email_verified else None,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent sign-up won the race
        raise CommunityError("That username is taken.") from exc
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches (rehashing outdated hashes), else None."""
    user = get_user(session, username)
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def set_password(session: Session, user: User, password: str, *, keep_session: str | None = None) -> None:
    """Change the password and revoke what the old one may have leaked: every
    API token and every login session except ``keep_session`` (the cookie of
    the browser making the change). Private feed tokens are revoked by the
    caller (``deliver.subscriptions.revoke_feed_tokens``), in the same transaction."""
    if len(password) < MIN_PASSWORD:
        raise CommunityError(f"Passwords need at least {MIN_PASSWORD} characters.")
    user.password_hash = _hasher.hash(password)
    sessions = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session:
        sessions = sessions.where(WebSession.token_hash != _hash_token(keep_session))
    session.execute(sessions)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def set_banned(session: Session, user: User, banned: bool) -> None:
    """Ban (or unban) a user. Sessions and tokens are kept but refused while
    banned, so the user is told why instead of being silently logged out."""
    user.is_banned = banned


# --- sessions and tokens ---------------------------------------------------

def start_session(session: Session, user: User, *, days: int = 30) -> str:
    """A new login session; returns the secret the cookie carries."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_hash_token(token), user_id=user.id, created_at=now,
                           expires_at=now + timedelta(days=days)))
    return token


def session_user(session: Session, token: str) -> User | None:
    """The user a session cookie belongs to, if still valid (callers check bans)."""
    row = session.get(WebSession, _hash_token(token))
    if row is None or row.expires_at < utcnow():
        return None
    return session.get(User, row.user_id)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash_token(token)))


def issue_api_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A personal API token; the clear text is returned once and never stored."""
    name = name.strip()[:100] or "token"
    token = "pw_" + secrets.token_urlsafe(30)
    row = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(token), created_at=utcnow())
    session.add(row)
    session.flush()
    return row, token


def revoke_api_token(session: Session, user: User, token_id: int) -> bool:
    result = session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    return bool(result.rowcount)


def verify_api_token(session: Session, token: str) -> User | None:
    """The owner of a bearer token, or None if unknown (callers check bans)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token.strip())))
    if row is None:
        return None
    row.last_used_at = utcnow()
    return session.get(User, row.user_id)


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


# --- rate limiting ---------------------------------------------------------

def rate_limited(session: Session, key: str, *, limit: int, window: timedelta) -> bool:
    """Record an attempt for ``key``; True when ``limit`` attempts in ``window`` were exceeded."""
    return rate_wait(session, key, limit=limit, window=window) > 0


def _bounded_key(key: str) -> str:
    """``key`` as stored: keys hold user-typed names, so long ones keep a prefix and a
    hash and always fit the 200-character column (PostgreSQL refuses longer values)."""
    if len(key) <= 200:
        return key
    return f"{key[:120]}#{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def rate_wait(session: Session, key: str, *, limit: int, window: timedelta, record: bool = True) -> float:
    """Seconds until ``key`` may try again (0: allowed now, and recorded when ``record``).

    A refused attempt is not recorded, so a client that keeps hammering
    does not extend its own wait forever nor grow the table.
    """
    key = _bounded_key(key)
    now = utcnow()
    since = now - window
    session.execute(delete(RateAttempt).where(RateAttempt.key == key, RateAttempt.created_at < since))
    count = session.scalar(select(func.count()).where(RateAttempt.key == key, RateAttempt.created_at >= since)) or 0
    if count >= limit:
        oldest = session.scalar(select(func.min(RateAttempt.created_at)).where(
            RateAttempt.key == key, RateAttempt.created_at >= since))
        return max(1.0, ((oldest or now) + window - now).total_seconds())
    if record:
        session.add(RateAttempt(key=key, created_at=now))
    return 0.0


def record_attempt(session: Session, key: str) -> None:
    """Count one attempt for ``key`` (e.g. a failed login, checked earlier with ``record=False``)."""
    session.add(RateAttempt(key=_bounded_key(key), created_at=utcnow()))


# --- votes -----------------------------------------------------------------

def vote(session: Session, user: User, paper: Paper) -> bool:
    """Upvote (idempotent); True if a new vote was recorded."""
    if session.get(Vote, (user.id, paper.id)) is not None:
        return False
    session.add(Vote(user_id=user.id, paper_id=paper.id, created_at=utcnow()))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        return False
    return True


def unvote(session: Session, user: User, paper: Paper) -> bool:
    """Remove an upvote (idempotent); True if one was removed."""
    result = session.execute(delete(Vote).where(Vote.user_id == user.id, Vote.paper_id == paper.id))
    return bool(result.rowcount)


def upvote_count(session: Session, paper: Paper) -> int:
    """Imported upvotes of the paper's most-voted featured day plus votes cast here."""
    imported = session.scalar(select(func.max(FeaturedPaper.imported_upvotes)).where(FeaturedPaper.paper_id == paper.id))
    here = session.scalar(select(func.count()).where(Vote.paper_id == paper.id))
    return (imported or 0) + (here or 0)


def upvote_counts(session: Session, paper_ids: list[int]) -> dict[int, int]:
    """:func:`upvote_count` of many papers in two queries (result lists, feeds)."""
    if not paper_ids:
        return {}
    ids = list(set(paper_ids))
    counts = {pid: 0 for pid in ids}
    for pid, imported in session.execute(select(FeaturedPaper.paper_id, func.max(FeaturedPaper.imported_upvotes))
                                         .where(FeaturedPaper.paper_id.in_(ids)).group_by(FeaturedPaper.paper_id)):
        counts[pid] += imported or 0
    for pid, here in session.execute(select(Vote.paper_id, func.count()).where(Vote.paper_id.in_(ids))
                                     .group_by(Vote.paper_id)):
        counts[pid] += here or 0
    return counts


def voted_ids(session: Session, user: User | None, paper_ids: list[int]) -> set[int]:
    """Which of ``paper_ids`` the user has upvoted (for filled vote buttons)."""
    if user is None or not paper_ids:
        return set()
    return set(session.scalars(select(Vote.paper_id).where(Vote.user_id == user.id, Vote.paper_id.in_(paper_ids))))


# --- comments --------------------------------------------------------------

@dataclass
class CommentNode:
    comment: Comment
    author: str
    children: list[CommentNode] = field(default_factory=list)


def add_comment(session: Session, user: User, paper: Paper, body: str, parent_id: int | None = None) -> Comment:
    """A new comment (a reply when ``parent_id`` names a comment on the same paper)."""
    body = body.strip()
    if not body:
        raise CommunityError("A comment cannot be empty.")
    if len(body) > MAX_COMMENT:
        raise CommunityError(f"Comments are limited to {MAX_COMMENT} characters.")
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.paper_id != paper.id:
            raise CommunityError("The comment you replied to does not exist.")
    comment = Comment(paper_id=paper.id, user_id=user.id, parent_id=parent_id, body=body,
                      created_at=utcnow(), hidden=False)
    session.add(comment)
    session.flush()
    return comment


def comment_tree(session: Session, paper: Paper, *, include_hidden: bool = False) -> list[CommentNode]:
    """Top-level comments (oldest first) with their replies nested.

    A hidden comment with visible replies stays in the tree (shown as removed)
    so the thread still reads in order.
    """
    rows = session.execute(
        select(Comment, User.username).join(User, User.id == Comment.user_id)
        .where(Comment.paper_id == paper.id).order_by(Comment.created_at, Comment.id)
    ).all()
    nodes = {c.id: CommentNode(c, name) for c, name in rows}
    roots: list[CommentNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        (parent.children if parent else roots).append(node)

    def prune(items: list[CommentNode]) -> list[CommentNode]:
        kept = []
        for item in items:
            item.children = prune(item.children)
            if include_hidden or not item.comment.hidden or item.children:
                kept.append(item)
        return kept

    return prune(roots)


def comment_count(session: Session, paper: Paper) -> int:
    return session.scalar(select(func.count()).where(Comment.paper_id == paper.id, Comment.hidden.is_(False))) or 0


def comment_counts(session: Session, paper_ids: list[int], *, imported: bool = False) -> dict[int, int]:
    """:func:`comment_count` of many papers in one query; ``imported`` adds the
    source's count (largest featured day), as the API's card totals do."""
    if not paper_ids:
        return {}
    ids = list(set(paper_ids))
    counts = {pid: 0 for pid in ids}
    for pid, n in session.execute(select(Comment.paper_id, func.count())
                                  .where(Comment.paper_id.in_(ids), Comment.hidden.is_(False)).group_by(Comment.paper_id)):
        counts[pid] += n or 0
    if imported:
        for pid, n in session.execute(select(FeaturedPaper.paper_id, func.max(FeaturedPaper.imported_comments))
                                      .where(FeaturedPaper.paper_id.in_(ids)).group_by(FeaturedPaper.paper_id)):
            counts[pid] += n or 0
    return counts


def set_comment_hidden(session: Session, comment_id: int, hidden: bool) -> Comment | None:
    comment = session.get(Comment, comment_id)
    if comment is not None:
        comment.hidden = hidden
    return comment


# --- user pages ------------------------------------------------------------

def submitted_papers(session: Session, user: User, *, limit: int = 50, offset: int = 0) -> list[Paper]:
    """Papers the user submitted, newest submission first."""
    return list(session.scalars(
        select(Paper).join(FeaturedPaper, FeaturedPaper.paper_id == Paper.id)
        .where(FeaturedPaper.submitted_by_user_id == user.id, Paper.hidden.is_(False))
        .order_by(FeaturedPaper.created_at.desc(), Paper.id.desc()).limit(limit).offset(offset)
    ))


def upvoted_papers(session: Session, user: User, *, limit: int = 50, offset: int = 0) -> list[Paper]:
    """Papers the user upvoted, most recent vote first."""
    return list(session.scalars(
        select(Paper).join(Vote, Vote.paper_id == Paper.id)
        .where(Vote.user_id == user.id, Paper.hidden.is_(False))
        .order_by(Vote.created_at.desc(), Paper.id.desc()).limit(limit).offset(offset)
    ))
