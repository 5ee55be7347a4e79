"""Weekly and monthly "Previous"/"Next" go to the nearest period that has
papers: never to an empty period, never past the latest one (issue 14)."""

from __future__ import annotations

import re
from datetime import date, datetime

from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers


def _links(html: str) -> tuple[str | None, str | None]:
    prev = re.search(r'href="([^"]+)" rel="prev"', html)
    nxt = re.search(r'href="([^"]+)" rel="next"', html)
    return (prev[1] if prev else None), (nxt[1] if nxt else None)


def _feature(db, arxiv_id: str, day: date) -> None:
    with db.session() as session:
        upsert_papers(session, [PaperRecord(title=f"Paper {arxiv_id}", arxiv_id=arxiv_id, abstract="Text.",
                                            authors=["A. Author"], categories=["cs.LG"],
                                            submitted=datetime(2023, 1, 1), featured_on=day, source="test")])


def test_week_links_skip_empty_weeks_and_stop_at_the_latest(site_db, client):
    _feature(site_db, "2301.00001", date(2024, 1, 3))  # 2024-W01, ten weeks before the seeded ones
    prev, nxt = _links(client.get("/week/2024-W11").text)  # the seeded days are in W11
    assert prev == "/week/2024-W01"
    assert nxt is None
    prev, nxt = _links(client.get("/week/2024-W01").text)
    assert prev is None
    assert nxt == "/week/2024-W11"
    # From an empty week in between, both neighbours are weeks with papers.
    assert _links(client.get("/week/2024-W05").text) == ("/week/2024-W01", "/week/2024-W11")


def test_month_links_skip_empty_months_and_stop_at_the_latest(site_db, client):
    _feature(site_db, "2301.00002", date(2023, 10, 20))
    assert _links(client.get("/month/2024-03").text) == ("/month/2023-10", None)
    assert _links(client.get("/month/2023-10").text) == (None, "/month/2024-03")


def test_day_links_unchanged(client):
    assert _links(client.get("/date/2024-03-13").text) == ("/date/2024-03-11", None)
