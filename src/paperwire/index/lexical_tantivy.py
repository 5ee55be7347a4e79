"""Lexical search with tantivy: one engine for SQLite and PostgreSQL deployments.

Why tantivy: exact BM25 top-k with block-max pruning (no "rank only the
newest 10,000 matches" budget), per-field boosts, positional phrases, an
English stemmer and a snippet generator, in a maintained Rust library with
Python wheels. The index is *derived state*: :mod:`paperwire.index.publish_lexical`
builds it from the papers table and publishes it as a numbered generation
(a directory ``lexical-g<N>`` in the data folder, immutable once published);
this module only reads published generations and never builds one.

The query language is :mod:`paperwire.index.query`, translated here into
tantivy query objects (never parsed from user text, so no input is syntax):

* a free word is scored by BM25F over title (x4) + abstract, stemmed and
  exact forms, plus authors (see :data:`SCORED`); a word the analyzer
  splits (``graph-neural``) is a phrase of its parts; ``"phrases"`` are
  positional;
* two free words next to each other in the query also score as an exact
  phrase (:data:`ADJACENT_BOOST`), so "flow matching" ranks a paper about
  flow matching above one that mentions a flow and a matching apart;
* all words must match; when nothing has all of them, any word may
  (``matched = "any"``), exactly like the database engines;
* ``-excluded`` terms are ``MustNot`` in any of the three fields;
* a phrase in which every two neighbouring words include a common word
  (:data:`COMMON`: "of the", "state of the art") is looked up in the
  ``pairs`` field, which holds each such neighbouring pair as one term
  (Lucene's "common grams"), instead of checking positions in the postings
  of words most papers contain;
* ``author:`` is a phrase on the authors field (not stemmed);
* ``cat:``, ``after:``/``before:`` are non-scoring filters on indexed
  terms and a date key; filter-only queries list the newest papers.

Papers hidden, deleted or merged after the generation was built are dropped
at read time (one primary-key query on the page's ids), so a hide takes
effect at once; new papers appear with the next published generation.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

import numpy as np
import tantivy
from sqlalchemy.orm import Session

from paperwire.index.lexical import ConditionMatches, LexicalHit, LexicalPage, NewestMatches
from paperwire.index.query import STOPWORDS, ParsedQuery, terms
from paperwire.store.visible import visible_ids, visible_papers

#: ``index_generations.model`` of this engine: bump when the schema or analyzers change.
SCHEMA_NAME = "tantivy-v2"
#: What free words are scored on. ``body`` holds the title TITLE_REPEATS times
#: plus the abstract, so one BM25 saturates the weighted term frequency across
#: both (BM25F, as FTS5's weighted bm25 does) instead of adding two
#: separately saturated scores; ``exact`` is the same text unstemmed, so an
#: exact form outranks a stem-mate ("diffusion" over "diffuse") while
#: inflections still match; authors are their own field. Chosen on
#: ``bench/eval_lexical.py`` (separate title/abstract fields with boosts
#: 4/1: keywords MRR@10 0.844, paraphrase 0.887; body stemmed only:
#: 0.860/0.967; unstemmed only: 0.897/0.965; both, stemmed at 0.5: 0.891/0.975;
#: with the neighbouring-word phrases of :data:`ADJACENT_BOOST`: 0.913/0.975).
SCORED = {"body": 0.5, "exact": 1.0, "authors": 0.5}
TITLE_REPEATS = 4
#: Weight of each pair of neighbouring free words as a phrase on ``exact``
#: (an optional clause: it adds score, never matches). Why: a reader's
#: keywords are often multi-word terms ("reinforcement learning", "video
#: diffusion") and BM25 alone cannot tell them from the same words scattered
#: over an abstract. Unstemmed and without slop, because an exact adjacent
#: form is the strongest evidence (a dropped stopword keeps its gap: "chain
#: of thought" is chain _ thought). Chosen on ``bench/eval_lexical.py`` seed
#: 17 (keywords MRR@10 0.891 -> 0.913, paraphrase 0.975 unchanged; on
#: ``body`` at 0.5: 0.907 / 0.973; on ``exact`` at 1.0: 0.917 / 0.974, at
#: 2.0: 0.923 / 0.962; slop 1 at 0.5: 0.916 / 0.974); seed 18 checks it.
ADJACENT_BOOST = 0.5
ADJACENT_FIELD = "exact"
#: The field whose terms mark titles and snippets (stemmed: "regenerating" marks for "regenerate").
HIGHLIGHTED = {"body": 1.0}
#: Characters of abstract a snippet shows (about 40 words).
SNIPPET_CHARS = 280
STEMMED = "en_stem"
PLAIN = "en_plain"
PAIRS = "common_pairs"
#: Stemmed forms of the query language's stopwords: the words whose neighbours
#: the ``pairs`` field indexes. Why: a phrase of such words ("of the", "in
#: systems") was answered by intersecting postings that hold most papers and
#: checking positions in each (200-300 ms at 1M papers, twice per search
#: page); its pairs' postings hold only the papers with those neighbours.
#: Pairs of two content words are not indexed: they are rare enough already,
#: and every pair would double the index. Cost, measured on 100k synthetic
#: papers: index 96 -> 144 MiB, build 18-21 -> 28-30 s (the pairs are made
#: in Python); real Daily-Papers abstracts: build 1.2 -> 1.7 s per 5,841.
PAIR_SEPARATOR = "_"  # never inside a token: the tokenizer splits at every non-alphanumeric character
#: Stands for a pair of two content words, or for two words the analyzer did not
#: keep side by side, so positions in ``pairs`` stay those of the words; never indexed.
_NO_PAIR = "~"
#: Date-sort key = seconds << 24 | (id & 0xFFFFFF): newest first, ties by id
#: (exact up to 16.7M paper ids; beyond, same-second ties are in arbitrary order).
_ID_BITS = 24
#: Key of undated papers: below every date (last in date order, outside after:/before:).
_UNDATED = -(1 << 62)


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(60))
               .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


ANALYZERS = {STEMMED: _analyzer(True), PLAIN: _analyzer(False),
             PAIRS: tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
             .filter(tantivy.Filter.custom_stopword([_NO_PAIR])).build()}
COMMON = frozenset(token for word in STOPWORDS for token in ANALYZERS[STEMMED].analyze(word))
FIELD_ANALYZER = {"body": STEMMED, "exact": PLAIN, "authors": PLAIN}


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", indexed=True, fast=True)
    builder.add_text_field("body", tokenizer_name=STEMMED)
    builder.add_text_field("exact", tokenizer_name=PLAIN)
    builder.add_text_field("authors", tokenizer_name=PLAIN)
    builder.add_text_field("pairs", tokenizer_name=PAIRS)
    builder.add_text_field("cats", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("date_key", indexed=True, fast=True)
    return builder.build()


SCHEMA = build_schema()


def _register(index: tantivy.Index) -> tantivy.Index:
    for name, analyzer in ANALYZERS.items():
        index.register_tokenizer(name, analyzer)
    return index


def create_index(path: Path) -> tantivy.Index:
    """A new, empty index in ``path`` with this engine's schema and analyzers."""
    path.mkdir(parents=True, exist_ok=True)
    return _register(tantivy.Index(SCHEMA, path=str(path), reuse=False))


