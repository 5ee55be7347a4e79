"""SQLAlchemy models of the catalogue: papers, the days they were featured,
harvest state and import progress.

One row per paper keeps bulk imports fast: ordered authors, categories and the
version history are columns of that row (JSON / space-separated text), which
both SQLite and PostgreSQL store and filter well. Community, delivery and
recommendation tables live in their own modules next to this one.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Public id: the canonical arXiv id, or ``pw-…`` derived from the title.
    uid: Mapped[str] = mapped_column(String(64), unique=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title_key: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Authors joined with ", " — what lexical search indexes and pages show.
    authors_text: Mapped[str] = mapped_column(Text, default="")
    author_count: Mapped[int | None] = mapped_column(Integer)
    #: Space-separated, primary first, padded with spaces (" cs.LG cs.AI ")
    #: so that a category prefix is a plain LIKE.
    categories: Mapped[str] = mapped_column(Text, default="")
    primary_category: Mapped[str | None] = mapped_column(String(32), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    latest_version: Mapped[int | None] = mapped_column(Integer)
    #: [{"version": 1, "created": "2023-10-02T19:18:42"}, ...]
    versions: Mapped[list[dict]] = mapped_column(JSON, default=list)
    doi: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    comments: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(40))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Structured author names in author order, as the source gave them:
    #: [{"name": "Neal J. Evans II", "family": "Evans", "given": "Neal J.",
    #:   "suffix": "II", "hf_user": "nevans", "status": "claimed_verified"}]
    #: (keys other than "name" may be missing). ``authors`` stays the flat list.
    author_names: Mapped[list[dict] | None] = mapped_column(JSON)
    #: {"name": "ByteDance-Seed", "fullname": "ByteDance Seed"}
    organization: Mapped[dict | None] = mapped_column(JSON)
    github_repo: Mapped[str | None] = mapped_column(Text)
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_page: Mapped[str | None] = mapped_column(Text)
    #: A summary written by a model at the source (shown labelled as such).
    ai_summary: Mapped[str | None] = mapped_column(Text)
    #: Who produced ``ai_summary`` ("Hugging Face").
    ai_summary_source: Mapped[str | None] = mapped_column(String(64))
    ai_keywords: Mapped[list[str] | None] = mapped_column(JSON)
    #: The source's discussion thread id (Hugging Face ``discussionId``).
    discussion_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def category_list(self) -> list[str]:
        return self.categories.split()


class FeaturedPaper(Base):
    """A paper featured on a day (a Daily-Papers page, or a user submission)."""

    __tablename__ = "featured_papers"
    __table_args__ = (UniqueConstraint("paper_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    #: Upvotes reported by the source at import time (community votes cast
    #: here are counted separately and added on top).
    imported_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    imported_comments: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_by_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: The submitting account as the source describes it:
    #: {"user": "taesiri", "fullname": "taesiri", "avatarUrl": ..., "isPro": true, "type": "user"}
    submitter: Mapped[dict | None] = mapped_column(JSON)
    #: When the paper was put on the daily list (``submittedOnDailyAt``).
    featured_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_author_participating: Mapped[bool | None] = mapped_column(Boolean)


class HarvestState(Base):
    """Where the last successful harvest of one endpoint/set ended."""

    __tablename__ = "harvest_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_from: Mapped[date | None] = mapped_column(Date)
    resumption_token: Mapped[str | None] = mapped_column(Text)
    records: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ImportProgress(Base):
    """How far an import of one file got, so an interrupted import resumes."""

    __tablename__ = "import_progress"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    lines_done: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
