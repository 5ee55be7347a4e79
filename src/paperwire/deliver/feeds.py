"""RSS 2.0, Atom and JSON Feed 1.1 for trending, searches, categories and users.

A user has two private feeds behind the same revocable secret token: the
papers matching what they follow (:func:`user_feed`) and their "For you"
recommendations with the "why this paper" reasons (:func:`for_you_feed`).

Feeds are built from :class:`~paperwire.deliver.digest.DigestItem` lists.
RSS and Atom come from feedgen; JSON Feed 1.1 is small enough to write by
hand. The body is deterministic for the same papers (the feed's own date is
the newest item's date, not "now"; an empty feed's is today's midnight), so
its hash is a stable ETag and feed readers polling every few minutes get a
cheap ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from paperwire.deliver.config import delivery_config
from paperwire.deliver.digest import DigestBuilder, DigestItem, paper_url, period_for
from paperwire.store.models import FeaturedPaper, Paper

FORMATS = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
FEED_SIZE = 50
#: Atom requires an author for every entry; a paper the source gave no names for says so.
UNKNOWN_AUTHOR = "Unknown authors"


@dataclass
class Feed:
    key: str  # stable id part: "trending", "search:…", "category:cs.LG", "user:3", "for-you:3"
    title: str
    description: str
    link: str  # the HTML page showing the same papers
    items: list[DigestItem]
    #: "Why this paper" reasons by paper uid (the For you feed): objects with ``label`` and an optional ``uid``.
    why: dict[str, list] = field(default_factory=dict)
    #: When each item last changed in this feed (uid -> naive UTC), where that differs from its
    #: date: a trending paper's time on the daily list. Atom readers use it to spot changes.
    changed: dict[str, datetime] = field(default_factory=dict)

    @property
    def updated(self) -> datetime:
        """Newest item time (naive UTC); for a feed with no dated item, today's midnight
        (deterministic within a day, so the ETag stays stable, and never 1970)."""
        dates = [d for i in self.items for d in (i.published, self.changed.get(i.uid)) if d]
        if dates:
            return max(dates)
        return datetime.combine(datetime.now(UTC).date(), datetime.min.time())

    def item_updated(self, item: DigestItem) -> datetime:
        """An entry's atom:updated: its change time, else its date, else the feed's."""
        return self.changed.get(item.uid) or item.published or self.updated


def _item(paper: Paper, upvotes: int = 0, comments: int = 0) -> DigestItem:
    return DigestItem(uid=paper.uid, title=paper.title, authors=list(paper.authors or []),
                      categories=paper.category_list, abstract=paper.abstract or "", url=paper_url(paper.uid),
                      arxiv_url=f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None,
                      upvotes=upvotes, comments=comments, published=paper.submitted_at or paper.imported_at)


def trending_feed(session: Session, day: date | None = None) -> Feed:
    """The newest featured day's papers, most upvoted first."""
    from paperwire.rank.trending import featured_days, trending

    if day is None:
        days = featured_days(session)
        day = days[-1] if days else None
    entries = trending(session, period="day", day=day, limit=FEED_SIZE) if day else []
    base = delivery_config().base_url
    link = f"{base}/date/{day.isoformat()}" if day else f"{base}/"
    items = [_item(e.paper, e.upvotes, e.comments) for e in entries]
    when = datetime.combine(day, datetime.min.time()) if day else None
    for item in items:  # a trending feed's "date" is the day it trended
        item.published = when
    return Feed("trending", "paperwire — trending papers", f"Daily trending papers on paperwire ({day or 'none yet'})",
                link, items, changed=_featured_times(session, [e.paper.id for e in entries], day) if day else {})


def _featured_times(session: Session, paper_ids: list[int], day: date) -> dict[str, datetime]:
    """When each paper went on the daily list of ``day`` (where the source said; naive UTC)."""
    rows = session.execute(
        select(Paper.uid, FeaturedPaper.featured_at).join(FeaturedPaper, FeaturedPaper.paper_id == Paper.id)
        .where(FeaturedPaper.day == day, Paper.id.in_(paper_ids), FeaturedPaper.featured_at.is_not(None)))
    return dict(rows.tuples().all())


def search_feed(db, query: str) -> Feed:
    """Newest papers matching a search query (the same query language as the site)."""
    from urllib.parse import quote_plus

    from paperwire.index.search import search

    query = " ".join((query or "").split())
    if not query:
        raise ValueError("a search feed needs a query: ?q=…")
    results = search(db, query, mode="lexical", sort="date", limit=FEED_SIZE)
    items = [_item(hit.paper) for hit in results.hits]
    base = delivery_config().base_url
    return Feed(f"search:{query}", f"paperwire — search: {query}", f"Newest papers matching {query!r}",
                f"{base}/search?q={quote_plus(query)}", items)


