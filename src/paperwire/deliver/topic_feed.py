"""The rising-topics feed (``/feeds/topics/rising.{atom,rss,json}``).

One entry per rising topic of the newest week (or month), written by the
same writer as every other feed (:func:`paperwire.deliver.feeds.render_feed`).
An entry's id is the topic page with the period in its fragment, so a topic
that rises again next week is a new entry for feed readers; its summary
says the statistic and lists the topic's most upvoted papers of the period.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session

from paperwire.deliver.config import delivery_config
from paperwire.deliver.digest import DigestItem
from paperwire.deliver.feeds import Feed

#: Who an entry is by (Atom requires an author; a topic has no single one).
FEED_AUTHOR = "paperwire rising topics"


def topic_url(slug: str) -> str:
    return f"{delivery_config().base_url}/topics/{quote(slug, safe='.')}"


def rising_summary(item) -> str:
    """One line saying what the numbers are: "12 papers this week, 1.3 expected (G² 18.2)"."""
    return (f"{item.count} papers, {item.expected:.1f} expected from the trailing baseline "
            f"({item.share:.1%} of the period's papers, was {item.baseline_share:.1%}; G² {item.score:.1f})")


def rising_feed(session: Session, period: str = "week", *, limit: int = 20) -> Feed:
    from paperwire.rank.rising import rising_topics
    from paperwire.rank.topics import corpus_end_date, period_start

    end = corpus_end_date(session)
    items = rising_topics(session, period=period, end=end, limit=limit) if end else []
    start = period_start(end, period) if end else None
    published = datetime.combine(start, time()) if start else None
    base = delivery_config().base_url
    entries = [
        DigestItem(uid=f"topic:{r.topic.slug}", title=f"{r.topic.label} — rising this {period}",
                   authors=[FEED_AUTHOR], categories=[r.topic.kind], abstract=rising_summary(r),
                   url=f"{topic_url(r.topic.slug)}#rising-{period}-{start.isoformat()}", arxiv_url=None,
                   upvotes=r.count, published=published)
        for r in items
    ]
    # Distinct atom:updated per entry (readers and validators want them apart):
    # the period start plus one second per rank, the top topic newest.
    changed = {e.uid: published + timedelta(seconds=len(entries) - i) for i, e in enumerate(entries)} if published else {}
    return Feed(f"topics:rising:{period}", f"paperwire — rising topics this {period}",
                f"Topics whose share of the {period}'s papers grew most against the trailing baseline"
                + (f" (the {period} of {start.isoformat()})" if start else ""),
                f"{base}/topics", entries, changed=changed)
