"""The topic index: what each paper is about, for rising topics, topic pages and the map.

**Topics** come from three things a paper carries:

* its arXiv categories (kind ``category``; slug = the id, "cs.CV"; label
  from the shipped taxonomy, "Computer Vision and Pattern Recognition (cs.CV)");
* its source's keywords, Hugging Face ``ai_keywords`` (kind ``keyword``);
* key phrases of its title and abstract (kind ``phrase``; see
  :mod:`paperwire.rank.topic_terms`).

Keywords and phrases share one key space: spelling variants, case, hyphens
and plural head nouns merge ("Diffusion Models" = "diffusion-model"), and
an acronym merges into its expansion when the corpus spells it out
consistently — "large language models (LLMs)" seen at least
``ACRONYM_MIN`` times and in at least 60% of that acronym's expansions makes
"LLMs" the topic "large language models (LLMs)". A key is a topic when at
least ``topics_min_papers`` papers carry it (categories: one) and at most
``MAX_SHARE`` of all papers do (such phrases say nothing); a two-word phrase
that occurs inside one longer kept phrase in ≥80% of its papers is dropped
as a fragment ("large language" of "large language model").

**A paper's day** is its first Hugging Face list day when it has one, else its
published date; it is copied into ``paper_topics`` so per-period counts are
one indexed query.

**Building** (:func:`build_topics`, the one place) reads the visible papers
twice in id order — once to count document frequencies, once to link papers to
the topics kept — holding the links in compact arrays, then replaces the
index in one short transaction (topics are upserted by slug, so their ids stay
stable). The worker job ``topics`` runs it when the papers' fingerprint
changed. Document frequency is corpus-wide (a new paper can promote a phrase
that old papers carry), which is why a round is a full rebuild: at 100k papers
it takes tens of seconds (``bench/topics_build.py``) on one core.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from paperwire.rank.topic_terms import Candidates, Extractor, acronym_pairs, slug_of_key, surface, term_key
from paperwire.store.community import Vote
from paperwire.store.db import Database
from paperwire.store.generations import IndexGeneration, begin_generation, latest_generation, papers_marker, publish_generation
from paperwire.store.locks import job_lock
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import utcnow
from paperwire.store.topics import PaperTopic, TopicDay, TopicRow

Period = Literal["week", "month"]
KINDS = ("category", "keyword", "phrase")
#: Generation rows of the topic index (``index_generations``: kind, model).
GENERATION_KIND = "topics"
GENERATION_MODEL = "topics-v1"
#: Keys carried by more than this share of all papers are not topics.
MAX_SHARE = 0.5
#: Papers spelling an acronym out before it merges into its expansion.
ACRONYM_MIN = 3
#: Papers read per batch while building.
BATCH = 5000
#: Distinct keys held while counting before singletons are dropped (bounds
#: memory; a key first seen after a prune needs ``min_papers`` papers later on).
PRUNE_AT = 1_500_000
#: Default span of a series when no start is given (periods before the end).
DEFAULT_SPAN = {"week": 52, "month": 24}


@dataclass(frozen=True)
class Topic:
    slug: str  # URL-safe, stable: "diffusion-model", "cs.CV"
    label: str  # shown to people: "diffusion models", "Computer Vision (cs.CV)"
    kind: str  # "category" | "keyword" | "phrase"


def _topic(row: TopicRow) -> Topic:
    return Topic(row.slug, row.label, row.kind)


# --- periods -------------------------------------------------------------------

def period_start(day: date, period: Period) -> date:
    """First day of the ISO week (Monday) or calendar month holding ``day``."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r} (week or month)")


def next_period(start: date, period: Period) -> date:
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def shift_periods(start: date, period: Period, n: int) -> date:
    """The period start ``n`` periods after (negative: before) ``start``."""
    if period == "week":
        return start + timedelta(days=7 * n)
    months = start.year * 12 + start.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def period_starts(start: date, end: date, period: Period) -> list[date]:
    """Every period start from the period of ``start`` to that of ``end``."""
    out, current, last = [], period_start(start, period), period_start(end, period)
    while current <= last:
        out.append(current)
        current = next_period(current, period)
    return out


