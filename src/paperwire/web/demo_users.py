"""Demo accounts, votes and comments so ``paperwire demo`` looks alive.

Idempotent: running it again creates nothing new. The demo admin logs in as
``admin`` / ``paperwire-demo`` (printed by the caller; change it on a real site).
"""

from __future__ import annotations

import random

from sqlalchemy import select

from paperwire.store.community import add_comment, create_user, get_user, vote
from paperwire.store.db import Database
from paperwire.store.models import FeaturedPaper, Paper

DEMO_ADMIN = ("admin", "paperwire-demo")
DEMO_USERS = ("ada", "grace", "alan", "katherine", "edsger")
COMMENTS = (
    "Nice results, but how does this compare with a plain baseline?",
    "The ablation in section 4 is convincing.",
    "Is the code available?",
)


def load_demo_community(db: Database, seed: int = 42) -> str:
    """Create the demo admin, a few users, and votes/comments on featured papers."""
    rng = random.Random(seed)
    with db.session() as session:
        if get_user(session, DEMO_ADMIN[0]) is not None:
            return "demo accounts already present"
        create_user(session, *DEMO_ADMIN, is_admin=True)
        users = [create_user(session, name, f"{name}-demo-pass") for name in DEMO_USERS]
        papers = list(session.scalars(
            # IN, not DISTINCT: PostgreSQL cannot compare the JSON columns.
            select(Paper).where(Paper.id.in_(select(FeaturedPaper.paper_id))).order_by(Paper.id)
        ))
        votes = comments = 0
        for paper in papers:
            for user in users:
                if rng.random() < 0.15:
                    votes += vote(session, user, paper)
            if rng.random() < 0.05:
                first = add_comment(session, rng.choice(users), paper, rng.choice(COMMENTS))
                add_comment(session, rng.choice(users), paper, "Agreed — following this thread.", first.id)
                comments += 2
    return f"demo admin '{DEMO_ADMIN[0]}' (password '{DEMO_ADMIN[1]}'), {len(DEMO_USERS)} users, {votes} votes, {comments} comments"