def category_feed(session: Session, category: str) -> Feed:
    """Newest papers in a category (``cs.LG``) or archive (``cs``)."""
    category = category.strip()
    if not category or len(category) > 40 or " " in category or "%" in category or "_" in category.replace("-", ""):
        raise ValueError(f"not a category: {category!r}")
    condition = Paper.categories.like(f"% {category} %")
    if "." not in category:  # an archive ("cs") or a dot-less category ("quant-ph", "hep-th")
        condition = or_(condition, Paper.categories.like(f"% {category}.%"))
    papers = session.scalars(select(Paper).where(condition, Paper.hidden.is_(False))
                             .order_by(Paper.submitted_at.desc().nulls_last(), Paper.id.desc()).limit(FEED_SIZE))
    base = delivery_config().base_url
    return Feed(f"category:{category}", f"paperwire — {category}", f"Newest papers in {category}",
                f"{base}/search?q=cat:{category}", [_item(p) for p in papers])


def user_feed(session: Session, user_id: int, subscription=None, *, today: date | None = None) -> Feed:
    """A user's private feed: this week's papers matching their interests (or trending)."""
    today = today or datetime.now(UTC).date()
    items: list[DigestItem] = []
    seen: set[str] = set()
    for day in (today, today - timedelta(days=7)):  # this week and last, so Mondays are not empty
        builder = DigestBuilder(session, period_for("weekly", day), size=25)
        digest = builder.build(subscription.topics, subscription.exclusions, user_id=user_id) if subscription \
            else builder.global_digest()
        for item in digest.items:
            if item.uid not in seen:
                seen.add(item.uid)
                items.append(item)
    base = delivery_config().base_url
    return Feed(f"user:{user_id}", "paperwire — your papers", "Papers matching what you follow on paperwire",
                f"{base}/settings", items[:FEED_SIZE])


FOR_YOU_EMPTY = ("No recommendations for you yet. Upvote or save papers you like on paperwire, or pick a few "
                 "categories and papers at {base}/onboarding, and your recommendations will appear in this feed.")


def for_you_feed(session: Session, user_id: int, subscription=None, *, limit: int = FEED_SIZE) -> Feed:
    """A user's "For you" recommendations, best first, each with its "why this paper" reasons.

    Personal picks only: the user's exclusions (and their subscription's, if
    given) apply, papers they upvoted, saved or dismissed never appear, and a
    user with no signals gets an empty feed whose description says how to get
    recommendations (no popular fallback in a personal feed).
    """
    from paperwire.rank.exclusions import ExclusionRules
    from paperwire.rank.recommend import recommend
    from paperwire.store.community import comment_counts, upvote_counts

    extra = ExclusionRules.from_dict(subscription.exclusions) if subscription is not None else None
    recs = recommend(session, user_id, limit=limit, exclusions=extra, with_reasons=True, popular_fallback=False)
    ids = [r.paper.id for r in recs]
    upvotes, comments = upvote_counts(session, ids), comment_counts(session, ids)
    items = [_item(r.paper, upvotes[r.paper.id], comments[r.paper.id]) for r in recs]
    base = delivery_config().base_url
    description = ("Papers recommended for you on paperwire, best first, with why each one was picked" if items
                   else FOR_YOU_EMPTY.format(base=base))
    return Feed(f"for-you:{user_id}", "paperwire — for you", description, f"{base}/for-you", items,
                why={r.paper.uid: list(r.reasons) for r in recs if r.reasons})


def _why_text(reasons: list) -> str:
    return "Why this paper: " + "; ".join(r.label for r in reasons)


def _why_html(item: DigestItem, reasons: list) -> str:
    """An entry body: why the paper was picked (linking the library papers it resembles), then its abstract."""
    lines = "".join(
        f'<li><a href="{escape(paper_url(r.uid))}">{escape(r.label)}</a></li>' if r.uid
        else f"<li>{escape(r.label)}</li>" for r in reasons
    )
    return f"<p>Why this paper:</p><ul>{lines}</ul><p>{escape(item.abstract or item.title)}</p>"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: What XML 1.0 cannot carry (NUL, ESC and other controls, U+FFFE/U+FFFF, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text) if text else text


