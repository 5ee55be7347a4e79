"""A small dated corpus for the topic pages: eight weeks of graph papers, then a week where
diffusion models rise, and the topic index built from it the way the worker builds it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers

#: Monday of the last week; the corpus ends on its Wednesday.
LAST_MONDAY = date(2025, 11, 24)
WEEKS = 8
#: Papers of the rising topic in the last week (and one in each earlier week).
RISING_LAST_WEEK = 12
XSS = '<script>window.__pwned=1</script>'


def topic_records() -> list[PaperRecord]:
    records: list[PaperRecord] = []
    n = 0
    for week in range(WEEKS):
        monday = LAST_MONDAY - timedelta(weeks=WEEKS - 1 - week)
        last = week == WEEKS - 1
        for i in range(6):  # the steady background: graph neural networks in cs.LG
            n += 1
            day = monday + timedelta(days=i % 3)
            records.append(PaperRecord(
                title=f"Graph neural networks for molecules, part {n}", arxiv_id=f"2511.{n:05d}",
                abstract="We study graph neural networks on molecular graphs and message passing.",
                authors=["Grace Hopper", f"Author {n}"], categories=["cs.LG"], submitted=datetime(2025, 9, 1),
                featured_on=day, upvotes=n, source="test", ai_keywords=["graph neural networks", "message passing"]))
        for i in range(RISING_LAST_WEEK if last else 1):
            n += 1
            day = monday + timedelta(days=i % 3)
            records.append(PaperRecord(
                title=f"Diffusion models for image editing, study {n}", arxiv_id=f"2511.{n:05d}",
                abstract="Diffusion models edit images; we train diffusion models with guidance.",
                authors=["Ada Lovelace", f"Author {n}"], categories=["cs.CV"], submitted=datetime(2025, 9, 1),
                featured_on=day, upvotes=100 + n, source="test", ai_keywords=["diffusion models", "image editing"]))
    n += 1
    records.append(PaperRecord(
        title="Title " + XSS, arxiv_id=f"2511.{n:05d}", abstract="Abstract " + XSS, authors=["Eve " + XSS],
        categories=["cs.CR"], featured_on=LAST_MONDAY, upvotes=1, source="test", ai_keywords=["security " + XSS]))
    return records


def seed_topics(db) -> None:
    """Store the corpus and build the topic index (the worker's ``topics`` job does this)."""
    with db.session() as session:
        upsert_papers(session, topic_records())
    build_topic_index(db)


def build_topic_index(db) -> None:
    """Bring the topic tables in step with the papers, as the worker's ``topics`` job does."""
    from paperwire.rank.topics import build_topics

    build_topics(db, force=True)
