"""Reasons read as words, never function words (issue 14: "Mentions theories,
all, gauge"): the "terms" reason names only content words, quoted."""

from __future__ import annotations

import re

from paperwire.index.vectors import embed_all
from paperwire.rank import recommend as rec
from paperwire.rank.explain import PLAIN_WORDS
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, vote
from paperwire.store.models import Paper


def test_terms_reasons_name_no_stop_words(db, kaggle_sample):
    import_items(db, read_path(kaggle_sample))
    embed_all(db)
    rec.clear_model_cache()
    with db.session() as session:
        user = create_user(session, "reader", "a-long-password")
        for paper in session.query(Paper).order_by(Paper.id).limit(8):
            vote(session, user, paper)
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=20)
    labels = [x.label for r in recs for x in r.reasons if x.kind == "terms"]
    assert labels, "expected some 'Mentions …' reasons"
    for label in labels:
        words = re.findall(r"“([^”]+)”", label)
        assert words, label
        assert not set(words) & PLAIN_WORDS, label
        assert label.startswith("Mentions “") and label.endswith(", words from papers you liked")
    rec.clear_model_cache()


def test_common_function_words_are_listed():
    assert {"all", "the", "which", "these", "using"} <= PLAIN_WORDS
