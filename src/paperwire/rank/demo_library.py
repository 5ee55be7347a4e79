"""Demo library: gives a demo user a few saves and follows so "For you" shows
personal picks on a fresh ``paperwire demo`` site. Idempotent."""

from __future__ import annotations

from sqlalchemy import select

from paperwire.store.community import get_user
from paperwire.store.db import Database
from paperwire.store.library import follow, save_paper
from paperwire.store.models import Paper

DEMO_USER = "ada"
#: ada likes theoretical high-energy physics in the bundled Kaggle sample.
DEMO_CATEGORY = "hep-th"
DEMO_SAVES = 5


def load_demo_library(db: Database, username: str = DEMO_USER) -> str:
    """Save a few papers of one category for ``username`` and follow that category."""
    with db.session() as session:
        user = get_user(session, username)
        if user is None:
            return f"no demo library (user {username!r} does not exist)"
        papers = list(session.scalars(
            select(Paper.id).where(Paper.categories.like(f"% {DEMO_CATEGORY} %"), Paper.hidden.is_(False))
            .order_by(Paper.id).limit(DEMO_SAVES)
        ))
        saved = sum(save_paper(session, user.id, pid) for pid in papers)
        follow(session, user.id, "category", DEMO_CATEGORY)
    return f"demo library: {username} saved {saved} {DEMO_CATEGORY} papers"
