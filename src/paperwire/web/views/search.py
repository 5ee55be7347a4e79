"""The search page: query language, mode and sort, paging, empty and error states."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from paperwire.rank.exclusions import exclusion_rules
from paperwire.store.community import voted_ids
from paperwire.web.deps import current_user, render
from paperwire.web.search_timeline import search_chart

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MODES = ("hybrid", "lexical", "semantic")
SORTS = ("relevance", "date")


def run_search(db, q: str, *, mode: str, limit: int, offset: int, sort: str, separate_related: bool = False,
               session: Session | None = None):
    """Call the search layer; raises ``LookupError`` when it is not installed."""
    try:
        from paperwire.index.search import search
    except ImportError as exc:
        raise LookupError("Search is not available on this installation yet.") from exc
    return search(db, q, mode=mode, limit=limit, offset=offset, sort=sort, separate_related=separate_related,
                  session=session)


def coverage_of(db, results, session: Session | None = None):
    """The vector index's coverage when ``results`` used it (None for word matches)."""
    if results.mode not in ("semantic", "hybrid"):
        return None
    from paperwire.index.vectors import semantic_coverage

    return semantic_coverage(db, session)


def semantic_notices(results, coverage) -> list[str]:
    """What a page must say about the semantic half: that it fell back to word
    matches (the search layer's warning), or how much of the corpus it covers."""
    notices = [w for w in results.warnings if w.startswith("Showing word matches only")]
    if coverage is not None and (note := coverage.notice()):
        notices.append(note)
    return notices


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = Query("", max_length=500),
    mode: str = Query("hybrid"),
    sort: str = Query("relevance"),
    p: int = Query(0, ge=0, le=500),
    all: bool = Query(False, description="show papers matching your exclusions too"),
) -> Response:
    mode = mode if mode in MODES else "hybrid"
    sort = sort if sort in SORTS else "relevance"
    ctx = {"q": q, "mode": mode, "sort": sort, "page": p, "hits": [], "total": None, "error": None, "notices": [],
           "has_next": False, "related": [], "chart": None, "modes": MODES, "sorts": SORTS, "voted": set(), "excluded": 0, "show_all": all}
    if not q.strip():
        return render(request, "search.html", **ctx)
    db = request.app.state.db
    user = current_user(request)
    with db.read_session() as session:  # one session for every read of the page; released before rendering
        try:
            # Hybrid: only papers with the words count as results; meaning-only ones are a labelled "related" block.
            results = run_search(db, q, mode=mode, limit=PAGE_SIZE + 1, offset=p * PAGE_SIZE, sort=sort,
                                 separate_related=True, session=session)
        except LookupError as exc:
            return render(request, "search.html", status_code=503, **{**ctx, "error": str(exc)})
        except ValueError as exc:  # the query language reports syntax errors as ValueError
            return render(request, "search.html", status_code=422, **{**ctx, "error": str(exc)})
        ctx["notices"] = semantic_notices(results, coverage_of(db, results, session))
        hits = [h for h in results.hits if not h.paper.hidden]
        related = [h for h in results.related if not h.paper.hidden]
        rules = exclusion_rules(session, user.id if user else None)
        excluded = sum(1 for h in hits if rules.excludes(h.paper)) if rules else 0
        if excluded and not all:
            hits = [h for h in hits if not rules.excludes(h.paper)]
        if rules and not all:
            related = [h for h in related if not rules.excludes(h.paper)]
        voted = voted_ids(session, user, [h.paper.id for h in hits[:PAGE_SIZE]])
        # Over time: the word matches only (a meaning-only search has no match set to count).
        chart = search_chart(db, q, session) if hits and results.total is not None else None

    def row(h) -> dict:
        return {"paper": h.paper, "score": h.score, "title_html": Markup(h.title_html),
                "snippet_html": Markup(h.snippet_html)}

    shown = [row(h) for h in hits[:PAGE_SIZE]]
    return render(request, "search.html", **{
        **ctx, "hits": shown, "related": [row(h) for h in related], "total": results.total, "has_next": len(results.hits) > PAGE_SIZE,
        "mode": getattr(results, "mode", mode), "voted": voted, "excluded": excluded, "show_all": all,
        "chart": chart,
    })