# --- building -------------------------------------------------------------------

@dataclass
class TopicBuildReport:
    papers: int = 0
    topics: int = 0
    links: int = 0
    seconds: float = 0.0
    built: bool = False
    busy: bool = False

    def summary(self) -> str:
        if self.busy:
            return "topics: another process is building them"
        if not self.built:
            return f"topics: current ({self.topics} topics)"
        return (f"topics: {self.topics} topics over {self.papers} papers "
                f"({self.links} links) built in {self.seconds:.1f} s")


def topics_marker(session: Session) -> str:
    """Fingerprint of what the index is built from: the papers and their featured days."""
    count, newest = session.execute(select(func.count(), func.max(FeaturedPaper.created_at))).one()
    newest_text = newest.isoformat() if isinstance(newest, datetime) else (str(newest) if newest else "-")
    return f"{papers_marker(session)}|{int(count or 0)}:{newest_text}"


@dataclass
class _PaperText:
    id: int
    title: str
    abstract: str
    categories: list[str]
    keywords: list[str] | None
    day: date | None


def _paper_batches(session: Session) -> Iterator[list[_PaperText]]:
    """Visible papers in id order, in batches, each with its day."""
    last = 0
    while True:
        rows = session.execute(
            select(Paper.id, Paper.title, Paper.abstract, Paper.categories, Paper.ai_keywords, Paper.submitted_at)
            .where(Paper.id > last, Paper.hidden.is_(False)).order_by(Paper.id).limit(BATCH)
        ).all()
        if not rows:
            return
        first_days = dict(session.execute(
            select(FeaturedPaper.paper_id, func.min(FeaturedPaper.day))
            .where(FeaturedPaper.paper_id.between(rows[0].id, rows[-1].id)).group_by(FeaturedPaper.paper_id)
        ).all())
        yield [
            _PaperText(r.id, r.title or "", r.abstract or "", (r.categories or "").split(), r.ai_keywords,
                       first_days.get(r.id) or (r.submitted_at.date() if r.submitted_at else None))
            for r in rows
        ]
        last = rows[-1].id


def _paper_terms(extractor: Extractor, paper: _PaperText) -> tuple[dict[str, str], Candidates, Candidates]:
    """(keyword terms key → surface, title candidates, abstract candidates) of one paper."""
    return extractor.keyword_terms(paper.keywords), extractor.candidates(paper.title), extractor.candidates(paper.abstract)


@dataclass
class _Vocabulary:
    #: key → (slug, kind)
    topics: dict[str, tuple[str, str]]
    #: acronym key → expansion key
    aliases: dict[str, str]
    #: key → document frequency
    df: dict[str, int]
    papers: int


def _count_pass(session: Session, extractor: Extractor,
                log: Callable[[str], object]) -> tuple[Counter, Counter, Counter, Counter, Counter, int]:
    """Document frequencies of every key, of source keywords, of categories and of
    acronym → expansion pairs. Only keys *vouched* for by a source keyword or a
    title phrase somewhere in the corpus are kept: titles and keywords name
    topics, while abstract prose is full of phrases that name none
    ("consistent gains", "increasingly rely"); an abstract still counts towards a
    vouched key's frequency. (A hyphenated compound alone never vouches:
    "state-of-the-art".)"""
    df: Counter = Counter()
    vouched: Counter = Counter()
    keyword_df: Counter = Counter()
    categories: Counter = Counter()
    pairs: Counter = Counter()
    days: Counter = Counter()
    papers = 0
    for batch in _paper_batches(session):
        for paper in batch:
            papers += 1
            if paper.day:
                days[paper.day] += 1
            keywords, title, abstract = _paper_terms(extractor, paper)
            df.update(keywords.keys() | title.phrases.keys() | abstract.phrases.keys() | title.compounds.keys()
                      | abstract.compounds.keys())
            vouched.update(keywords.keys() | title.phrases.keys())
            keyword_df.update(keywords.keys())
            categories.update(set(paper.categories))
            pairs.update({(a, e) for a, e, _ in acronym_pairs(paper.title + " . " + paper.abstract)})
        if len(df) > PRUNE_AT:
            for key in [k for k, n in df.items() if n == 1]:
                del df[key]
                vouched.pop(key, None)
        log(f"topics: counted {papers} papers …")
    for key in [k for k in df if k not in vouched]:
        del df[key]
    return df, keyword_df, categories, pairs, days, papers


