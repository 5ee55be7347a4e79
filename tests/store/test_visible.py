"""Which papers are visible (store.visible): pages load rows, candidate lists read a small index.

Semantic and hybrid search check a few hundred candidate ids per query (the
vector index may predate a hide or a delete). On SQLite a paper's row holds
its abstract, so the ``hidden`` flag sits behind it, often on an overflow
page: at 1M papers, 200 random ids cost 6.5-9 ms read from the table against
0.6 ms from the covering index ``ix_papers_filter`` (id, hidden, ...).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select, update

from paperwire.records import PaperRecord, PaperVersion
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from paperwire.store.visible import visible_ids, visible_papers


def _add(db, count: int) -> list[int]:
    day = datetime(2024, 5, 1)
    records = [PaperRecord(title=f"Paper number {n} on graphs", abstract="An abstract. " * 200,
                           arxiv_id=f"2405.{n:05d}", authors=["Ann Author"], categories=["cs.LG"],
                           submitted=day, versions=[PaperVersion(1, day)], source="test") for n in range(count)]
    with db.session() as session:
        upsert_papers(session, records)
    with db.session() as session:
        return sorted(session.scalars(select(Paper.id)))


def test_hidden_and_missing_ids_are_not_visible(db):
    ids = _add(db, 6)
    with db.session() as session:
        session.execute(update(Paper).where(Paper.id.in_(ids[:2])).values(hidden=True))
    with db.read_session() as session:
        assert visible_ids(session, ids + [10**9]) == set(ids[2:])
        assert visible_ids(session, []) == set()


def test_a_result_page_gets_its_visible_papers_in_one_query(db):
    ids = _add(db, 6)
    with db.session() as session:
        session.execute(update(Paper).where(Paper.id == ids[0]).values(hidden=True))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.read_session() as session:
            found = visible_papers(session, [ids[3], ids[0], 10**9, ids[5], ids[3]])
            assert sorted(found) == sorted([ids[3], ids[5]])
            assert all(isinstance(p, Paper) and p.id == pid and p.title.startswith("Paper number")
                       for pid, p in found.items())
            assert visible_papers(session, []) == {}
            # The ids travel as one bound value, whatever their number: the same SQL text.
            visible_papers(session, ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    papers_queries = [s for s in statements if "FROM papers" in s]
    assert len(papers_queries) == 2 and papers_queries[0] == papers_queries[1], papers_queries


def test_sqlite_reads_the_covering_index_not_the_rows(db):
    if db.dialect != "sqlite":
        pytest.skip("the covering index is SQLite's; PostgreSQL keeps long abstracts out of line (TOAST)")
    ids = _add(db, 5)
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "papers" in statement and not plans:
            rows = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plans.append(" | ".join(str(row[-1]) for row in rows))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        with db.read_session() as session:
            assert visible_ids(session, ids) == set(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    assert plans and "COVERING INDEX ix_papers_filter" in plans[0], plans
