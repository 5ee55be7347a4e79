"""The record every importer produces and the store consumes.

Keeping it a plain dataclass (no database, no HTTP) is what lets ``sources``
and ``store`` evolve independently: an importer only has to fill one of these.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class PaperVersion:
    version: int
    created: datetime | None = None


@dataclass(slots=True)
class PaperRecord:
    """One paper as read from a source.

    ``arxiv_id`` is canonical (no version suffix) or ``None`` when the source
    does not know it; the store then derives an id from the title.
    ``featured_on`` marks the day a Daily-Papers page (or a user) featured the
    paper; ``upvotes`` are the community votes the source reported.
    """

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    categories: list[str] = field(default_factory=list)
    submitted: datetime | None = None
    updated: datetime | None = None
    versions: list[PaperVersion] = field(default_factory=list)
    doi: str | None = None
    journal_ref: str | None = None
    comments: str | None = None
    license: str | None = None
    source: str = "unknown"
    featured_on: date | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    submitted_by: str | None = None
    #: Structured names, parallel to ``authors``: {"name", "family", "given",
    #: "suffix", "hf_user", "status"} (only "name" is required).
    author_names: list[dict] | None = None
    organization: dict | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_summary_source: str | None = None
    ai_keywords: list[str] | None = None
    discussion_id: str | None = None
    #: Featured-day details: the submitter account, when it was featured,
    #: whether the authors take part in the discussion.
    submitter: dict | None = None
    featured_at: datetime | None = None
    is_author_participating: bool | None = None
    #: Where the record was read ("file.jsonl:12"), for error messages.
    origin: str | None = None

    @property
    def latest_version(self) -> int | None:
        return max((v.version for v in self.versions), default=None)

    def content_hash(self) -> str:
        """Hash of the text that search and embeddings depend on."""
        text = "\x1f".join([self.title, self.abstract, ", ".join(self.authors)])
        return hashlib.sha1(text.encode()).hexdigest()


class InvalidRecord(ValueError):
    """A source record that cannot be imported; the message names file and line."""

    def __init__(self, origin: str, reason: str):
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason
