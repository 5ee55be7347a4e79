"""Which papers go into a digest for one subscription and period.

A :class:`DigestBuilder` loads the candidate papers of a period once (the
period's trending papers plus the papers submitted in it) and builds small
inverted indexes over them, so that personalising 10,000 digests is a handful
of set operations each instead of 10,000 database queries. A digest has up
to three sections: global trending, the subscriber's followed categories,
keywords and authors, and "for you" recommendations when a recommender is
installed. Exclusions (words, authors, categories) apply to every section.
Below the papers comes a short "Rising this week" list (the topics of
:func:`paperwire.rank.rising.rising_topics` for the week holding the
period's last day), unless the subscription's ``topics["rising"]`` is
false; it never makes an otherwise empty digest worth sending.
An empty digest is never sent.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.deliver.config import delivery_config
from paperwire.store.models import Paper

_WORD = re.compile(r"[0-9a-z]+")
#: Rising topics a digest lists.
RISING_SIZE = 5
#: Papers submitted in the period considered for followed interests.
RECENT_POOL = 3000
TRENDING_POOL = 200


@dataclass(frozen=True, slots=True)
class Period:
    """A digest period: ``daily:2024-08-12`` or ``weekly:2024-W33`` (ISO week)."""

    frequency: str
    key: str
    start: date
    end: date  # inclusive
    label: str


def period_for(frequency: str, day: date) -> Period:
    """The daily period of ``day``, or the ISO week containing it."""
    if frequency == "daily":
        return Period("daily", f"daily:{day.isoformat()}", day, day, day.strftime("%A, %d %B %Y"))
    if frequency == "weekly":
        year, week, weekday = day.isocalendar()
        start = day - timedelta(days=weekday - 1)
        end = start + timedelta(days=6)
        return Period("weekly", f"weekly:{year}-W{week:02d}", start, end,
                      f"week {week} of {year} ({start:%d %b} – {end:%d %b})")
    raise ValueError(f"frequency must be 'daily' or 'weekly', not {frequency!r}")


def _tokens(text: str) -> list[str]:
    """Lower-case words with a naive plural strip, so 'transformers' ~ 'transformer'."""
    out = []
    for word in _WORD.findall(text.lower()):
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return out


def paper_url(uid: str) -> str:
    return f"{delivery_config().base_url}/papers/{uid}"


@dataclass(slots=True)
class DigestItem:
    """A paper as mails, feeds and webhooks show it (no ORM object: safe to keep)."""

    uid: str
    title: str
    authors: list[str]
    categories: list[str]
    abstract: str
    url: str
    arxiv_url: str | None
    upvotes: int = 0
    comments: int = 0
    published: datetime | None = None
    reason: str = ""

    @property
    def short_abstract(self) -> str:
        text = self.abstract
        return text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + " …"

    @property
    def authors_line(self) -> str:
        names = self.authors[:4]
        return ", ".join(names) + (f" and {len(self.authors) - 4} more" if len(self.authors) > 4 else "")

    def as_dict(self) -> dict:
        return {
            "id": self.uid, "title": self.title, "authors": self.authors, "categories": self.categories,
            "abstract": self.abstract, "url": self.url, "arxiv_url": self.arxiv_url,
            "upvotes": self.upvotes, "comments": self.comments,
            "published": self.published.isoformat() if self.published else None, "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DigestTopic:
    """A rising topic as a digest shows it: label, link, numbers and a sparkline."""

    slug: str
    label: str
    url: str
    count: int
    expected: float
    score: float
    sparkline: str

    def as_dict(self) -> dict:
        return {"slug": self.slug, "label": self.label, "url": self.url, "count": self.count,
                "expected": round(self.expected, 2), "score": self.score}


@dataclass(slots=True)
class DigestSection:
    key: str  # "trending" | "following" | "for_you"
    title: str
    items: list[DigestItem]


@dataclass(slots=True)
class Digest:
    period: Period
    sections: list[DigestSection] = field(default_factory=list)
    subscription_id: int | None = None
    email: str | None = None
    #: "Rising this week" (empty when the subscriber opted out or nothing rises).
    rising: list[DigestTopic] = field(default_factory=list)

    @property
    def items(self) -> list[DigestItem]:
        return [item for section in self.sections for item in section.items]

    @property
    def is_empty(self) -> bool:
        return not any(section.items for section in self.sections)

    def as_dict(self) -> dict:
        return {
            "period": self.period.key, "frequency": self.period.frequency, "label": self.period.label,
            "start": self.period.start.isoformat(), "end": self.period.end.isoformat(),
            "sections": [{"key": s.key, "title": s.title, "papers": [i.as_dict() for i in s.items]}
                         for s in self.sections if s.items],
            **({"rising": [t.as_dict() for t in self.rising]} if self.rising else {}),
        }


def _clean(values: Iterable[str] | None) -> list[str]:
    return [v.strip() for v in (values or []) if v and v.strip()]


#: ``(session, user_id, limit) -> list[Paper]`` — plugged in by the recommendation layer.
Recommender = Callable[[Session, int, int], list[Paper]]


def _default_recommender() -> Recommender:
    from paperwire.rank.recommend import recommend_for_user

    return lambda session, user_id, limit: [r.paper for r in recommend_for_user(session, user_id, limit=limit)]


class DigestBuilder:
    """Candidates of one period, indexed for fast per-subscriber selection."""

    def __init__(self, session: Session, period: Period, *, size: int | None = None,
                 recommender: Recommender | None = None):
        self.session = session
        self.period = period
        self.size = size or delivery_config().digest_size
        self.recommender = recommender if recommender is not None else _default_recommender()
        self.items: list[DigestItem] = []
        self.trending_order: list[int] = []  # candidate indexes, most upvoted first
        self._word_index: dict[str, set[int]] = {}
        self._category_index: dict[str, set[int]] = {}
        self._author_index: dict[str, set[int]] = {}
        self._texts: list[str] = []
        #: (title, abstract, authors text, categories) of each candidate, for exclusion rules.
        self._fields: list[tuple[str, str, str, list[str]]] = []
        self._stamps: list[float] = []
        self._by_uid: dict[str, int] = {}
        self._by_id: dict[int, int] = {}
        #: Rising topics of the period, computed on first use (same for every subscriber).
        self._rising: list[DigestTopic] | None = None
        self._load()

    # -- loading -----------------------------------------------------------
    def _load(self) -> None:
        for entry in self._trending():
            index = self._add(entry.paper, upvotes=entry.upvotes, comments=entry.comments)
            if index is not None and index not in self.trending_order:
                self.trending_order.append(index)
        start = datetime.combine(self.period.start, datetime.min.time())
        end = datetime.combine(self.period.end + timedelta(days=1), datetime.min.time())
        recent = self.session.scalars(
            select(Paper).where(Paper.submitted_at >= start, Paper.submitted_at < end, Paper.hidden.is_(False))
            .order_by(Paper.submitted_at.desc()).limit(RECENT_POOL)
        )
        for paper in recent:
            self._add(paper)

    def _trending(self) -> list:
        from paperwire.rank.trending import trending

        kind = "day" if self.period.frequency == "daily" else "week"
        return trending(self.session, period=kind, day=self.period.end, limit=TRENDING_POOL)

    def _add(self, paper: Paper, *, upvotes: int = 0, comments: int = 0) -> int | None:
        if paper.hidden:
            return None
        if paper.uid in self._by_uid:
            return self._by_uid[paper.uid]
        index = len(self.items)
        self._by_uid[paper.uid] = index
        self._by_id[paper.id] = index
        item = DigestItem(
            uid=paper.uid, title=paper.title, authors=list(paper.authors or []),
            categories=paper.category_list, abstract=paper.abstract or "", url=paper_url(paper.uid),
            arxiv_url=f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None,
            upvotes=upvotes, comments=comments, published=paper.submitted_at,
        )
        self.items.append(item)
        self._fields.append((paper.title or "", paper.abstract or "", paper.authors_text or "", item.categories))
        self._stamps.append((item.published or datetime(1970, 1, 1)).timestamp())
        text = f"{paper.title} {paper.abstract or ''}"
        self._texts.append(" ".join(_tokens(text)))
        for word in set(self._texts[-1].split()):
            self._word_index.setdefault(word, set()).add(index)
        for category in item.categories:
            self._category_index.setdefault(category.lower(), set()).add(index)
            self._category_index.setdefault(category.lower().split(".")[0] + ".*", set()).add(index)
        for author in item.authors:
            for token in set(_tokens(author)):
                self._author_index.setdefault(token, set()).add(index)
        return index

    # -- matching ----------------------------------------------------------
    def _match_phrase(self, phrase: str) -> set[int]:
        words = _tokens(phrase)
        if not words:
            return set()
        found = set.intersection(*(self._word_index.get(w, set()) for w in words))
        if len(words) > 1:
            needle = " ".join(words)
            found = {i for i in found if needle in self._texts[i]}
        return found

    def _match_author(self, name: str) -> set[int]:
        words = _tokens(name)
        if not words:
            return set()
        return set.intersection(*(self._author_index.get(w, set()) for w in words))

    def _match_category(self, category: str) -> set[int]:
        category = category.lower()
        if category.endswith(".*") or "." not in category:
            return self._category_index.get(category.split(".")[0] + ".*", set())
        return self._category_index.get(category, set())

    def excluded(self, exclusions: dict | None) -> set[int]:
        """Candidates the exclusions remove, decided by :mod:`paperwire.rank.exclusions`
        (the rules pages, search and recommendations use); the inverted indexes only
        narrow down which candidates to check (any whole-word match is also a token match)."""
        from paperwire.rank.exclusions import ExclusionRules

        rules = ExclusionRules.from_dict(exclusions)
        maybe: set[int] = set()
        for word in rules.words:
            maybe |= self._match_phrase(word)
        for author in rules.authors:
            maybe |= self._match_author(author)
        for category in rules.categories:
            maybe |= self._match_category(category)
        return {i for i in maybe if rules.excludes_fields(*self._fields[i])}

    def _account_exclusions(self, user_id: int, exclusions: dict | None) -> tuple[dict | None, set[int]]:
        """What the user excluded or dismissed on the site applies to mail too."""
        from paperwire.rank.exclusions import exclusions_for_delivery
        from paperwire.store.library import dismissed_ids

        return exclusions_for_delivery(self.session, user_id, exclusions), dismissed_ids(self.session, user_id)

    # -- building ----------------------------------------------------------
    def build(self, topics: dict | None, exclusions: dict | None = None, *, user_id: int | None = None) -> Digest:
        """The digest for one set of interests (see the module docstring)."""
        topics = topics or {}
        if user_id is not None:
            exclusions, dismissed = self._account_exclusions(user_id, exclusions)
        else:
            dismissed = set()
        banned = self.excluded(exclusions) | {self._by_id[i] for i in dismissed if i in self._by_id}
        digest = Digest(period=self.period)
        shown: set[int] = set()
        if topics.get("trending", False):
            picks = [i for i in self.trending_order if i not in banned][: self.size]
            shown.update(picks)
            digest.sections.append(DigestSection("trending", "Trending", [self._with_reason(i, "trending") for i in picks]))
        scores: dict[int, float] = {}
        reasons: dict[int, str] = {}
        for kind, values, matcher, weight in (
            ("category", topics.get("categories"), self._match_category, 1.0),
            ("keyword", topics.get("keywords"), self._match_phrase, 2.0),
            ("author", topics.get("authors"), self._match_author, 3.0),
        ):
            for value in _clean(values):
                for index in matcher(value) - banned - shown:
                    scores[index] = scores.get(index, 0.0) + weight
                    reasons.setdefault(index, f"{kind}: {value}")
        if scores:
            picks = heapq.nsmallest(self.size, scores, key=lambda i: (-scores[i], -self.items[i].upvotes,
                                                                    -self._stamps[i], i))
            shown.update(picks)
            digest.sections.append(DigestSection("following", "From what you follow",
                                                 [self._with_reason(i, reasons[i]) for i in picks]))
        if topics.get("for_you") and user_id is not None and self.recommender is not None:
            recommended = []
            for paper in self.recommender(self.session, user_id, self.size * 2):
                index = self._add(paper)
                if index is not None and index not in banned and index not in shown:
                    recommended.append(self._with_reason(index, "recommended for you"))
            digest.sections.append(DigestSection("for_you", "For you", recommended[: self.size]))
        if topics.get("rising", True) and not digest.is_empty:
            digest.rising = self.rising()
        return digest

    def rising(self) -> list[DigestTopic]:
        """The week's rising topics (holding the period's last day), once per builder."""
        if self._rising is None:
            from paperwire.deliver.topic_feed import topic_url
            from paperwire.rank.rising import rising_topics
            from paperwire.rank.sparkline import sparkline

            self._rising = [
                DigestTopic(r.topic.slug, r.topic.label, topic_url(r.topic.slug), r.count, r.expected, r.score,
                            sparkline(r.series))
                for r in rising_topics(self.session, period="week", end=self.period.end, limit=RISING_SIZE)
            ]
        return self._rising

    def _with_reason(self, index: int, reason: str) -> DigestItem:
        item = self.items[index]
        if item.reason == reason:
            return item
        copy = DigestItem(**{name: getattr(item, name) for name in DigestItem.__slots__})
        copy.reason = reason
        return copy

    def for_subscription(self, subscription) -> Digest:
        digest = self.build(subscription.topics, subscription.exclusions, user_id=subscription.user_id)
        digest.subscription_id = subscription.id
        digest.email = subscription.email
        return digest

    def global_digest(self) -> Digest:
        """Site-wide trending only (site webhooks, the trending feed)."""
        return self.build({"trending": True})