def open_index(path: Path) -> tantivy.Index:
    return _register(tantivy.Index.open(str(path)))


def _seconds(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp()) if moment.tzinfo is None else int(moment.timestamp())


def date_key(paper_id: int, submitted: datetime | None) -> int:
    if submitted is None:
        return _UNDATED + paper_id
    return (_seconds(submitted) << _ID_BITS) | (paper_id & ((1 << _ID_BITS) - 1))


def key_days(keys: list[int]) -> np.ndarray:
    """The submission days ``date_key`` values hold, as ``datetime64[D]`` (NaT for undated
    papers): a chart reads up to 1,000 at once, which one by one cost more than the search."""
    values = np.asarray(keys, dtype=np.int64)
    days = ((values >> _ID_BITS) // 86_400).astype("datetime64[D]")
    days[values < _UNDATED // 2] = np.datetime64("NaT")
    return days


def word_coverage(words: list[str], title: str, abstract: str) -> float:
    """Share of ``words``' stemmed index terms that occur in a paper's title or abstract.

    The question "do the words describe this paper?" as the index sees it
    (same stemmer as the ``body`` field), for one paper: the hybrid fusion
    asks it of the best any-word match (see ``index.hybrid.fusion_weights``).
    """
    stem = ANALYZERS[STEMMED]
    wanted = set(stem.analyze(" ".join(words)))
    if not wanted:
        return 0.0
    present = set(stem.analyze(f"{title} {abstract}"))
    return len(wanted & present) / len(wanted)


def category_terms(categories: str) -> set[str]:
    """Indexed category terms: each category and its archive (``cs.lg`` and ``cs``)."""
    found: set[str] = set()
    for category in categories.lower().split():
        found.add(category)
        found.add(category.split(".", 1)[0])
    return found


def _positions_are_order(text: str) -> bool:
    """Whether the analyzer keeps every word of ``text`` (none of 60 bytes or more), so the
    index of a term in ``analyze(text)`` is its position (else ask for the positions)."""
    longest = max(map(len, text.split()), default=0)
    return longest < 15 or (text.isascii() and longest < 60)


def common_pairs(text: str) -> str:
    """``text``'s neighbouring stemmed words as the ``pairs`` field indexes them: one
    ``a_b`` term per pair that includes a :data:`COMMON` word, a placeholder (a gap,
    never indexed) for every other pair, so the n-th entry stands at position n."""
    stem = ANALYZERS[STEMMED]
    if _positions_are_order(text):
        tokens = stem.analyze(text)
        steps = [True] * len(tokens)
    else:
        found = stem.pre_tokenize(text).tokens
        tokens = [t.text for t in found]
        steps = [True] + [b.position == a.position + 1 for a, b in zip(found, found[1:])]
    common = COMMON
    flags = [token in common for token in tokens]
    return " ".join([
        a + PAIR_SEPARATOR + b if step and (fa or fb) else _NO_PAIR
        for a, b, fa, fb, step in zip(tokens, tokens[1:], flags, flags[1:], steps[1:])
    ])


def _pairs_query(value: str) -> tantivy.Query | None:
    """``value`` as a lookup in ``pairs`` when every two neighbouring words include a
    common word (see :data:`COMMON`); None for one word, or when a pair has none."""
    tokens = ANALYZERS[STEMMED].analyze(value)
    if len(tokens) < 2 or not all(a in COMMON or b in COMMON for a, b in zip(tokens, tokens[1:])):
        return None
    pairs = [f"{a}{PAIR_SEPARATOR}{b}" for a, b in zip(tokens, tokens[1:])]
    if len(pairs) == 1:
        return tantivy.Query.term_query(SCHEMA, "pairs", pairs[0])
    return tantivy.Query.phrase_query(SCHEMA, "pairs", pairs)


def document(paper_id: int, title: str, abstract: str, authors: str, categories: str,
             submitted: datetime | None) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_integer("id", paper_id)
    for field in ("body", "exact"):
        for _ in range(TITLE_REPEATS):
            doc.add_text(field, title or "")
        doc.add_text(field, abstract or "")
    title_pairs = common_pairs(title or "")
    for _ in range(TITLE_REPEATS):  # as often as ``body`` holds the title (BM25F)
        doc.add_text("pairs", title_pairs)
    doc.add_text("pairs", common_pairs(abstract or ""))
    doc.add_text("authors", authors or "")
    for term in sorted(category_terms(categories or "")):
        doc.add_text("cats", term)
    doc.add_integer("date_key", date_key(paper_id, submitted))
    return doc


# --- query translation -------------------------------------------------------

def _field_query(field: str, value: str) -> tantivy.Query | None:
    tokens = ANALYZERS[FIELD_ANALYZER[field]].analyze(value)
    if not tokens:
        return None
    if len(tokens) == 1:
        return tantivy.Query.term_query(SCHEMA, field, tokens[0])
    return tantivy.Query.phrase_query(SCHEMA, field, tokens)


def _any_field(value: str, fields: dict[str, float] = SCORED) -> tantivy.Query | None:
    """``value`` in any of ``fields``, each boosted; None when it has no terms.

    A phrase of common words asked of both ``body`` and ``exact`` is one lookup in
    ``pairs`` in place of those two positional phrases (their weights added): the
    papers it finds are the stemmed phrase's, which include the exact one's.
    (Highlighting asks ``body`` alone: it keeps the phrase, whose words it marks.)
    """
    parts = []
    pairs = _pairs_query(value) if "body" in fields and "exact" in fields else None
    if pairs is not None:
        boost = SCORED["body"] + SCORED["exact"]
        parts.append((tantivy.Occur.Should, tantivy.Query.boost_query(pairs, boost)))
        fields = {field: weight for field, weight in fields.items() if field not in ("body", "exact")}
    for field, boost in fields.items():
        query = _field_query(field, value)
        if query is not None:
            parts.append((tantivy.Occur.Should, tantivy.Query.boost_query(query, boost)))
    return tantivy.Query.boolean_query(parts) if parts else None


def _scored_value(value: str) -> tuple[tantivy.Query | None, tantivy.Query | None]:
    """A free word or phrase as (what must match it, what only adds to the score).

    The same papers and the same BM25F sum as ``_any_field(value)``, in a cheaper
    shape: every match on ``exact`` is also a match on ``body`` (the same
    analyzer but the stemmer), so ``exact`` never decides *whether* a paper
    matches, only its score. Inside each word's union it made tantivy walk every
    posting of both fields (a union cannot skip), for every word of the query;
    as an optional clause of the whole query it is only sought at the papers that
    match (see :data:`SPLIT_BELOW_SHARE` for when that is cheaper). A common-word
    phrase keeps its one ``pairs`` lookup (which stands for both fields).
    """
    if _pairs_query(value) is not None:
        return _any_field(value), None
    match = _any_field(value, _MATCHED)
    exact = _field_query("exact", value) if match is not None else None
    return match, (tantivy.Query.boost_query(exact, SCORED["exact"]) if exact is not None else None)


#: The fields a free word may match in (``exact`` only adds score: see ``_scored_value``).
_MATCHED = {field: weight for field, weight in SCORED.items() if field != "exact"}
#: A query of several words is split (``_scored_value``) when its rarest word is in fewer
#: than this share of the papers: then few papers have all the words, and seeking
#: ``exact`` at each is cheaper than walking its postings. Measured at 1M papers on 396
#: word queries (tantivy's time, split / nested, median by the rarest word's share):
#: under 1 %: 0.49; 1-3 %: 0.76; 3-10 %: 0.89; 10-20 %: 0.96; over 20 %: 1.03.
SPLIT_BELOW_SHARE = 0.2
#: A body term -> the share of the papers holding it (from the searcher's statistics).
TermShare = Callable[[str], float]


def _rarest_share(values: list[str], share: TermShare) -> float:
    """The document share of the rarest stemmed term among ``values`` (1.0 when none)."""
    stem = ANALYZERS[STEMMED]
    return min((share(term) for value in values for term in stem.analyze(value)), default=1.0)


def _adjacent(query: ParsedQuery) -> list[tantivy.Query]:
    """Each pair of neighbouring free words as a boosted exact phrase (see :data:`ADJACENT_BOOST`).

    Positions count every word of the query, stopwords too, so a stopword
    that :meth:`ParsedQuery.required_words` drops still leaves its gap.
    """
    kept = query.required_words()
    every_word = len(kept) == len(query.words)  # nothing dropped (or only stopwords typed)
    analyzer = ANALYZERS[FIELD_ANALYZER[ADJACENT_FIELD]]
    found: list[tantivy.Query] = []
    position, previous = 0, None
    for word in query.words:
        tokens = analyzer.analyze(word)
        if tokens and (every_word or not set(terms(word)) <= STOPWORDS):
            if previous is not None:
                # Side by side with a common word: the pair's one term (see COMMON), not positions.
                side_by_side = previous[0] == position - 1
                pairs = _pairs_query(f"{previous[1]} {tokens[0]}") if side_by_side else None
                if pairs is None:
                    pairs = tantivy.Query.phrase_query(SCHEMA, ADJACENT_FIELD, [previous, (position, tokens[0])])
                found.append(tantivy.Query.boost_query(pairs, ADJACENT_BOOST))
            previous = (position + len(tokens) - 1, tokens[-1])
        position += len(tokens)
    return found


def _filters(query: ParsedQuery) -> list[tantivy.Query]:
    """Non-scoring conditions for ``cat:``, ``after:`` and ``before:``."""
    found = []
    if query.categories:
        cats = [(tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "cats", c.lower())) for c in query.categories]
        found.append(tantivy.Query.boolean_query(cats))
    if query.after or query.before:
        low = (_day_key(query.after) if query.after else _UNDATED // 2)
        high = (_day_key(query.before) - 1) if query.before else None
        found.append(tantivy.Query.range_query(SCHEMA, "date_key", tantivy.FieldType.Integer, low, high))
    return found


def _day_key(day: date) -> int:
    return _seconds(datetime.combine(day, time())) << _ID_BITS


def _excluded(query: ParsedQuery) -> list[tantivy.Query]:
    return [q for q in map(_any_field, query.excluded) if q is not None]


@dataclass
class Translated:
    #: The full query (text, authors, filters, exclusions).
    query: tantivy.Query
    #: The positive text terms on title and abstract (what snippets highlight; never run).
    text: tantivy.Query | None


def translate(query: ParsedQuery, *, any_word: bool = False, words_required: bool = True,
              share: TermShare | None = None) -> Translated:
    """``query`` as tantivy queries (see the module docstring for the mapping).

    ``words_required=False``: only the query's conditions (phrases, authors,
    filters, exclusions), for results found another way (by meaning).
    ``share``: the index's document share of a term, which picks the cheaper of two
    shapes of the same query (without it, several words are always split).
    """
    values = [*query.required_words(), *query.phrases] if words_required else list(query.phrases)
    # Only where words intersect: one word (or any of them) matches about as many papers as
    # its ``exact`` postings hold, and walking a union beats seeking each of them.
    split = (len(values) > 1 and not any_word
             and (share is None or _rarest_share(values, share) < SPLIT_BELOW_SHARE))
    scored = [_scored_value(v) if split else (_any_field(v), None) for v in values]
    texts = [match for match, _ in scored if match is not None]
    marks = [q for q in (_any_field(v, HIGHLIGHTED) for v in values) if q is not None]
    occur = tantivy.Occur.Should if any_word else tantivy.Occur.Must
    text = tantivy.Query.boolean_query([(occur, q) for q in texts]) if texts else None
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    if text is not None:
        clauses.append((tantivy.Occur.Must, text))
        clauses += [(tantivy.Occur.Should, extra) for _, extra in scored if extra is not None]
        clauses += [(tantivy.Occur.Should, q) for q in _adjacent(query)]
    for name in query.authors:
        author = _field_query("authors", name)
        if author is not None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.boost_query(author, SCORED["authors"])))
    if not clauses:
        clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(tantivy.Query.all_query(), 0.0)))
    clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in _filters(query)]
    clauses += [(tantivy.Occur.MustNot, q) for q in _excluded(query)]
    highlight = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in marks]) if marks else None
    return Translated(tantivy.Query.boolean_query(clauses), highlight)


