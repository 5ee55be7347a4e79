"""What the community did with one paper: upvotes, comments, featured days.

One place for the figures ``paperwire show`` prints, built on the counting
helpers the site uses, so the command line and the paper page agree.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.store.community import comment_count, upvote_count
from paperwire.store.models import FeaturedPaper, Paper


def featured_days_of(session: Session, paper: Paper) -> list[date]:
    """The days the paper was featured, oldest first."""
    return list(session.scalars(select(FeaturedPaper.day).where(FeaturedPaper.paper_id == paper.id)
                                .distinct().order_by(FeaturedPaper.day)))


def paper_activity(session: Session, paper: Paper) -> dict:
    return {
        "upvotes": upvote_count(session, paper),
        "comments": comment_count(session, paper),
        "featured_days": [day.isoformat() for day in featured_days_of(session, paper)],
    }
