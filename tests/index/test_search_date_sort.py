"""Sorting semantic and hybrid results by date: papers with and without a date
mix (one sort-key type), never ``TypeError: can't compare datetime to date``."""

from __future__ import annotations

import pytest

from paperwire.demo import load_demo
from paperwire.index import vectors
from paperwire.index.publish import publish_vector_index
from paperwire.index.search import search
from paperwire.records import PaperRecord
from paperwire.store.papers import published_date, upsert_papers


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_sort_by_date_with_undated_papers(db, mode):
    load_demo(db, log=lambda *_: None)
    undated = PaperRecord(title="Learning rate schedules for neural network training",
                          abstract="Step size schedules for training deep neural networks.", source="test")
    with db.session() as s:
        changed = upsert_papers(s, [undated]).changed_ids
    vectors.embed_paper_ids(db, changed)
    publish_vector_index(db)  # what the worker's index job does after new vectors
    results = search(db, "neural network training", mode=mode, sort="date", limit=1000)
    titles = [h.paper.title for h in results.hits]
    assert undated.title in titles
    dates = [published_date(h.paper) for h in results.hits]
    known = [d for d in dates if d is not None]
    assert dates == known + [None] * (len(dates) - len(known))  # undated papers sort last
    assert known == sorted(known, reverse=True)