def _ranks_by_text(query: ParsedQuery) -> bool:
    return bool(query.required_words() or query.phrases or query.authors)


# --- highlighting ------------------------------------------------------------

def _marked(fragment: str, ranges: list[tuple[int, int]], *, collapse: bool = False) -> str:
    """``fragment`` escaped, with the byte ``ranges`` tantivy highlighted in ``<mark>``;
    ``collapse``: each run of whitespace as one space (marks are words: never split)."""
    data = fragment.encode("utf-8")
    out, last = [], 0

    def text(piece: bytes) -> str:
        value = piece.decode("utf-8", "replace")
        if collapse and ("  " in value or not value.isprintable()):  # other whitespace is unprintable
            value = _WHITESPACE.sub(" ", value)
        return html.escape(value)

    for start, end in sorted(ranges):
        if start < last:
            continue
        out.append(text(data[last:start]))
        out.append(f"<mark>{html.escape(data[start:end].decode('utf-8', 'replace'))}</mark>")
        last = end
    out.append(text(data[last:]))
    return "".join(out)


_WHITESPACE = re.compile(r"\s+")


class Highlighter:
    """Title and snippet HTML for result papers, from tantivy's snippet generator."""

    def __init__(self, searcher: tantivy.Searcher, text: tantivy.Query):
        self._searcher, self._text = searcher, text
        self._generator = None  # made on first use: candidate lists (hybrid) never highlight

    def __call__(self, title: str, abstract: str) -> tuple[str, str]:
        return self.title(title), self.snippet(abstract)

    def _sized(self, chars: int) -> tantivy.SnippetGenerator:
        """The one generator of this query (its term weights are computed once), cut at ``chars``."""
        if self._generator is None:
            self._generator = tantivy.SnippetGenerator.create(self._searcher, self._text, SCHEMA, "body")
        self._generator.set_max_num_chars(chars)
        return self._generator

    def title(self, title: str) -> str:
        snip = self._sized(100_000).snippet_from_doc(tantivy.Document(body=title))
        ranges = [(r.start, r.end) for r in snip.highlighted()]
        return _marked(title, ranges) if ranges else html.escape(title)

    def snippet(self, abstract: str) -> str:
        # Whitespace is collapsed in the ~280 characters shown, not in the whole abstract
        # first (that was a sixth of a snippet's time); a fragment starts and ends at words.
        abstract = abstract.strip()
        snip = self._sized(SNIPPET_CHARS).snippet_from_doc(tantivy.Document(body=abstract))
        ranges = [(r.start, r.end) for r in snip.highlighted()]
        if not ranges:
            return plain_snippet(abstract)
        where = snip.fragment_range()
        prefix = "… " if where.start > 0 else ""
        suffix = " …" if where.end < len(abstract.encode("utf-8")) else ""
        return prefix + _marked(snip.fragment(), ranges, collapse=True) + suffix


