"""Onboarding for a new user: pick a few categories, then seed papers.

Step 1 lists the fixed arXiv taxonomy (``paperwire.taxonomy``) grouped as
arXiv groups it, with paper counts where the catalogue has papers; step 2
shows well-liked and recent papers of the chosen categories to tick. Chosen
categories become follows, ticked papers go to the "Saved" collection; both
train the user's model at once. A library file can be imported instead
(``/library``), or seed papers picked on the map of papers (``?from=map``:
click a cluster, tick its top papers).
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
from paperwire.store.paper_map import latest_map
from paperwire.taxonomy import choosable, taxonomy
from paperwire.web.deps import get_db, render, require_user, verify_csrf
from paperwire.web.views.map import PAGE_SAMPLE

router = APIRouter(include_in_schema=False)
SEEDS_PER_CATEGORY = 8
MAX_CATEGORIES = 10


def category_counts(session) -> dict[str, int]:
    """Visible papers per category and per archive (a paper counts once per archive)."""
    rows = session.execute(
        select(Paper.categories, func.count()).where(Paper.hidden.is_(False)).group_by(Paper.categories)
    ).all()
    counts: dict[str, int] = {}
    for categories, n in rows:
        names = set((categories or "").split())
        for name in names | {c.split(".")[0] for c in names if "." in c}:
            counts[name] = counts.get(name, 0) + n
    return counts


def taxonomy_choices(session) -> list[dict]:
    """The taxonomy as the page shows it: groups with papers first open, counts beside names."""
    counts = category_counts(session)
    groups = []
    for group in taxonomy():
        archives = [{"id": a.id, "name": a.name, "count": counts.get(a.id, 0), "whole": a.has_subcategories,
                     "categories": [{"id": c.id, "name": c.name, "count": counts.get(c.id, 0)}
                                    for c in a.categories]} for a in group.archives]
        groups.append({"name": group.name, "archives": archives, "count": sum(a["count"] for a in archives)})
    return groups


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
def onboarding(request: Request, cat: list[str] = Query([]), source: str = Query("", alias="from", max_length=20),
               user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    names = choosable()
    chosen = list(dict.fromkeys(c for c in cat if c in names))[:MAX_CATEGORIES]
    with db.session() as session:
        has_map = latest_map(session) is not None
        from_map = source == "map" and has_map and not chosen
        groups = [] if chosen or from_map else taxonomy_choices(session)
        seeds = seed_papers(session, chosen) if chosen else []
    return render(request, "onboarding.html", groups=groups, chosen=chosen, seeds=seeds, error=None,
                  has_map=has_map, from_map=from_map, sample=PAGE_SAMPLE)


@router.post("/onboarding", dependencies=[Depends(verify_csrf)])
def finish_onboarding(request: Request, cat: list[str] = Form([]), seed: list[str] = Form([]),
                      user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    try:
        with db.session() as session:
            for category in [c for c in cat if c in choosable()][:MAX_CATEGORIES]:
                follow(session, user.id, "category", category)
            ids = session.scalars(select(Paper.id).where(Paper.uid.in_(seed[:100]), Paper.hidden.is_(False)))
            for paper_id in ids:
                save_paper(session, user.id, paper_id)
    except LibraryError as exc:
        with db.session() as session:
            groups = taxonomy_choices(session)
        return render(request, "onboarding.html", status_code=422, groups=groups, chosen=[], seeds=[],
                      error=str(exc))
    return RedirectResponse("/for-you", status_code=303)
