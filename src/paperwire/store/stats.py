"""Counts for ``paperwire stats`` and the API."""

from __future__ import annotations

from sqlalchemy import func, inspect, select, table
from sqlalchemy.orm import Session

from paperwire.store.models import FeaturedPaper, Paper


def collect_stats(session: Session) -> dict[str, int | str | None]:
    figures: dict[str, int | str | None] = {
        "papers": session.scalar(select(func.count()).select_from(Paper)) or 0,
        "papers_with_arxiv_id": session.scalar(select(func.count()).where(Paper.arxiv_id.is_not(None))) or 0,
        "featured_days": session.scalar(select(func.count(func.distinct(FeaturedPaper.day)))) or 0,
        "featured_entries": session.scalar(select(func.count()).select_from(FeaturedPaper)) or 0,
    }
    latest = session.scalar(select(func.max(Paper.submitted_at)))
    figures["newest_paper"] = latest.date().isoformat() if latest else None
    # Tables of other feature areas are counted when they exist.
    existing = set(inspect(session.get_bind()).get_table_names())
    for name in ("users", "votes", "comments", "subscriptions", "embeddings"):
        if name in existing:
            figures[name] = session.scalar(select(func.count()).select_from(table(name))) or 0
    return figures
