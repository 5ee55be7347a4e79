"""Library terms of "For you": lexical closeness to the library and its authors.

On the real Kaggle sample with the real store, embedder and TF-IDF index: a new
paper by an author of the user's library outranks the same paper by a stranger."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from paperwire.index.tfidf import build_matrix, publish_tfidf_index
from paperwire.index.vectors import embed_all
from paperwire.rank import recommend as rec
from paperwire.rank.library_terms import author_score, author_shares, lexical_library, pool_authors
from paperwire.rank.vector_matrix import VectorMatrix
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, vote
from paperwire.store.models import Paper

TEXTS = {
    1: "Lattice gauge theory simulations of quantum chromodynamics confinement",
    2: "Protein folding with graph neural networks and molecular dynamics",
    3: "Confinement in lattice gauge theory: quantum chromodynamics string tension",
    4: "Graph neural networks predict protein folding from molecular dynamics",
    5: "A survey of weather forecasting with satellites",
}


def test_lexical_terms_match_brute_force_cosines():
    ids = np.asarray(sorted(TEXTS), dtype=np.int64)
    matrix = VectorMatrix("test", ids, np.eye(5, dtype=np.float32))
    lexical = build_matrix(list(TEXTS), list(TEXTS.values()))
    terms = lexical_library(matrix, lexical, [1, 2])
    L = lexical.X.toarray()
    mean = L[:2].mean(axis=0)
    assert np.allclose(terms.centroid, L @ (mean / np.linalg.norm(mean)), atol=1e-5)
    assert np.allclose(terms.nearest, (L[:2] @ L.T).max(axis=0), atol=1e-5)
    # the nearest library paper sees each topic; the centroid sits between them
    assert terms.nearest[2] > terms.centroid[2] and terms.nearest[4] < 0.1
    assert not lexical_library(matrix, None, [1, 2]).nearest.any()
    assert not lexical_library(matrix, lexical, []).centroid.any()


def test_author_shares_score_and_pool():
    shares = author_shares([["Ada Lovelace", "Bob Byte"], ["ada lovelace"], ["Carl Gauss"], []])
    assert shares["ada lovelace"] == pytest.approx(0.5) and shares["carl gauss"] == pytest.approx(0.25)
    assert author_score(["Grace Hopper", "ADA LOVELACE"], shares) == pytest.approx(0.5)
    assert author_score(["Grace Hopper"], shares) == 0.0 and author_score([], shares) == 0.0
    assert pool_authors(shares, 2) == ["ada lovelace", "bob byte"]
    assert author_shares([]) == {}


def _record(arxiv_id: str, title: str, abstract: str, authors: str) -> dict:
    return {"id": arxiv_id, "authors": authors, "title": title, "abstract": abstract,
            "categories": "math.AG", "update_date": "2024-05-01",
            "versions": [{"version": "v1", "created": "Wed, 1 May 2024 10:00:00 GMT"}]}


def test_a_paper_by_a_library_author_outranks_the_same_paper_by_a_stranger(db, kaggle_sample, tmp_path, monkeypatch):
    import_items(db, read_path(kaggle_sample))
    with db.session() as session:
        maths = session.execute(select(Paper.title, Paper.abstract).where(Paper.primary_category.like("math%"))
                                .order_by(Paper.id).limit(5)).all()
    extra = [_record(f"2405.0000{i}", t, a, "Ada Lovelace, Bob Byte") for i, (t, a) in enumerate(maths[:4])]
    title, abstract = maths[4]
    extra += [_record("2405.00010", "On " + title, abstract, "Grace Hopper"),
              _record("2405.00011", "On " + title, abstract, "Ada Lovelace")]
    path = tmp_path / "extra.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in extra) + "\n")
    import_items(db, read_path(path))
    embed_all(db)
    publish_tfidf_index(db)
    rec.clear_model_cache()
    with db.session() as session:
        by_arxiv = dict(session.execute(select(Paper.arxiv_id, Paper.id)).all())
        user = create_user(session, "ada_fan", "a-long-password")
        for i in range(4):
            vote(session, user, session.get(Paper, by_arxiv[f"2405.0000{i}"]))
        stranger, author = by_arxiv["2405.00010"], by_arxiv["2405.00011"]

    def scores() -> dict[int, float]:
        with db.session() as session:
            return {r.paper.id: r.score for r in rec.recommend(session, user.id, limit=500, with_reasons=False)}

    assert rec.AUTHOR_WEIGHT > 0
    ranked = scores()
    assert ranked[author] > ranked[stranger]
    assert list(ranked).index(author) < list(ranked).index(stranger)
    monkeypatch.setattr(rec, "AUTHOR_WEIGHT", 0.0)
    rec.clear_model_cache()
    plain = scores()
    assert plain[author] == pytest.approx(plain[stranger], abs=1e-4)  # only the authors differ