def _vocabulary(df: Counter, keyword_df: Counter, categories: Counter, pairs: Counter, papers: int,
                min_papers: int) -> _Vocabulary:
    aliases: dict[str, str] = {}
    by_acronym: dict[str, Counter] = defaultdict(Counter)
    for (acronym, expansion), n in pairs.items():
        by_acronym[acronym][expansion] += n
    for acronym, expansions in by_acronym.items():
        expansion, n = expansions.most_common(1)[0]
        if n >= ACRONYM_MIN and n >= 0.6 * sum(expansions.values()) and acronym != expansion:
            aliases[acronym] = expansion
    targets = set(aliases.values())
    for key in df:
        if key in aliases:
            continue
        first, _, rest = key.partition(" ")
        if rest and first in aliases:  # "VLA models" → "vision-language-action models"
            aliases[key] = f"{aliases[first]} {rest}"
    for key in df:
        # "vision-language-action models" is the topic "vision-language-action (VLA)" (the
        # acronym left "models" out); "vision-language models" stays itself, being a target.
        if key not in aliases and key not in targets and key.endswith(" model") and key[:-6] in targets:
            aliases[key] = key[:-6]
    for key, target in list(aliases.items()):
        aliases[key] = aliases.get(target, target)  # one hop: "vla model" → … → "vision language action"
    merged: Counter = Counter()
    largest: Counter = Counter()
    for key, n in df.items():
        target = aliases.get(key, key)
        merged[target] += n  # an upper bound: one paper may carry both spellings
        largest[target] = max(largest[target], n)  # a lower bound
    ceiling = MAX_SHARE * papers if papers >= 50 else papers + 1
    kept = {k for k, n in merged.items() if n >= min_papers and largest[k] <= ceiling}
    for key in sorted((k for k in kept if k.count(" ") >= 2), key=lambda k: -k.count(" ")):
        if key not in kept:
            continue
        words = key.split()
        for part in (term_key(" ".join(words[:-1])), " ".join(words[1:])):
            if part in kept and merged[key] >= 0.8 * merged[part]:
                kept.discard(part)
    keyword_keys = {aliases.get(k, k) for k in keyword_df}
    topics: dict[str, tuple[str, str]] = {}
    for key in kept:
        is_keyword = key in keyword_keys
        topics[key] = (slug_of_key(key)[:200], "keyword" if is_keyword else "phrase")
    for category, n in categories.items():
        topics["\0" + category] = (category[:200], "category")
        merged["\0" + category] = n
    return _Vocabulary(topics, aliases, dict(merged), papers)


def category_label(category: str) -> str:
    from paperwire.taxonomy import taxonomy

    for group in taxonomy():
        for archive in group.archives:
            for item in archive.categories:
                if item.id == category:
                    return f"{item.name} ({category})"
    return category


@dataclass
class _Links:
    topic: array
    paper: array
    day: array
    weight: array

    def __len__(self) -> int:
        return len(self.topic)


