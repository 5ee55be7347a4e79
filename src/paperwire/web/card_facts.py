"""What paper cards and pages show besides the paper itself: upvotes split
into the source's and this site's, the source's name, and safe outbound links.

Totals come from the ranking (``TrendingEntry.upvotes``); this site's votes
are counted here, so "92 on Hugging Face · 3 here" adds up to the total the
list is sorted by. When the ranking entry carries ``source_upvotes`` /
``local_upvotes`` itself, those are used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.ids import arxiv_abs_url, arxiv_pdf_url
from paperwire.store.community import Vote

#: Display names of sources whose upvotes are imported.
SOURCE_NAMES = {"hf-daily": "Hugging Face"}


@dataclass(frozen=True)
class UpvoteSplit:
    total: int
    source: int
    here: int
    source_name: str | None

    @property
    def text(self) -> str:
        """``92 on Hugging Face · 3 here`` (only the parts there are)."""
        if self.source_name and self.source:
            return f"{self.source} on {self.source_name} · {self.here} here"
        return f"{self.here} here"


def local_votes(session: Session, paper_ids: list[int]) -> dict[int, int]:
    """Votes cast on this site, per paper (one query)."""
    if not paper_ids:
        return {}
    rows = session.execute(
        select(Vote.paper_id, func.count()).where(Vote.paper_id.in_(paper_ids)).group_by(Vote.paper_id)
    )
    return {paper_id: int(n) for paper_id, n in rows}


def source_name(paper) -> str | None:
    return SOURCE_NAMES.get(paper.source) or ("Hugging Face" if paper.discussion_id else None)


def split(paper, total: int, here: int, entry=None) -> UpvoteSplit:
    source = getattr(entry, "source_upvotes", None)
    local = getattr(entry, "local_upvotes", None)
    if source is None or local is None:
        local = min(here, total)
        source = total - local
    return UpvoteSplit(total=total, source=source, here=local, source_name=source_name(paper))


def entry_splits(session: Session, entries: list) -> dict[int, UpvoteSplit]:
    """Upvote splits of ranking entries, keyed by paper id."""
    here = local_votes(session, [e.paper.id for e in entries])
    return {e.paper.id: split(e.paper, e.upvotes, here.get(e.paper.id, 0), e) for e in entries}


def safe_url(value: str | None) -> str | None:
    """An outbound link from source data, only when it is plain http(s)."""
    if not value:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def paper_links(paper) -> dict[str, str | None]:
    """arXiv page, PDF, code and project links of a paper (None where unknown)."""
    return {
        "abs": arxiv_abs_url(paper.arxiv_id) if paper.arxiv_id else None,
        "pdf": arxiv_pdf_url(paper.arxiv_id) if paper.arxiv_id else None,
        "code": safe_url(paper.github_repo),
        "project": safe_url(paper.project_page),
    }
