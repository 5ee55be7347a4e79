"""PostgreSQL implementation of :class:`paperwire.index.lexical.LexicalIndex`.

``papers.search_vector`` (migration ``0007_postgres_search``) is a generated,
GIN-indexed tsvector: title weight A, abstract B, authors C, lexemes folded
exactly like :func:`paperwire.index.query.terms`. Ranking is ``ts_rank``
with the same relative weights as the FTS5 backend (title 4 : abstract 1 :
authors 0.5) and length normalisation.

Safety: the tsquery is never parsed from user text. Every word, phrase or
name is reduced to index terms (letters and digits only) first, each term is
sent as a single-quoted lexeme, and operators (``&``, ``|``, ``!``, ``<->``)
are added here; the whole string travels as one bound parameter to
``to_tsquery('simple', …)``. No input can produce a tsquery syntax error or
inject an operator.

Speed: like FTS5, ``ts_rank`` must read every matching row before the
LIMIT. Relevance therefore ranks at most :data:`SCORE_BUDGET` matches — the
newest by id — and totals are counted up to :data:`COUNT_CAP` (None above).
"""

from __future__ import annotations

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from paperwire.index.lexical import AllThenAnyWords, LexicalHit, LexicalPage, date_order, filter_conditions
from paperwire.index.query import ParsedQuery, terms
from paperwire.store.models import Paper

#: ts_rank weights for {D, C, B, A} = {-, authors, abstract, title}: 4 : 1 : 0.5 like FTS5.
WEIGHTS = "{0.05, 0.125, 0.25, 1.0}"
#: ts_rank normalisation: divide by 1 + log(document length) (BM25-like).
NORMALISATION = 1
#: Most matches ranked for relevance; more are narrowed to the newest ones.
SCORE_BUDGET = 10_000
#: Totals above this are reported as None (counting every match is slow).
COUNT_CAP = 10_000

_VECTOR = literal_column("papers.search_vector")


def _lexemes(value: str, weight: str = "") -> str | None:
    """``value`` as a tsquery phrase of quoted lexemes (None if it has no terms)."""
    found = terms(value)
    if not found:
        return None
    suffix = f":{weight}" if weight else ""
    # terms() yields [^\W_]+ runs only: no quote, backslash or operator can appear.
    phrase = " <-> ".join(f"'{t}'{suffix}" for t in found)
    return f"({phrase})" if len(found) > 1 else phrase


def tsquery_text(query: ParsedQuery, *, any_word: bool = False, require_text: bool = True) -> str | None:
    """The ``to_tsquery`` input for ``query``, or None when it has no positive terms.

    Words and phrases are ANDed (ORed with ``any_word``); every ``author:``
    must match the authors (weight C); excluded terms are removed with ``!``.
    """
    texts = [p for p in map(_lexemes, [*query.required_words(), *query.phrases]) if p] if require_text else []
    parts = []
    if texts:
        parts.append("(" + (" | " if any_word else " & ").join(texts) + ")")
    parts += [p for p in (_lexemes(a, "C") for a in query.authors) if p]
    if not parts:
        return None
    expression = " & ".join(parts)
    excluded = _excluded_text(query)
    if excluded:
        expression = f"({expression}) & !({excluded})"
    return expression


def _excluded_text(query: ParsedQuery) -> str | None:
    excluded = [p for p in map(_lexemes, query.excluded) if p]
    return " | ".join(excluded) if excluded else None


def _tsquery(expression: str):
    return func.to_tsquery(literal_column("'simple'::regconfig"), expression)


def _matches(expression: str):
    return _VECTOR.op("@@")(_tsquery(expression))


def _rank(expression: str):
    return func.ts_rank(
        literal_column(f"'{WEIGHTS}'::float4[]"), _VECTOR, _tsquery(expression), NORMALISATION
    )


def _capped_count(session: Session, conditions: list) -> int | None:
    rows = select(literal_column("1")).select_from(Paper).where(*conditions).limit(COUNT_CAP + 1)
    found = session.scalar(select(func.count()).select_from(rows.subquery())) or 0
    return None if found > COUNT_CAP else found


class TsvectorIndex(AllThenAnyWords):
    """Keyword search with PostgreSQL full-text search (see the module docstring)."""

    @staticmethod
    def expression(query: ParsedQuery, *, any_word: bool = False, require_text: bool = True) -> str | None:
        return tsquery_text(query, any_word=any_word, require_text=require_text)

    excluded_expression = staticmethod(_excluded_text)
    matches = staticmethod(_matches)

    def _ranked(
        self, session: Session, query: ParsedQuery, expression: str, *, limit: int, offset: int, sort: str
    ) -> LexicalPage:
        conditions = [*filter_conditions(query), _matches(expression)]
        total = _capped_count(session, conditions)
        if total == 0:
            return LexicalPage(hits=[], total=0)
        if sort == "date":
            rows = session.execute(
                select(Paper.id, _rank(expression)).where(*conditions)
                .order_by(*date_order()).limit(limit).offset(offset)
            ).all()
        else:
            # Rank at most SCORE_BUDGET matches (all of them unless there are more).
            candidates = (
                select(Paper.id.label("id"), _VECTOR.label("vec")).where(*conditions)
                .order_by(Paper.id.desc()).limit(SCORE_BUDGET).subquery()
            )
            rank = func.ts_rank(
                literal_column(f"'{WEIGHTS}'::float4[]"), candidates.c.vec, _tsquery(expression), NORMALISATION
            ).label("rank")
            rows = session.execute(
                select(candidates.c.id, rank).order_by(rank.desc(), candidates.c.id.desc())
                .limit(limit).offset(offset)
            ).all()
        return LexicalPage(hits=[LexicalHit(int(r[0]), float(r[1])) for r in rows], total=total)

    def rebuild(self, session: Session) -> int:
        """The tsvector is a generated column: nothing to rebuild; refresh planner statistics."""
        session.execute(text("ANALYZE papers"))
        return session.scalar(select(func.count()).select_from(Paper).where(Paper.hidden.is_(False))) or 0