def _link_pass(session: Session, extractor: Extractor, vocab: _Vocabulary, index: dict[str, int],
               log: Callable[[str], object]) -> tuple[_Links, dict[str, Counter], dict[str, Counter]]:
    links = _Links(array("i"), array("q"), array("i"), array("f"))
    surfaces: dict[str, Counter] = defaultdict(Counter)
    acronym_surfaces: dict[str, Counter] = defaultdict(Counter)
    n = max(vocab.papers, 1)
    done = 0
    for batch in _paper_batches(session):
        for paper in batch:
            keywords, title, abstract = _paper_terms(extractor, paper)
            scores: dict[str, float] = {}
            sources = ((keywords, 3.0), (title.phrases, 2.0), (title.compounds, 2.0),
                       (abstract.phrases, 1.0), (abstract.compounds, 1.0))
            for found, bonus in sources:
                for raw, written in found.items():
                    key = vocab.aliases.get(raw, raw)
                    if key not in vocab.topics:
                        continue
                    # Counted as written (a str or a tuple of words); made into labels at the end.
                    if key != raw:
                        acronym_surfaces[key][written] += 1
                    else:
                        surfaces[key][written] += 1
                    scores[key] = scores.get(key, 0.0) + bonus
            day = paper.day.toordinal() if paper.day else 0
            for key, score in scores.items():
                links.topic.append(index[key])
                links.paper.append(paper.id)
                links.day.append(day)
                links.weight.append(score * math.log(1 + n / vocab.df[key]))
            for position, category in enumerate(dict.fromkeys(paper.categories)):
                links.topic.append(index["\0" + category])
                links.paper.append(paper.id)
                links.day.append(day)
                links.weight.append(1.0 if position == 0 else 0.5)
        done += len(batch)
        log(f"topics: linked {done} papers …")
    return links, surfaces, acronym_surfaces


def _shown(written) -> str:
    return written if isinstance(written, str) else surface(written)


def _label(key: str, surfaces: Counter | None, acronyms: Counter | None) -> str:
    """The most frequent way the corpus writes the key (forms that look the same pooled)."""
    def best(counts: Counter) -> str:
        pooled: Counter = Counter()
        for written, n in counts.items():
            pooled[_shown(written)] += n
        return pooled.most_common(1)[0][0]

    label = best(surfaces) if surfaces else key
    if acronyms:
        return f"{label} ({best(acronyms)})"
    return label


def _write(session: Session, vocab: _Vocabulary, keys: list[str], links: _Links,
           surfaces: dict[str, Counter], acronym_surfaces: dict[str, Counter]) -> None:
    """Replace the index: upsert topics by slug, drop the gone ones, rewrite the links."""
    counts: Counter = Counter(links.topic)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t, d in zip(links.topic, links.day):
        if d:
            if d < first.get(t, 10**9):
                first[t] = d
            if d > last.get(t, 0):
                last[t] = d
    existing = {slug: tid for slug, tid in session.execute(select(TopicRow.slug, TopicRow.id))}
    ids: list[int] = []
    new_rows = []
    updates = []
    for i, key in enumerate(keys):
        slug, kind = vocab.topics[key]
        label = category_label(slug) if kind == "category" else _label(key, surfaces.get(key), acronym_surfaces.get(key))
        values = {"slug": slug, "label": label[:500], "kind": kind, "paper_count": counts.get(i, 0),
                  "first_day": date.fromordinal(first[i]) if i in first else None,
                  "last_day": date.fromordinal(last[i]) if i in last else None}
        if slug in existing:
            updates.append({"tid": existing[slug], **values})
        else:
            new_rows.append(values)
    session.execute(delete(PaperTopic))
    wanted = {vocab.topics[k][0] for k in keys}
    gone = [tid for slug, tid in existing.items() if slug not in wanted]
    for start in range(0, len(gone), 5000):
        session.execute(delete(TopicRow).where(TopicRow.id.in_(gone[start:start + 5000])))
    if updates:
        from sqlalchemy import bindparam

        session.execute(update(TopicRow.__table__).where(TopicRow.__table__.c.id == bindparam("tid")), updates)
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(TopicRow), new_rows[start:start + 5000])
    by_slug = {slug: tid for slug, tid in session.execute(select(TopicRow.slug, TopicRow.id))}
    ids = [by_slug[vocab.topics[k][0]] for k in keys]
    chunk = 20_000
    days: dict[int, date | None] = {0: None}
    table = PaperTopic.__table__
    for start in range(0, len(links), chunk):
        rows = []
        for t, p, d, w in zip(links.topic[start:start + chunk], links.paper[start:start + chunk],
                              links.day[start:start + chunk], links.weight[start:start + chunk]):
            if d not in days:
                days[d] = date.fromordinal(d)
            rows.append({"topic_id": ids[t], "paper_id": p, "day": days[d], "weight": w})
        session.connection().execute(table.insert(), rows)  # Core executemany: no ORM bookkeeping


