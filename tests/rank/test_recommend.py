"""The per-user model on the real Kaggle sample (200 papers with arXiv
categories), real embeddings and the real store: signals change the list,
the cache retrains only on change, exclusions and dismissals always hold."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from paperwire.index.vectors import embed_all
from paperwire.rank import recommend as rec
from paperwire.rank.usermodel import fit_logistic
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.community import create_user, vote
from paperwire.store.library import add_exclusion, dismiss, follow, save_paper
from paperwire.store.models import Paper


@pytest.fixture
def labelled(db, kaggle_sample):
    """(db, {archive: [paper ids]}) with every paper embedded."""
    import_items(db, read_path(kaggle_sample))
    embed_all(db)
    rec.clear_model_cache()
    by_archive: dict[str, list[int]] = {}
    with db.session() as session:
        for pid, cat in session.execute(select(Paper.id, Paper.primary_category).order_by(Paper.id)):
            by_archive.setdefault(cat.split(".")[0], []).append(pid)
    return db, by_archive


def _user(db, name):
    with db.session() as session:
        return create_user(session, name, "a-long-password")


def _signal(db, user, *, up=(), down=()):
    """Upvote ``up`` and dismiss ``down`` (paper ids) as ``user``."""
    with db.session() as session:
        for pid in up:
            vote(session, user, session.get(Paper, pid))
        for pid in down:
            dismiss(session, user.id, pid)


def _archive_share(db, recs, archives, by_archive) -> float:
    wanted = {pid for a in archives for pid in by_archive[a]}
    return sum(r.paper.id in wanted for r in recs) / len(recs)


def test_upvotes_and_dismissals_steer_the_list(labelled):
    db, by_archive = labelled
    user = _user(db, "theorist")
    _signal(db, user, up=by_archive["math"][:6], down=by_archive["cond-mat"][:3])
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=10)
    assert len(recs) == 10 and all(r.source == "model" for r in recs)
    base_rate = len(by_archive["math"]) / sum(map(len, by_archive.values()))
    assert _archive_share(db, recs, ["math"], by_archive) >= 0.6 > base_rate
    shown = {r.paper.id for r in recs}
    assert not shown & set(by_archive["math"][:6]) and not shown & set(by_archive["cond-mat"][:3])
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)

    # Change of taste: the list follows.
    with db.session() as session:
        for pid in by_archive["astro-ph"][:8]:
            save_paper(session, user.id, pid)
        for pid in by_archive["math"][:6]:
            dismiss(session, user.id, pid)
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=10)
    assert _archive_share(db, recs, ["astro-ph"], by_archive) >= 0.5


def test_model_is_cached_until_signals_change(labelled):
    db, by_archive = labelled
    user = _user(db, "cachey")
    with db.session() as session:
        for pid in by_archive["hep-ph"][:4]:
            vote(session, user, session.get(Paper, pid))
    start = rec.TRAINING_COUNT
    with db.session() as session:
        first = [r.paper.id for r in rec.recommend(session, user.id, limit=5)]
        again = [r.paper.id for r in rec.recommend(session, user.id, limit=5)]
    assert rec.TRAINING_COUNT == start + 1 and first == again
    with db.session() as session:
        dismiss(session, user.id, first[0])
    with db.session() as session:
        after = [r.paper.id for r in rec.recommend(session, user.id, limit=5)]
    assert rec.TRAINING_COUNT == start + 2 and first[0] not in after


def test_exclusions_and_hidden_papers_never_appear(labelled):
    db, by_archive = labelled
    user = _user(db, "picky")
    with db.session() as session:
        for pid in by_archive["hep-th"][:5]:
            vote(session, user, session.get(Paper, pid))
        add_exclusion(session, user.id, "category", "hep-ph")
        add_exclusion(session, user.id, "word", "string")
        hidden = session.get(Paper, by_archive["hep-th"][6])
        hidden.hidden = True
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=60)
    assert recs
    for r in recs:
        assert not any(c.startswith("hep-ph") for c in r.paper.category_list)
        assert "string" not in (r.paper.title + r.paper.abstract).lower()
        assert not r.paper.hidden


def test_reasons_name_the_nearest_library_papers_and_follows(labelled):
    db, by_archive = labelled
    user = _user(db, "explained")
    with db.session() as session:
        liked = by_archive["astro-ph"][:5]
        for pid in liked:
            save_paper(session, user.id, pid)
        follow(session, user.id, "category", "astro-ph")
        uids = set(session.scalars(select(Paper.uid).where(Paper.id.in_(liked))))
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=5)
    similar = [x for r in recs for x in r.reasons if x.kind == "similar"]
    assert similar and all(x.uid in uids and 0.2 <= x.similarity <= 1 for x in similar)
    follows = [r for r in recs if any(x.kind == "follow" for x in r.reasons)]
    assert follows and all(any(c.startswith("astro-ph") for c in r.paper.category_list) for r in follows)


def test_cold_start_popular_then_follows_only(labelled):
    db, by_archive = labelled
    user = _user(db, "newbie")
    with db.session() as session:
        assert rec.recommend(session, user.id) == []  # no featured papers in this corpus, nothing popular
        follow(session, user.id, "category", "cond-mat")
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=10)
    assert len(recs) == 10 and _archive_share(db, recs, ["cond-mat"], by_archive) >= 0.8


def test_trending_for_me_blend(db):
    """On featured papers: the documented formula, and a liked topic rises."""
    from tests.web.conftest import seed

    seed(db)
    site_db = db
    embed_all(site_db)
    rec.clear_model_cache()
    user = _user(site_db, "blender")
    with site_db.session() as session:
        popular = rec.recommend(session, user.id)
        assert [r.source for r in popular] == ["popular"] * 3 and popular[0].paper.uid == "2403.00002"
        assert rec.recommend_for_user(session, user.id) == []  # digests get personal picks only
        plain = rec.trending_for_me(session, user.id)
        assert [round(r.personal, 3) for r in plain] == [0.5] * len(plain)
        assert [r.paper.uid for r in plain] == ["2403.00002", "2403.00001", "2403.00003"]
        vote(session, user, session.get(Paper, plain[1].paper.id))
    with site_db.session() as session:
        rows = rec.trending_for_me(session, user.id)
    for r in rows:
        assert r.score == pytest.approx(0.5 * r.trend + 0.5 * r.personal, abs=1e-6)
    assert [r.score for r in rows] == sorted((r.score for r in rows), reverse=True)
    liked = next(r for r in rows if r.paper.uid == "2403.00001")
    assert liked.personal == max(r.personal for r in rows) > min(r.personal for r in rows)


def test_logistic_regression_wide_path_matches_direct_solution():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 80))
    y = (X[:, 0] + 0.3 * rng.normal(size=30) > 0).astype(float)
    w = rng.uniform(0.5, 2.0, size=30)
    wide = fit_logistic(X, y, w, l2=1.0, iters=50)
    # The same objective minimised by plain Newton in the primal (80+1 unknowns).
    Xb = np.hstack([X, np.full((30, 1), 10.0)])
    theta = np.zeros(81)
    for _ in range(50):
        p = 1 / (1 + np.exp(-Xb @ theta))
        grad = Xb.T @ (w * (p - y)) + theta
        theta -= np.linalg.solve((Xb * (w * p * (1 - p))[:, None]).T @ Xb + np.eye(81), grad)
    assert np.allclose(wide.w, theta[:-1], atol=1e-4) and wide.b == pytest.approx(theta[-1] * 10, abs=1e-3)
    assert ((wide.logits(X.astype(np.float32)) > 0) == (y > 0)).mean() > 0.9


def test_demo_library_gives_the_demo_user_personal_picks(labelled):
    from paperwire.rank.demo_library import load_demo_library

    db, by_archive = labelled
    assert "does not exist" in load_demo_library(db)
    user = _user(db, "ada")
    assert "saved 5 hep-th papers" in load_demo_library(db)
    assert "saved 0 hep-th papers" in load_demo_library(db)  # idempotent
    with db.session() as session:
        recs = rec.recommend(session, user.id, limit=10)
    assert recs and all(r.source == "model" for r in recs)


def test_pages_follow_one_order(labelled):
    """Label spreading re-orders the candidates; pages must still be slices of one list."""
    db, by_archive = labelled
    user = _user(db, "pager")
    _signal(db, user, up=by_archive["cond-mat"][:5], down=by_archive["math"][:1])
    with db.session() as session:
        whole = rec.recommend(session, user.id, limit=30, with_reasons=False)
        pages = [rec.recommend(session, user.id, limit=10, offset=o, with_reasons=False) for o in (0, 10, 20)]
    assert [r.paper.id for r in whole] == [r.paper.id for page in pages for r in page]
    scores = [r.score for r in whole]
    assert scores == sorted(scores, reverse=True)