def plain_snippet(abstract: str, chars: int = SNIPPET_CHARS) -> str:
    """The beginning of ``abstract`` (no match to centre on), whitespace collapsed, cut at a word."""
    abstract = " ".join(abstract.split())
    if len(abstract) <= chars:
        return html.escape(abstract)
    cut = abstract[:chars].rsplit(" ", 1)[0]
    return html.escape(cut) + " …"


# --- reading published generations ------------------------------------------

class GenerationReaders:
    """Owner of the tantivy indexes this process has open, one per data folder.

    Invalidation: every search passes the newest published generation (one
    indexed query on ``index_generations``); when it differs from the open
    one, the new directory is opened and replaces it. Published directories
    are immutable, so an open searcher never needs a reload otherwise; an
    old generation removed by the publisher stays readable while open.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[int, tantivy.Index]] = {}

    def get(self, directory: Path, generation: int) -> tantivy.Index | None:
        key = str(directory.parent)  # the data folder as settings name it (no syscalls per search)
        with self._lock:
            current = self._open.get(key)
            if current and current[0] == generation:
                return current[1]
        if not (directory / "meta.json").is_file():
            return None
        index = open_index(directory)
        with self._lock:
            current = self._open.get(key)
            if current is None or current[0] < generation:
                self._open[key] = (generation, index)
            return self._open[key][1]

    def clear(self) -> None:
        with self._lock:
            self._open.clear()


READERS = GenerationReaders()


#: Result pages up to this size load their papers with the visibility check
#: (one query for both); larger candidate lists (hybrid) check ids only.
LOAD_PAPERS_UP_TO = 100


def _can_fall_back(query: ParsedQuery) -> bool:
    """Whether a query that nothing matches in full may fall back to any of its words."""
    return len(query.required_words()) + len(query.phrases) > 1


class TantivySearcher:
    """Searches one opened generation (see the module docstring)."""

    def __init__(self, index: tantivy.Index):
        self._searcher = index.searcher()
        self._papers = max(self._searcher.num_docs, 1)

    def _share(self, term: str) -> float:
        return self._searcher.doc_freq("body", term) / self._papers

    def translate(self, query: ParsedQuery, **options: bool) -> Translated:
        """:func:`translate` in the shape that is cheaper on this generation's statistics."""
        return translate(query, share=self._share, **options)

    def search(self, session: Session, query: ParsedQuery, *, limit: int, offset: int = 0,
               sort: str = "relevance", any_word: bool = False) -> LexicalPage:
        page = self._run(session, query, limit=limit, offset=offset, sort=sort, any_word=any_word)
        if any_word:
            page.matched = "any"
        elif page.total == 0 and _can_fall_back(query):
            page = self._run(session, query, limit=limit, offset=offset, sort=sort, any_word=True)
            page.matched = "any"
        return page

    def _run(self, session: Session, query: ParsedQuery, *, limit: int, offset: int, sort: str,
             any_word: bool) -> LexicalPage:
        translated = self.translate(query, any_word=any_word)
        by_date = sort == "date" or not _ranks_by_text(query)
        result = self._top(translated.query, limit, offset, by_date=by_date)
        addresses = [address for _, address in result.hits]
        ids = [int(i) for i in self._searcher.fast_field_values("id", addresses)] if addresses else []
        scores = [0.0 if by_date else float(score) for score, _ in result.hits]
        papers = visible_papers(session, ids) if limit <= LOAD_PAPERS_UP_TO else None
        visible = set(papers) if papers is not None else visible_ids(session, ids)
        hits = [LexicalHit(pid, score) for pid, score in zip(ids, scores) if pid in visible]
        total = int(result.count) - (len(ids) - len(hits))
        highlight = Highlighter(self._searcher, translated.text) if translated.text is not None else None
        return LexicalPage(hits=hits, total=total, highlight=highlight, papers=papers)

    def _top(self, query: tantivy.Query, limit: int, offset: int, *, by_date: bool) -> tantivy.SearchResult:
        """One page of ``query``'s matches, best or newest first, with the match count."""
        if by_date:
            return self._searcher.search(query, limit, count=True, order_by_field="date_key", offset=offset,
                                         order=tantivy.Order.Desc)
        return self._searcher.search(query, limit, count=True, offset=offset)

    def newest_matches(self, query: ParsedQuery, *, limit: int) -> NewestMatches:
        """The newest ``limit`` matches and how many match, from the index alone (see
        ``LexicalIndex.newest_matches``); any word when nothing has them all."""
        result = self._top(self.translate(query).query, limit, 0, by_date=True)
        if result.count == 0 and _can_fall_back(query):
            result = self._top(self.translate(query, any_word=True).query, limit, 0, by_date=True)
        addresses = [address for _, address in result.hits]
        if not addresses:
            return NewestMatches([], key_days([]), int(result.count))
        ids = [int(pid) for pid in self._searcher.fast_field_values("id", addresses)]
        return NewestMatches(ids, key_days(self._searcher.fast_field_values("date_key", addresses)), int(result.count))

    def highlighter(self, query: ParsedQuery) -> Highlighter | None:
        """A marker for ``query``'s words without running it (see ``LexicalIndex.highlighter``)."""
        text = self.translate(query).text
        return Highlighter(self._searcher, text) if text is not None else None

    def condition_matches(self, session: Session, query: ParsedQuery, *, limit: int) -> ConditionMatches:
        """The visible papers meeting ``query``'s conditions (None when more than ``limit`` do) and their count."""
        result = self._searcher.search(self.translate(query, words_required=False).query, limit, count=True)
        if result.count > limit:
            return ConditionMatches(None, int(result.count))
        addresses = [address for _, address in result.hits]
        ids = [int(i) for i in self._searcher.fast_field_values("id", addresses)] if addresses else []
        visible = sorted(visible_ids(session, ids))
        return ConditionMatches(visible, len(visible))

    def matching_ids(self, session: Session, query: ParsedQuery, paper_ids: list[int], *,
                     words_required: bool = True) -> set[int]:
        if not paper_ids:
            return set()
        translated = self.translate(query, words_required=words_required)
        among = tantivy.Query.term_set_query(SCHEMA, "id", list(paper_ids))
        both = tantivy.Query.boolean_query([(tantivy.Occur.Must, translated.query), (tantivy.Occur.Must, among)])
        result = self._searcher.search(both, len(paper_ids), count=False)
        ids = [int(i) for i in self._searcher.fast_field_values("id", [a for _, a in result.hits])]
        return visible_ids(session, ids)