def build_topics(db: Database, *, force: bool = False, min_papers: int | None = None,
                 log: Callable[[str], object] = lambda _m: None) -> TopicBuildReport:
    """Rebuild the topic index when the papers changed since the last build (or ``force``)."""
    from paperwire.settings import get_settings

    min_papers = min_papers if min_papers is not None else get_settings().topics_min_papers
    report = TopicBuildReport()
    with job_lock(db, f"index:{GENERATION_KIND}") as acquired:
        if not acquired:
            report.busy = True
            return report
        started = time.perf_counter()
        with db.session() as session:
            marker = f"{topics_marker(session)}|min={min_papers}"
            previous = latest_generation(session, GENERATION_KIND, GENERATION_MODEL)
            if previous is not None and previous.marker == marker and not force:
                report.topics = previous.vectors
                return report
            extractor = Extractor()
            df, keyword_df, categories, pairs, days, papers = _count_pass(session, extractor, log)
            vocab = _vocabulary(df, keyword_df, categories, pairs, papers, max(1, min_papers))
            del df, keyword_df, pairs
            keys = sorted(vocab.topics)
            index = {k: i for i, k in enumerate(keys)}
            links, surfaces, acronym_surfaces = _link_pass(session, extractor, vocab, index, log)
        with db.session() as session:
            generation = begin_generation(session, GENERATION_KIND, GENERATION_MODEL, marker, utcnow())
            _write(session, vocab, keys, links, surfaces, acronym_surfaces)
            session.execute(delete(TopicDay))
            if days:
                session.execute(insert(TopicDay), [{"day": d, "papers": n} for d, n in sorted(days.items())])
            report.seconds = time.perf_counter() - started
            publish_generation(session, generation, path=None, size=len(keys), seconds=report.seconds)
            session.execute(delete(IndexGeneration).where(
                IndexGeneration.kind == GENERATION_KIND, IndexGeneration.id < generation))
        report.papers, report.topics, report.links, report.built = papers, len(keys), len(links), True
        return report


# --- reading ----------------------------------------------------------------------

def get_topic(session: Session, slug: str) -> Topic | None:
    row = session.scalar(select(TopicRow).where(TopicRow.slug == slug))
    return _topic(row) if row is not None else None


def _topic_id(session: Session, slug: str) -> int | None:
    return session.scalar(select(TopicRow.id).where(TopicRow.slug == slug))