def xml_safe_feed(feed: Feed) -> Feed:
    """A copy of ``feed`` whose text XML can hold.

    Imports already normalise text; this is the writer's own defence, so one
    control character in an old row or a query (``?q=%00``) cannot make every
    feed a 500 (lxml refuses such strings).
    """
    items = [
        replace(item, title=_xml_safe(item.title), abstract=_xml_safe(item.abstract),
                authors=[_xml_safe(a) for a in item.authors], categories=[_xml_safe(c) for c in item.categories],
                url=_xml_safe(item.url))
        for item in feed.items
    ]
    why = {uid: [replace(r, label=_xml_safe(r.label)) if is_dataclass(r) else r for r in reasons]
           for uid, reasons in feed.why.items()}
    return replace(feed, key=_xml_safe(feed.key), title=_xml_safe(feed.title), description=_xml_safe(feed.description),
                   link=_xml_safe(feed.link), items=items, why=why)


def render_feed(feed: Feed, fmt: str, self_url: str) -> bytes:
    """The feed as RSS 2.0, Atom or JSON Feed 1.1 bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}: rss, atom or json")
    feed, self_url = xml_safe_feed(feed), _xml_safe(self_url)
    if fmt == "json":
        return _json_feed(feed, self_url)
    gen = FeedGenerator()
    # An IRI: a search key's quotes and spaces percent-encoded (a raw '"' is not allowed in atom:id).
    gen.id(f"{delivery_config().base_url}/feeds/{quote(feed.key, safe=':/@')}")
    gen.title(feed.title)
    gen.subtitle(feed.description)
    gen.description(feed.description)
    gen.link(href=self_url, rel="self")
    gen.link(href=feed.link, rel="alternate")  # last: feedgen makes the last link RSS's <link> (the HTML page)
    gen.generator("paperwire")
    gen.language("en")
    gen.updated(_aware(feed.updated))
    gen.lastBuildDate(_aware(feed.updated))
    gen.load_extension("dc", atom=False, rss=True)  # RSS <author> must be an e-mail address: names go in dc:creator
    for item in reversed(feed.items):  # feedgen prepends entries
        entry = gen.add_entry()
        entry.id(item.url)
        entry.guid(item.url, permalink=True)
        entry.title(item.title)
        entry.link(href=item.url)
        text = item.abstract or item.title
        # RSS <description> is HTML in every reader: escape the text once more, or "$0<p\le 1$"
        # arrives as a "<p" tag that sanitisers eat. Atom's <summary> is declared plain text.
        entry.summary(escape(text, quote=False) if fmt == "rss" else text)
        if why := feed.why.get(item.uid):
            entry.content(_why_html(item, why), type="html")  # Atom <content>, RSS <content:encoded>
        for name in item.authors[:20] or [UNKNOWN_AUTHOR]:
            entry.author(name=name)
        if item.authors:
            entry.dc.dc_creator(item.authors[:20])
        for category in item.categories:
            entry.category(term=category)
        if item.published:  # an undated item has no RSS pubDate rather than a made-up one
            entry.published(_aware(item.published))
        entry.updated(_aware(feed.item_updated(item)))
    return gen.rss_str(pretty=True) if fmt == "rss" else gen.atom_str(pretty=True)


def _json_feed(feed: Feed, self_url: str) -> bytes:
    data = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.link,
        "feed_url": self_url,
        "description": feed.description,
        "language": "en",
        "items": [_json_item(item, feed.why.get(item.uid)) for item in feed.items],
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


def _json_item(item: DigestItem, why: list | None) -> dict:
    text = item.abstract or item.title
    return {
        "id": item.url, "url": item.url, "title": item.title,
        "content_text": f"{_why_text(why)}\n\n{text}" if why else text,
        **({"content_html": _why_html(item, why)} if why else {}),
        "summary": item.short_abstract, "tags": item.categories,
        "authors": [{"name": n} for n in item.authors[:20]],
        **({"date_published": _aware(item.published).isoformat()} if item.published else {}),
        **({"external_url": item.arxiv_url} if item.arxiv_url else {}),
        "_paperwire": {"id": item.uid, "upvotes": item.upvotes, "comments": item.comments,
                       **({"reasons": [r.as_dict() for r in why]} if why else {})},
    }


# -- HTTP caching --------------------------------------------------------------
def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def last_modified_header(feed: Feed) -> str:
    return format_datetime(_aware(feed.updated).replace(microsecond=0), usegmt=True)


def not_modified(etag: str, updated: datetime, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since is used only without it."""
    if if_none_match:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since is None:
            return False
        return _aware(updated).replace(microsecond=0) <= _aware(since)
    return False

