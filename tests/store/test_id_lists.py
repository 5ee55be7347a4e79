"""``id_in``: many ids bound as one value, the same rows as an ``IN`` list, on both backends."""

from __future__ import annotations

from sqlalchemy import select

from paperwire.records import PaperRecord
from paperwire.store.id_lists import id_in
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers


def test_id_in_selects_exactly_the_listed_papers(db):
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title=f"Paper {n}", arxiv_id=f"2401.{n:05d}", abstract="x", source="test")
                                for n in range(30)])
    with db.read_session() as session:
        ids = sorted(session.scalars(select(Paper.id)))
        wanted = ids[::3] + [10**12]  # one id that does not exist
        found = set(session.scalars(select(Paper.id).where(id_in(session, Paper.id, wanted))))
        assert found == set(ids[::3])
        assert not list(session.scalars(select(Paper.id).where(id_in(session, Paper.id, []))))
        many = list(range(1, 20_000))  # far past SQLite's 999-variable limit of old builds: still one parameter
        assert set(session.scalars(select(Paper.id).where(id_in(session, Paper.id, many)))) == set(ids)