def topics_of_papers(session: Session, paper_ids: Sequence[int], *, limit_per_paper: int = 5) -> dict[int, list[Topic]]:
    """Each paper's most characteristic topics (a phrase inside an already chosen one is skipped)."""
    out: dict[int, list[Topic]] = {pid: [] for pid in paper_ids}
    ids = list(dict.fromkeys(paper_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(PaperTopic.paper_id, TopicRow)
            .join(TopicRow, TopicRow.id == PaperTopic.topic_id)
            .where(PaperTopic.paper_id.in_(ids[start:start + 500]))
            .order_by(PaperTopic.paper_id, PaperTopic.weight.desc(), TopicRow.slug)
        ).all()
        for paper_id, row in rows:
            chosen = out[paper_id]
            if len(chosen) >= limit_per_paper:
                continue
            spaced = f"-{row.slug}-"
            if row.kind != "category" and any(f"-{c.slug}-".find(spaced) >= 0 for c in chosen if c.kind != "category"):
                continue
            chosen.append(_topic(row))
    return out


def corpus_end_date(session: Session) -> date | None:
    """The newest paper day (featured day or published date) — "this week" is relative to it."""
    featured = session.scalar(select(func.max(FeaturedPaper.day)))
    published = session.scalar(select(func.max(Paper.submitted_at)).where(Paper.hidden.is_(False)))
    days = [d for d in (featured, published.date() if isinstance(published, datetime) else published) if d]
    return max(days) if days else None


def _count_by_day(session: Session, topic_ids: Sequence[int] | None, start: date, end: date) -> list[tuple]:
    query = select(PaperTopic.topic_id, PaperTopic.day, func.count()).where(PaperTopic.day.between(start, end))
    if topic_ids is not None:
        query = query.where(PaperTopic.topic_id.in_(list(topic_ids)))
    return session.execute(query.group_by(PaperTopic.topic_id, PaperTopic.day)).all()


def topic_series(session: Session, slug: str, *, period: Period = "week",
                 start: date | None = None, end: date | None = None) -> list[tuple[date, int]]:
    """Papers per period (period start, count), zero-filled, oldest first.

    Defaults: ``end`` = :func:`corpus_end_date`; ``start`` = the topic's first
    day, but no earlier than ``DEFAULT_SPAN`` periods before ``end``.
    """
    period_start(date.today(), period)  # validates the period
    row = session.scalar(select(TopicRow).where(TopicRow.slug == slug))
    if row is None:
        return []
    end = end or corpus_end_date(session)
    if end is None:
        return []
    if start is None:
        earliest = shift_periods(period_start(end, period), period, -(DEFAULT_SPAN[period] - 1))
        start = max(row.first_day or end, earliest)
    if start > end:
        return []
    starts = period_starts(start, end, period)
    counts = dict.fromkeys(starts, 0)
    for _tid, day, n in _count_by_day(session, [row.id], starts[0], period_end(starts[-1], period)):
        key = period_start(day, period)
        if key in counts:
            counts[key] += n
    return list(counts.items())


def period_end(start: date, period: Period) -> date:
    return next_period(start, period) - timedelta(days=1)


def _upvotes(paper_id):
    source = (select(func.coalesce(func.max(FeaturedPaper.imported_upvotes), 0))
              .where(FeaturedPaper.paper_id == paper_id).correlate_except(FeaturedPaper).scalar_subquery())
    local = select(func.count()).where(Vote.paper_id == paper_id).correlate_except(Vote).scalar_subquery()
    return source + local


def topic_papers(session: Session, slug: str, *, order: Literal["upvotes", "newest"] = "upvotes",
                 limit: int = 20, offset: int = 0) -> list[Paper]:
    """The topic's visible papers, most upvoted (source + local votes) or newest day first."""
    topic_id = _topic_id(session, slug)
    if topic_id is None:
        return []
    query = (select(Paper).join(PaperTopic, PaperTopic.paper_id == Paper.id)
             .where(PaperTopic.topic_id == topic_id, Paper.hidden.is_(False)))
    if order == "upvotes":
        query = query.order_by(_upvotes(Paper.id).desc(), PaperTopic.day.desc(), Paper.id.desc())
    elif order == "newest":
        query = query.order_by(PaperTopic.day.desc(), Paper.id.desc())
    else:
        raise ValueError(f"unknown order {order!r} (upvotes or newest)")
    return list(session.scalars(query.limit(max(0, limit)).offset(max(0, offset))))


def related_topics(session: Session, slug: str, *, limit: int = 10) -> list[tuple[Topic, int]]:
    """Topics sharing the most papers with this one (count of shared papers)."""
    topic_id = _topic_id(session, slug)
    if topic_id is None:
        return []
    mine, other = aliased(PaperTopic), aliased(PaperTopic)
    shared = func.count().label("shared")
    rows = session.execute(
        select(TopicRow, shared)
        .select_from(mine).join(other, other.paper_id == mine.paper_id)
        .join(TopicRow, TopicRow.id == other.topic_id)
        .where(mine.topic_id == topic_id, other.topic_id != topic_id)
        .group_by(TopicRow.id).order_by(shared.desc(), TopicRow.paper_count.desc(), TopicRow.slug).limit(max(0, limit))
    ).all()
    return [(_topic(row), int(n)) for row, n in rows]


#: Papers (newest first) whose authors :func:`topic_authors` counts.
AUTHOR_SCAN = 5000


def topic_authors(session: Session, slug: str, *, limit: int = 10) -> list[tuple[str, int]]:
    """Authors with the most papers in the topic (among its newest ``AUTHOR_SCAN`` papers)."""
    topic_id = _topic_id(session, slug)
    if topic_id is None:
        return []
    counts: Counter = Counter()
    names: dict[str, str] = {}
    rows = session.scalars(
        select(Paper.authors).join(PaperTopic, PaperTopic.paper_id == Paper.id)
        .where(PaperTopic.topic_id == topic_id, Paper.hidden.is_(False))
        .order_by(PaperTopic.day.desc()).limit(AUTHOR_SCAN)
    )
    for authors in rows:
        for name in dict.fromkeys(a.strip() for a in (authors or []) if isinstance(a, str) and a.strip()):
            folded = " ".join(name.lower().split())
            counts[folded] += 1
            names.setdefault(folded, name)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max(0, limit)]
    return [(names[k], n) for k, n in ranked]


