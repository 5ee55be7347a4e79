"""Topic pages (``/topics/<slug>``), the topics index (``/topics``) and a topic's feed.

The data comes from ``rank.topics`` / ``rank.rising``; this module only turns
it into pages. Following a topic stores an ordinary follow rule (see
:func:`follow_rule_for`), so digests, feeds and "For you" need no new matcher.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.rank.rising import rising_topics, topic_trends
from paperwire.rank.topics import Topic, corpus_end_date, find_topics, get_topic, related_topics, topic_authors
from paperwire.rank.topics import topic_papers, topic_series
from paperwire.store.db import Database
from paperwire.store.library import LibraryError, follow, follows, saved_ids, unfollow
from paperwire.web.charts import Chart, trimmed
from paperwire.web.deps import current_user, get_db, render, require_user, verify_csrf
from paperwire.web.presenters import invalidate

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 10
#: The topic chart shows at most a year of weeks (trimmed to start at the topic's first paper).
CHART_WEEKS = 52
ORDERS = {"upvotes": "Most upvoted", "newest": "Newest"}
NOTICES = {"followed": "Followed: papers on this topic now count for your digests and “For you”.",
           "unfollowed": "No longer followed."}
#: Longer slugs are never made, so a longer one is unknown without a query.
MAX_SLUG = 200


def follow_rule_for(topic: Topic) -> tuple[str, str]:
    """The follow rule a topic becomes: a category follows the category, a keyword or
    phrase follows its label as a whole-word keyword (``store.library.FOLLOW_KINDS``)."""
    return ("category", topic.slug) if topic.kind == "category" else ("keyword", topic.label)


def _topic_or_404(session, slug: str) -> Topic:
    # Slugs are URL-safe text: a longer one or one with NUL (PostgreSQL refuses it in a query) is simply unknown.
    topic = get_topic(session, slug) if len(slug) <= MAX_SLUG and "\x00" not in slug else None
    if topic is None:
        raise HTTPException(404, f"There is no topic called “{slug[:MAX_SLUG].replace(chr(0), '')}”. "
                                 "Find one on the topics page.")
    return topic


def _is_followed(session, user, topic: Topic) -> bool:
    if user is None:
        return False
    kind, value = follow_rule_for(topic)
    return any(k == kind and v.lower() == value.lower() for k, v in follows(session, user.id))


@router.get("/topics", response_class=HTMLResponse)
def topics_index(request: Request, q: str = Query("", max_length=200), db: Database = Depends(get_db)) -> Response:
    """Search box, the rising topics and the most common ones."""
    with db.session() as session:
        found = find_topics(session, q.strip(), limit=30) if q.strip() else []
        rising = rising_topics(session, period="week", limit=12)
        _, common = topic_trends(session, period="month", top=30)
    common_counts = sorted(((topic, sum(series)) for topic, series in common), key=lambda tc: -tc[1])
    return render(request, "topics/index.html", q=q, found=found, rising=rising, common=common_counts)


@router.get("/topics/{slug}", response_class=HTMLResponse)
def topic_page(request: Request, slug: str, order: str = Query("upvotes"), p: int = Query(0, ge=0, le=10_000),
               db: Database = Depends(get_db)) -> Response:
    order = order if order in ORDERS else "upvotes"
    user = current_user(request)
    with db.session() as session:
        topic = _topic_or_404(session, slug)
        series = topic_series(session, topic.slug, period="week")
        papers = topic_papers(session, topic.slug, order=order, limit=PAGE_SIZE + 1, offset=p * PAGE_SIZE)
        has_next = len(papers) > PAGE_SIZE
        papers = papers[:PAGE_SIZE]
        related = related_topics(session, topic.slug, limit=12)
        authors = topic_authors(session, topic.slug, limit=10)
        followed = _is_followed(session, user, topic)
        saved = saved_ids(session, user.id, [paper.id for paper in papers]) if user else set()
        newest = corpus_end_date(session)
    chart = Chart(f"Papers per week on {topic.label}", "week", trimmed(series, keep=CHART_WEEKS))
    return render(request, "topics/topic.html", topic=topic, chart=chart, papers=papers, order=order, orders=ORDERS,
                  page=p, has_next=has_next, related=related, authors=authors, followed=followed, saved_ids=saved,
                  voted=set(), newest=newest, follow_rule=follow_rule_for(topic),
                  notice=NOTICES.get(request.query_params.get("done", "")))


@router.post("/topics/{slug}/follow", dependencies=[Depends(verify_csrf)])
def follow_topic(request: Request, slug: str, remove: bool = Form(False), user=Depends(require_user),
                 db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        topic = _topic_or_404(session, slug)
        kind, value = follow_rule_for(topic)
        try:
            (unfollow if remove else follow)(session, user.id, kind, value)
        except LibraryError as exc:  # e.g. the follow limit
            raise HTTPException(422, str(exc)) from exc
    invalidate(request)
    return RedirectResponse(f"/topics/{quote(topic.slug)}?done={'unfollowed' if remove else 'followed'}", status_code=303)


@router.get("/feeds/topics/{slug}.{fmt}")
def topic_feed_route(request: Request, slug: str, fmt: str, db: Database = Depends(get_db)) -> Response:
    """The newest papers of a topic, through the site's one feed writer (Atom, RSS, JSON Feed).
    ``/feeds/topics/rising.*`` (routes_delivery, included first) is the rising-topics feed."""
    from paperwire.deliver.topic_feed import topic_papers_feed
    from paperwire.web.routes_delivery import _feed_response

    with db.session() as session:
        feed = topic_papers_feed(session, _topic_or_404(session, slug))
    return _feed_response(request, feed, fmt)
