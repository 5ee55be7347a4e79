"""The one place that decides whether a paper is excluded for a user.

A user's exclusions are (kind, value) rules (``store.library.Exclusion``):

* ``word`` — a whole word or phrase of the title or abstract, case-insensitive
  (``GAN`` excludes "GAN", "gan" and "GAN-based" but not "organ" or "began";
  ``quantum`` excludes "Quantum" and "quantum-inspired"; ``large language``
  matches that phrase). Title and abstract are read as one text, title first,
  as the "keyword" follow rule does (``rank.usermodel.follow_matches``);
* ``author`` — a whole word or phrase of the author list, case-insensitive
  (``Smith`` excludes "John Smith" and "Smith-Jones" but not "Smithson");
* ``category`` — the category or any of its sub-categories, as in the
  search language (``cs`` excludes cs.LG; ``math`` does not exclude math-ph).

"Whole" means: the rule's text, character for character (runs of whitespace in
the rule count as one space, as in stored text), with no ASCII letter or digit
right before or after it — it starts and ends at the start/end of the text or
next to anything else (space, punctuation, hyphen, a non-ASCII character).
Characters of the rule are literal: ``c++`` and ``a.b`` mean those characters,
not regular-expression syntax. Letters match their upper- and lower-case forms
(one character each: ``é`` matches ``É``).

The same rules come in two forms that always agree (a test checks it):
:meth:`ExclusionRules.sql_condition` is a SQLAlchemy condition that is true for
papers to *keep*, for lists built in SQL; :meth:`ExclusionRules.excludes` is a
Python predicate for lists already loaded (search hits, recommendations). Both run one
regular expression per word/author rule, built by :func:`rule_pattern` from a
subset of syntax that Python's ``re`` and PostgreSQL's ``~`` read alike
(groups, ``|``, ``^``/``$``, bracket lists, ``\\`` before punctuation) and that
spells case out (``[gG][aA][nN]``) instead of relying on ``lower()`` or a
case-insensitive flag, whose non-ASCII behaviour differs between databases
(SQLite's ``lower()`` folds ASCII only; PostgreSQL's depends on the locale).
On SQLite, SQLAlchemy's pysqlite dialect provides ``REGEXP`` with Python's
``re.search`` — the very engine of the Python predicate; PostgreSQL uses ``~``.
For an ASCII rule a case-insensitive ``LIKE '%rule%'`` (in Python: ``in`` on
the lower-cased text) runs first as a cheap prefilter; the regex implies it, so
it never changes the answer, it only spares most texts the regex.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import and_, exists, func, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from paperwire.store.library import Dismissal
from paperwire.store.library import exclusions as stored_exclusions
from paperwire.store.models import Paper

#: Not an ASCII letter or digit (or no character at all) on either side of a match.
_BEFORE = "(^|[^0-9A-Za-z])"
_AFTER = "([^0-9A-Za-z]|$)"


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _char_pattern(ch: str) -> str:
    if ch.isascii():
        if ch.isalpha():
            return f"[{ch.lower()}{ch.upper()}]"
        if ch.isdigit():
            return ch
        return "\\" + ch  # punctuation and space: literal in both dialects
    variants = "".join(dict.fromkeys(v for v in (ch, ch.lower(), ch.upper()) if len(v) == 1))
    return variants if len(variants) == 1 else f"[{variants}]"


@lru_cache(maxsize=4096)
def rule_pattern(value: str) -> str:
    """The regular expression (Python ``re`` and PostgreSQL ``~`` alike) for a word/author rule."""
    text = " ".join(value.split())
    return _BEFORE + "".join(_char_pattern(ch) for ch in text) + _AFTER


@lru_cache(maxsize=4096)
def _rule_matcher(value: str) -> tuple[str | None, re.Pattern[str]]:
    """(lower-cased ASCII needle for a quick ``in`` test, or None; the compiled pattern)."""
    text = " ".join(value.split())
    return (text.lower() if text.isascii() else None), re.compile(rule_pattern(value))


def _rule_matches(value: str, text: str, text_lower: str) -> bool:
    needle, regex = _rule_matcher(value)
    if needle is not None and needle not in text_lower:  # the same prefilter as the SQL form's LIKE
        return False
    return regex.search(text) is not None


def _matches_sql(column: ColumnElement[str], value: str) -> ColumnElement[bool]:
    regex = column.regexp_match(rule_pattern(value))
    text = " ".join(value.split())
    if not text.isascii():
        return regex
    # Implied by the regex (same characters, ASCII case folded): a cheap first test,
    # and on SQLite it spares most rows the call into Python's ``re``.
    return and_(column.ilike(f"%{_like_escape(text)}%", escape="\\"), regex)


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
            text = f"{title} {abstract}"
            text_lower = text.lower()
            if any(_rule_matches(w, text, text_lower) for w in self.words):
                return True
        if self.authors:
            authors_lower = authors_text.lower()
            if any(_rule_matches(a, authors_text, authors_lower) for a in self.authors):
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
        if self.words:
            text = func.coalesce(Paper.title, "") + " " + func.coalesce(Paper.abstract, "")
            matches += [_matches_sql(text, word) for word in self.words]
        matches += [_matches_sql(func.coalesce(Paper.authors_text, ""), author) for author in self.authors]
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


def not_dismissed_condition(user_id: int) -> ColumnElement[bool]:
    """Papers the user has not dismissed ("not interested"), as a correlated ``NOT EXISTS``."""
    return ~exists(select(Dismissal.paper_id).where(Dismissal.user_id == user_id, Dismissal.paper_id == Paper.id))


def user_visible_condition(session: Session, user_id: int | None) -> ColumnElement[bool]:
    """Papers a list may show this user: not hidden, not excluded, not dismissed.

    For anonymous visitors (``user_id`` None) that is just "not hidden".
    """
    if user_id is None:
        return visible_condition(NO_RULES)
    return and_(visible_condition(exclusion_rules(session, user_id)), not_dismissed_condition(user_id))


def exclusions_for_delivery(session: Session, user_id: int | None, extra: dict | None = None) -> dict[str, list[str]]:
    """A user's exclusions merged with a subscription's, in the dict shape digests use.

    Digests, feeds and webhooks call this so that what a user excluded on the
    site is also absent from what is sent to them.
    """
    return exclusion_rules(session, user_id).merged(ExclusionRules.from_dict(extra)).as_dict()
