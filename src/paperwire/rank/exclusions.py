"""The one place that decides whether a paper is excluded for a user.

A user's exclusions are (kind, value) rules (``store.library.Exclusion``):

* ``word`` — case-insensitive substring of the title or abstract
  (``quantum`` also excludes "quantum-inspired" and "Quantum");
* ``author`` — case-insensitive substring of the author list
  (``Smith`` excludes "John Smith" and "Smithson");
* ``category`` — the category or any of its sub-categories, as in the
  search language (``cs`` excludes cs.LG; ``math`` does not exclude math-ph).

The same rules come in two forms that always agree (a test checks it):
:meth:`ExclusionRules.sql_condition` is a SQLAlchemy condition that is true for
papers to *keep*, for lists built in SQL (portable ``LIKE``/``lower``, no
backend-specific syntax); :meth:`ExclusionRules.excludes` is a Python
predicate for lists already loaded (search hits, trending pages, digests).
Substring matching is what both SQLite and PostgreSQL do fast and alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, not_, or_, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paperwire.store.library import exclusions as stored_exclusions
from paperwire.store.models import Paper


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ExclusionRules:
    words: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> ExclusionRules:
        words, authors, categories = [], [], []
        for kind, value in pairs:
            value = value.strip()
            if not value:
                continue
            {"word": words, "author": authors, "category": categories}[kind].append(value)
        return cls(tuple(words), tuple(authors), tuple(categories))

    @classmethod
    def from_dict(cls, data: dict | None) -> ExclusionRules:
        """From the ``{"words": [...], "authors": [...], "categories": [...]}`` shape digests use."""
        data = data or {}
        pairs = [(kind, v) for key, kind in (("words", "word"), ("authors", "author"), ("categories", "category"))
                 for v in data.get(key) or [] if isinstance(v, str)]
        return cls.from_pairs(pairs)

    def as_dict(self) -> dict[str, list[str]]:
        return {"words": list(self.words), "authors": list(self.authors), "categories": list(self.categories)}

    def merged(self, other: ExclusionRules) -> ExclusionRules:
        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(a + b))

        return ExclusionRules(union(self.words, other.words), union(self.authors, other.authors),
                              union(self.categories, other.categories))

    def __bool__(self) -> bool:
        return bool(self.words or self.authors or self.categories)

    # -- Python predicate ------------------------------------------------
    def excludes(self, paper: Paper) -> bool:
        """True when the paper matches any rule."""
        return self.excludes_fields(paper.title or "", paper.abstract or "", paper.authors_text or "",
                                    (paper.categories or "").split())

    def excludes_fields(self, title: str, abstract: str, authors_text: str, categories: list[str]) -> bool:
        """The same decision from plain fields (for callers without a Paper row)."""
        if self.words:
            title_l, abstract_l = title.lower(), abstract.lower()
            if any(w.lower() in title_l or w.lower() in abstract_l for w in self.words):
                return True
        if self.authors:
            authors_l = authors_text.lower()
            if any(a.lower() in authors_l for a in self.authors):
                return True
        for rule in self.categories:
            rule_l = rule.lower()
            if any(c.lower() == rule_l or c.lower().startswith(rule_l + ".") for c in categories):
                return True
        return False

    # -- SQL condition -----------------------------------------------------
    def sql_condition(self) -> ColumnElement[bool]:
        """A condition on ``Paper`` that is true for papers to keep."""
        matches: list[ColumnElement[bool]] = []
        for word in self.words:
            pattern = f"%{_like_escape(word.lower())}%"
            matches.append(func.lower(Paper.title).like(pattern, escape="\\"))
            matches.append(func.lower(Paper.abstract).like(pattern, escape="\\"))
        for author in self.authors:
            matches.append(func.lower(Paper.authors_text).like(f"%{_like_escape(author.lower())}%", escape="\\"))
        for rule in self.categories:
            value = _like_escape(rule.lower())
            cats = func.lower(Paper.categories)
            matches.append(cats.like(f"% {value} %", escape="\\"))
            matches.append(cats.like(f"% {value}.%", escape="\\"))
        if not matches:
            return true()
        return not_(or_(*matches))

    def filter(self, papers: Iterable[Paper]) -> list[Paper]:
        return [p for p in papers if not self.excludes(p)]


NO_RULES = ExclusionRules()


def exclusion_rules(session: Session, user_id: int | None) -> ExclusionRules:
    """The user's exclusions (empty for anonymous visitors)."""
    if user_id is None:
        return NO_RULES
    return ExclusionRules.from_pairs(stored_exclusions(session, user_id))


def visible_condition(rules: ExclusionRules) -> ColumnElement[bool]:
    """Papers a list may show: not hidden and not excluded."""
    return and_(Paper.hidden.is_(False), rules.sql_condition())


def exclusions_for_delivery(session: Session, user_id: int | None, extra: dict | None = None) -> dict[str, list[str]]:
    """A user's exclusions merged with a subscription's, in the dict shape digests use.

    Digests, feeds and webhooks call this so that what a user excluded on the
    site is also absent from what is sent to them.
    """
    return exclusion_rules(session, user_id).merged(ExclusionRules.from_dict(extra)).as_dict()