def find_topics(session: Session, text: str, *, limit: int = 10) -> list[Topic]:
    """Topics whose slug or label matches ``text``: exact slug first, then by paper count."""
    text = (text or "").strip()[:200]
    if not text or limit <= 0:
        return []
    key_slug = slug_of_key(term_key(text))
    exact = [s for s in dict.fromkeys((text, key_slug)) if s]
    matches = [TopicRow.slug.in_(exact), func.lower(TopicRow.label).contains(text.lower(), autoescape=True)]
    if key_slug:
        matches.append(TopicRow.slug.contains(key_slug, autoescape=True))
    rows = list(session.scalars(
        select(TopicRow).where(or_(*matches))
        .order_by((TopicRow.slug.in_(exact)).desc(), TopicRow.paper_count.desc(), TopicRow.slug).limit(limit)
    ))
    return [_topic(r) for r in rows]


def topic_counts(session: Session, start: date, end: date, *, kinds: Sequence[str] | None = None) -> Counter:
    """Papers per topic id with a day in [start, end]."""
    query = select(PaperTopic.topic_id, func.count()).where(PaperTopic.day.between(start, end))
    if kinds:
        query = query.join(TopicRow, TopicRow.id == PaperTopic.topic_id).where(TopicRow.kind.in_(list(kinds)))
    return Counter(dict(session.execute(query.group_by(PaperTopic.topic_id)).all()))


def papers_in(session: Session, start: date, end: date) -> int:
    """Visible papers (with or without topics) whose day is in [start, end], as of the last build."""
    return int(session.scalar(select(func.sum(TopicDay.papers)).where(TopicDay.day.between(start, end))) or 0)


def series_of(session: Session, topic_ids: Sequence[int], starts: list[date], period: Period) -> dict[int, list[int]]:
    """Per topic id, its counts for each period in ``starts`` (zero-filled)."""
    out = {tid: [0] * len(starts) for tid in topic_ids}
    if not starts or not topic_ids:
        return out
    position = {s: i for i, s in enumerate(starts)}
    for tid, day, n in _count_by_day(session, topic_ids, starts[0], period_end(starts[-1], period)):
        i = position.get(period_start(day, period))
        if i is not None:
            out[tid][i] += n
    return out


def topics_by_id(session: Session, ids: Sequence[int]) -> dict[int, Topic]:
    if not ids:
        return {}
    return {row.id: _topic(row) for row in session.scalars(select(TopicRow).where(TopicRow.id.in_(list(ids))))}
