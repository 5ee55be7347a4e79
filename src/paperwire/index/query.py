"""The search-box query language, parsed into a plain value every backend uses.

Syntax (case-insensitive keys)::

    graph neural "message passing" -survey author:"Jane Doe" cat:cs after:2023 before:2024-06

* free words must all occur (AND); common English stopwords are dropped
  unless the query has nothing else;
* ``"quoted phrases"`` must occur as written (an unterminated quote runs to
  the end);
* ``-word`` / ``-"a phrase"`` exclude papers containing them;
* ``author:NAME`` / ``author:"First Last"`` — every given author must match
  (repeat the key for co-authors);
* ``cat:X`` matches category ``X`` and its sub-categories: ``cat:cs`` matches
  cs.LG and cs.AI, ``cat:math`` matches math.OC but not math-ph (a different
  arXiv archive), ``cat:cs.L`` matches nothing (subjects are not prefixes).
  Several ``cat:`` keys match papers in *any* of them; ``cs.*`` equals ``cs``;
* ``after:P`` keeps papers first submitted on or after the first day of
  period P, ``before:P`` those strictly before it (P = YYYY, YYYY-MM or
  YYYY-MM-DD), so ``after:2023 before:2024`` is all of 2023.

At most :data:`MAX_TERMS` words and phrases are used. Parsing is total: any text gives a :class:`ParsedQuery`; unusable parts are
dropped and explained in ``warnings`` (never an exception), because search
boxes receive arbitrary input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

_TOKEN_RE = re.compile(
    r'(?P<neg>-)?(?:(?P<key>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]+))'
)
_WORD_RE = re.compile(r"[^\W_]+")
_CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[a-z][a-z\-]*)?$", re.IGNORECASE)
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_KEYS = {"author": "author", "authors": "author", "cat": "cat", "category": "cat", "after": "after", "before": "before"}

#: Words and phrases used at most (a pasted abstract must not become a huge FTS query).
MAX_TERMS = 32
#: Words too common to narrow a search; dropped from AND queries that have other words.
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to was were "
    "we with our not no can how what which via".split()
)


def terms(text: str) -> list[str]:
    """The index terms of ``text``: lower-cased, accent-free runs of letters and digits.

    Mirrors SQLite's ``unicode61 remove_diacritics 2`` tokenizer closely
    enough that query terms and highlighted words agree with the index.
    """
    if text.isascii():  # nothing to strip (most abstracts): skip the per-character pass
        return [t.lower() for t in _WORD_RE.findall(text)]
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [t.lower() for t in _WORD_RE.findall(stripped)]


@dataclass
class ParsedQuery:
    """What a user asked for, independent of any search backend."""

    text: str = ""
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    after: date | None = None
    before: date | None = None
    #: Parts of the query that were ignored, with the reason (shown to users).
    warnings: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        """Whether there are positive text terms to rank by."""
        return bool(self.words or self.phrases)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.after or self.before)

    @property
    def has_conditions(self) -> bool:
        """Whether a paper must meet more than being near in meaning: filters, phrases, exclusions."""
        return bool(self.has_filters or self.phrases or self.excluded)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for or filter by."""
        return not (self.has_text or self.excluded or self.has_filters)

    def required_words(self) -> list[str]:
        """Free words that must match: stopwords dropped unless nothing else remains."""
        content = [w for w in self.words if not set(terms(w)) <= STOPWORDS]
        return content if (content or self.phrases) else list(self.words)

    def semantic_text(self) -> str:
        """The text an embedder should see: words and phrases, no operators."""
        return " ".join([*self.words, *self.phrases])


def _parse_period(value: str) -> date | None:
    match = _DATE_RE.match(value)
    if not match:
        return None
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _normalise_category(value: str) -> str | None:
    value = value.strip().removesuffix("*").removesuffix(".")
    return value if _CATEGORY_RE.match(value) else None


def parse_query(text: str | None) -> ParsedQuery:
    """Parse search-box text; never raises (see the module docstring)."""
    text = "" if text is None else str(text)
    query = ParsedQuery(text=text)
    for match in _TOKEN_RE.finditer(text.replace("\x00", " ")):
        negated = bool(match.group("neg"))
        raw_key = match.group("key")
        key = _KEYS.get(raw_key.lower()) if raw_key else None
        quoted = match.group("quoted")
        value = quoted if quoted is not None else (match.group("bare") or "")
        if raw_key and key is None:
            value = f"{raw_key}:{value}"  # an unknown key is just text ("foo:bar")
        if key is None:
            _add_text(query, value, negated=negated, phrase=quoted is not None and raw_key is None)
            continue
        if negated:
            query.warnings.append(f"ignored -{raw_key}:{value}: filters cannot be negated")
            continue
        _add_filter(query, key, raw_key, value.strip())
    return query


def _add_text(query: ParsedQuery, value: str, *, negated: bool, phrase: bool) -> None:
    if not terms(value):
        return  # punctuation only: nothing to match
    if len(query.words) + len(query.phrases) + len(query.excluded) >= MAX_TERMS:
        if not query.warnings or "too long" not in query.warnings[-1]:
            query.warnings.append(f"query too long: only the first {MAX_TERMS} words and phrases are used")
        return
    value = " ".join(value.split())
    if negated:
        query.excluded.append(value)
    elif phrase:
        query.phrases.append(value)
    else:
        query.words.append(value)


def _add_filter(query: ParsedQuery, key: str, raw_key: str, value: str) -> None:
    if key == "author":
        if terms(value):
            query.authors.append(" ".join(value.split()))
        elif value:
            query.warnings.append(f"ignored {raw_key}:{value}: no name given")
    elif key == "cat":
        category = _normalise_category(value)
        if category is None:
            query.warnings.append(f"ignored {raw_key}:{value}: not an arXiv category (e.g. cs.LG, math, hep-th)")
        elif category.lower() not in {c.lower() for c in query.categories}:
            query.categories.append(category)
    else:
        day = _parse_period(value)
        if day is None:
            query.warnings.append(f"ignored {raw_key}:{value}: expected YYYY, YYYY-MM or YYYY-MM-DD")
        elif key == "after":
            query.after = max(day, query.after) if query.after else day
        else:
            query.before = min(day, query.before) if query.before else day
