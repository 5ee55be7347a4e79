"""Onboarding for a new user: pick a few categories, then seed papers.

Step 1 lists the arXiv archives the catalogue has (with counts); step 2
shows well-liked and recent papers of the chosen categories to tick. Chosen
categories become follows, ticked papers go to the "Saved" collection; both
train the user's model at once. A library file can be imported instead
(``/library``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from paperwire.rank.exclusions import ExclusionRules
from paperwire.store.community import Vote
from paperwire.store.db import Database
from paperwire.store.library import LibraryError, follow, save_paper
from paperwire.store.models import Paper
from paperwire.web.deps import get_db, render, require_user, verify_csrf

router = APIRouter(include_in_schema=False)
SEEDS_PER_CATEGORY = 8
MAX_CATEGORIES = 10


def archives(session) -> list[tuple[str, int]]:
    """Primary archives (``cs``, ``hep-th`` …) with their paper counts, largest first."""
    rows = session.execute(
        select(Paper.primary_category, func.count()).where(Paper.primary_category.is_not(None), Paper.hidden.is_(False))
        .group_by(Paper.primary_category)
    ).all()
    counts: dict[str, int] = {}
    for category, n in rows:
        archive = category.split(".")[0]
        counts[archive] = counts.get(archive, 0) + n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def seed_papers(session, categories: list[str]) -> list[Paper]:
    """Most upvoted, then newest, papers of each category."""
    votes = select(Vote.paper_id, func.count().label("n")).group_by(Vote.paper_id).subquery()
    chosen: list[Paper] = []
    for category in categories:
        keep = ~ExclusionRules(categories=(category,)).sql_condition()
        rows = session.scalars(
            select(Paper).outerjoin(votes, votes.c.paper_id == Paper.id).where(keep, Paper.hidden.is_(False))
            .order_by(func.coalesce(votes.c.n, 0).desc(), Paper.submitted_at.desc(), Paper.id.desc())
            .limit(SEEDS_PER_CATEGORY)
        )
        chosen += [p for p in rows if p.id not in {c.id for c in chosen}]
    return chosen


@router.get("/onboarding", response_class=HTMLResponse)
def onboarding(request: Request, cat: list[str] = Query([]), user=Depends(require_user),
               db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        available = archives(session)
        names = {a for a, _ in available}
        chosen = [c for c in cat if c in names][:MAX_CATEGORIES]
        seeds = seed_papers(session, chosen) if chosen else []
    return render(request, "onboarding.html", archives=available, chosen=chosen, seeds=seeds, error=None)


@router.post("/onboarding", dependencies=[Depends(verify_csrf)])
def finish_onboarding(request: Request, cat: list[str] = Form([]), seed: list[str] = Form([]),
                      user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    try:
        with db.session() as session:
            for category in cat[:MAX_CATEGORIES]:
                follow(session, user.id, "category", category)
            ids = session.scalars(select(Paper.id).where(Paper.uid.in_(seed[:100]), Paper.hidden.is_(False)))
            for paper_id in ids:
                save_paper(session, user.id, paper_id)
    except LibraryError as exc:
        with db.session() as session:
            available = archives(session)
        return render(request, "onboarding.html", status_code=422, archives=available, chosen=[], seeds=[],
                      error=str(exc))
    return RedirectResponse("/for-you", status_code=303)
