"""The map of papers: the page, its compact JSON, hover details and cluster papers.

Everything here reads the stored layout (``store/paper_map.py``) of the newest
published map generation; no request ever lays a map out (the worker's
``map`` job does). Points travel as parallel arrays of numbers, so 100k of
them are a couple of MB of JSON, and an even sample (``sample``) of the
points inside a box (``bbox``) is what the page asks for as one zooms in.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select

from paperwire.store.community import Vote
from paperwire.store.db import Database
from paperwire.store.library import user_signals
from paperwire.store.models import Paper
from paperwire.store.paper_map import MapPoint, cluster_paper_ids, count_in_box, latest_map, load_clusters, points_in_box
from paperwire.web.deps import current_user, get_db, render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["map"])

#: Points the page asks for at first; the API's ceiling.
PAGE_SAMPLE = 20_000
MAX_SAMPLE = 100_000
#: "For you" papers highlighted on the map of a logged-in user.
FOR_YOU_HIGHLIGHTS = 50
CLUSTER_PAPERS = 8


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``x0,y0,x1,y1`` → a box, or a 422 saying what is wrong with it."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise HTTPException(422, "bbox must be four numbers: x0,y0,x1,y1")
    x0, y0, x1, y1 = values
    if x0 > x1 or y0 > y1:
        raise HTTPException(422, "bbox must have x0 <= x1 and y0 <= y1")
    return values


def _highlights(session, user) -> tuple[list[int], list[int]]:
    """(library: saved or upvoted, "For you" picks) of the logged-in user, as paper ids."""
    if user is None:
        return [], []
    from paperwire.rank.recommend import recommend_for_user

    signals = user_signals(session, user.id)
    mine = sorted(signals.positives)
    picks = [] if signals.is_empty else [r.paper.id for r in recommend_for_user(session, user.id, limit=FOR_YOU_HIGHLIGHTS)]
    return mine, picks


@api_router.get("/map")
def map_points(request: Request, sample: int = Query(PAGE_SAMPLE, ge=1, le=MAX_SAMPLE),
               bbox: str | None = Query(None, max_length=200), db: Database = Depends(get_db)) -> JSONResponse:
    """An even sample of the map's points (inside ``bbox``), the cluster labels and the user's highlights."""
    box = parse_bbox(bbox)
    user = current_user(request)
    with db.session() as session:
        generation = latest_map(session)
        if generation is None:
            return JSONResponse({"generation": None, "total": 0, "count": 0, "ids": [], "x": [], "y": [],
                                 "cluster": [], "clusters": [], "mine": [], "foryou": [], "bounds": None})
        rows = points_in_box(session, generation.id, limit=sample, bbox=box)
        total = count_in_box(session, generation.id, box)
        bounds = session.execute(select(func.min(MapPoint.x), func.min(MapPoint.y), func.max(MapPoint.x),
                                        func.max(MapPoint.y)).where(MapPoint.generation == generation.id)).one()
        clusters = load_clusters(session, generation.id)
        mine, picks = _highlights(session, user)
    return JSONResponse({
        "generation": generation.id, "model": generation.model, "total": total, "count": len(rows),
        "bounds": [round(float(v), 3) for v in bounds] if bounds[0] is not None else None,
        "ids": [r[0] for r in rows], "x": [round(r[1], 3) for r in rows], "y": [round(r[2], 3) for r in rows],
        "cluster": [r[3] for r in rows],
        "clusters": [{"id": c.cluster, "label": c.label, "topic": c.topic_slug, "x": round(c.x, 3),
                      "y": round(c.y, 3), "size": c.size} for c in clusters],
        "mine": mine, "foryou": picks,
    }, headers={"Cache-Control": "private, max-age=60"})


def _paper_json(paper: Paper) -> dict:
    return {"id": paper.id, "uid": paper.uid, "title": paper.title, "url": f"/papers/{paper.uid}",
            "categories": paper.category_list}


@api_router.get("/map/points/{paper_id}")
def map_point(paper_id: int = Path(ge=1, le=2**31 - 1), db: Database = Depends(get_db)) -> JSONResponse:
    """What the hover tooltip shows for one point."""
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        if paper is None or paper.hidden:
            raise HTTPException(404, "No such paper.")
        return JSONResponse(_paper_json(paper))


@api_router.get("/map/clusters/{cluster}")
def map_cluster(cluster: int = Path(ge=0, le=10_000), limit: int = Query(CLUSTER_PAPERS, ge=1, le=50),
                db: Database = Depends(get_db)) -> JSONResponse:
    """A cluster's label and its most upvoted papers (onboarding's seed choices)."""
    with db.session() as session:
        generation = latest_map(session)
        row = next((c for c in load_clusters(session, generation.id) if c.cluster == cluster), None) if generation else None
        if row is None:
            raise HTTPException(404, "No such cluster on the map.")
        ids = cluster_paper_ids(session, generation.id, cluster)
        votes = select(Vote.paper_id, func.count().label("n")).group_by(Vote.paper_id).subquery()
        papers = list(session.scalars(
            select(Paper).outerjoin(votes, votes.c.paper_id == Paper.id)
            .where(Paper.id.in_(ids), Paper.hidden.is_(False))
            .order_by(func.coalesce(votes.c.n, 0).desc(), Paper.submitted_at.desc(), Paper.id.desc()).limit(limit)
        )) if ids else []
        return JSONResponse({"id": row.cluster, "label": row.label, "topic": row.topic_slug, "size": row.size,
                             "papers": [_paper_json(p) for p in papers]})


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, sample: int = Query(PAGE_SAMPLE, ge=1, le=MAX_SAMPLE),
             db: Database = Depends(get_db)) -> Response:
    """The page; ``sample`` is how many points it draws at first (more load as one zooms in)."""
    with db.session() as session:
        generation = latest_map(session)
        size = generation.vectors if generation else 0
    return render(request, "map.html", has_map=generation is not None, size=size, sample=sample)


@router.get("/map/paper/{paper_id}")
def open_point(paper_id: int = Path(ge=1, le=2**31 - 1), db: Database = Depends(get_db)) -> Response:
    """A click on a point: the map knows paper ids, the paper page its public id."""
    with db.session() as session:
        paper = session.get(Paper, paper_id)
        if paper is None or paper.hidden:
            raise HTTPException(404, "No such paper.")
        return RedirectResponse(f"/papers/{paper.uid}", status_code=303)
