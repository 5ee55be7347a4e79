"""Per-query work after the index: counts for a whole result page in a fixed
number of queries (not several per hit), with the same numbers as the
one-paper functions."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from paperwire.store.community import (
    add_comment, comment_count, comment_counts, create_user, upvote_count, upvote_counts, vote,
)
from paperwire.store.models import Paper
from paperwire.web.app import create_app
from tests.web.conftest import seed


def _community(db) -> list[int]:
    seed(db)
    with db.session() as session:
        papers = list(session.scalars(select(Paper).order_by(Paper.id)))
        ann, bob = create_user(session, "ann", "ann-password"), create_user(session, "bob", "bob-password")
        vote(session, ann, papers[0])
        vote(session, bob, papers[0])
        vote(session, bob, papers[1])
        add_comment(session, ann, papers[1], "Nice.")
        add_comment(session, bob, papers[1], "Agreed.")
        return [p.id for p in papers]


def test_batched_counts_equal_the_one_paper_counts(db):
    ids = _community(db)
    with db.session() as session:
        upvotes, comments = upvote_counts(session, ids + [999_999]), comment_counts(session, ids)
        for paper in session.scalars(select(Paper)):
            assert upvotes[paper.id] == upvote_count(session, paper)
            assert comments[paper.id] == comment_count(session, paper)
        assert upvotes[999_999] == 0 and upvote_counts(session, []) == {} and comment_counts(session, []) == {}
        assert upvotes[ids[0]] == 12 + 2  # imported upvotes plus the two cast here


@contextmanager
def _counting(db):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_search_api_does_not_query_per_hit(db):
    _community(db)
    with TestClient(create_app(db)) as client:
        client.get("/api/papers/search?q=the&mode=lexical")  # warm-up: settings, migrations check
        with _counting(db) as one:
            assert len(client.get("/api/papers/search?q=sparse&mode=lexical").json()) == 1
        with _counting(db) as three:
            body = client.get("/api/papers/search?q=cat:cs&mode=lexical").json()
        assert len(body) == 3
        assert len(three) <= len(one)  # three hits cost no more queries than one (was four more per hit)
        assert {row["paper"]["upvotes"] for row in body} >= {14, 31}
