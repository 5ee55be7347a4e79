"""The map of papers: deterministic layout, incremental placement, clusters, publishing.

Vectors are synthetic (topics as random directions plus noise) but go through the
real store and the real openTSNE / scikit-learn code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from paperwire.rank import paper_map
from paperwire.rank.map_publish import publish_map
from paperwire.records import PaperRecord
from paperwire.store.embeddings import save_vectors
from paperwire.store.generations import IndexGeneration
from paperwire.store.models import Paper
from paperwire.store.paper_map import MAP, MapPoint, latest_map, load_clusters, load_points
from paperwire.store.papers import upsert_papers

MODEL = "test-map-model"
DIM = 32


def topic_vectors(n: int, topics: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, DIM))
    topic = np.arange(n) % topics
    X = centres[topic] + rng.normal(scale=0.25, size=(n, DIM))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), topic


def add_papers(db, X: np.ndarray, start: int, *, keywords=None, when: datetime | None = None) -> list[int]:
    records = [PaperRecord(title=f"Paper {start + i}", arxiv_id=f"2401.{start + i:05d}", abstract="a",
                           ai_keywords=keywords[i] if keywords else None, source="test") for i in range(len(X))]
    with db.session() as session:
        upsert_papers(session, records)
        ids = [session.scalar(select(Paper.id).where(Paper.arxiv_id == r.arxiv_id)) for r in records]
        save_vectors(session, MODEL, [(pid, "h") for pid in ids], X, when or datetime(2024, 1, 1))
    return ids


def test_layout_is_deterministic_and_separates_topics():
    X, topic = topic_vectors(160)
    first, second = paper_map.layout(X), paper_map.layout(X)
    assert first.shape == (160, 2)
    assert np.array_equal(first, second)
    assert np.abs(first).max() == pytest.approx(paper_map.SPAN)
    # Each topic's points sit closer to their own centre than to other topics' centres.
    centres = np.array([first[topic == t].mean(axis=0) for t in range(4)])
    nearest = ((first[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == topic).mean() > 0.95


def test_tiny_corpora_get_a_linear_layout():
    assert paper_map.layout(np.zeros((0, DIM))).shape == (0, 2)
    assert paper_map.layout(np.ones((1, DIM))).tolist() == [[0.0, 0.0]]
    X, _ = topic_vectors(10)
    assert np.array_equal(paper_map.layout(X), paper_map.pca_layout(X))


def test_new_papers_land_beside_their_neighbours():
    X, topic = topic_vectors(160)
    xy = paper_map.layout(X)
    rng = np.random.default_rng(7)
    new = X[:8] + rng.normal(scale=0.02, size=(8, DIM)).astype(np.float32)  # near papers 0..7
    placed = paper_map.place_new(X, xy, new)
    for i in range(8):
        same_topic = xy[topic == topic[i]]
        spread = np.linalg.norm(same_topic - same_topic.mean(axis=0), axis=1).mean()
        assert np.linalg.norm(placed[i] - same_topic.mean(axis=0)) < 2 * spread


def test_clusters_are_deterministic_and_cover_every_point():
    X, _ = topic_vectors(160)
    xy = paper_map.layout(X)
    labels, centres = paper_map.clusters(xy)
    again, _ = paper_map.clusters(xy)
    assert np.array_equal(labels, again)
    assert len(centres) == paper_map.cluster_count(160) and set(labels) == set(range(len(centres)))


def test_publish_then_incremental_placement_keeps_old_points(db, monkeypatch):
    X, _ = topic_vectors(160)
    keywords = [[f"topic {t}"] for t in np.arange(160) % 4]
    ids = add_papers(db, X, 0, keywords=keywords)
    first = publish_map(db, model=MODEL)
    assert first.built and first.full and first.points == 160
    assert publish_map(db, model=MODEL).built is False  # nothing changed: nothing to do
    with db.session() as session:
        old_ids, old_xy, _ = load_points(session, first.generation)
        labels = {c.label for c in load_clusters(session, first.generation)}
    assert old_ids.tolist() == sorted(ids)
    assert labels <= {f"topic {t}" for t in range(4)} and len(labels) >= 3  # labelled by source keywords

    new_X, _ = topic_vectors(20, seed=3)
    new_ids = add_papers(db, X[:20] * 0.98 + new_X * 0.02, 1000, when=datetime(2024, 1, 2))
    second = publish_map(db, model=MODEL)
    assert second.built and not second.full and second.placed == 20 and second.generation > first.generation
    with db.session() as session:
        now_ids, now_xy, _ = load_points(session, second.generation)
        assert latest_map(session).id == second.generation
    old_rows = np.searchsorted(now_ids, old_ids)
    assert np.array_equal(now_xy[old_rows], old_xy)  # nobody moved
    new_rows = np.searchsorted(now_ids, new_ids)
    twin_rows = np.searchsorted(now_ids, ids[:20])
    gaps = np.linalg.norm(now_xy[new_rows] - now_xy[twin_rows], axis=1)
    assert np.median(gaps) < 0.1 * paper_map.SPAN  # each new paper sits beside the one it resembles

    # Many new papers at once: the whole map is laid out again.
    more, _ = topic_vectors(100, seed=5)
    add_papers(db, more, 2000, when=datetime(2024, 1, 3))
    third = publish_map(db, model=MODEL)
    assert third.built and third.full and third.points == 280
    with db.session() as session:
        kept = session.scalars(select(IndexGeneration.id).where(IndexGeneration.kind == MAP)).all()
        rows = session.scalar(select(func.count()).select_from(MapPoint))
    assert sorted(kept) == [second.generation, third.generation]  # the oldest one is gone, rows too
    assert rows == 180 + 280


def test_the_relayout_threshold_is_a_setting(db, monkeypatch):
    from paperwire.settings import get_settings

    X, _ = topic_vectors(100)
    add_papers(db, X, 0)
    publish_map(db, model=MODEL)
    monkeypatch.setenv("PAPERWIRE_MAP_RELAYOUT_FRACTION", "0.01")
    get_settings.cache_clear()
    extra, _ = topic_vectors(5, seed=9)
    add_papers(db, extra, 500, when=datetime(2024, 1, 1) + timedelta(days=1))
    assert publish_map(db, model=MODEL).full  # 5 new > 1% of 100


def test_hidden_papers_are_not_on_the_map(db):
    from paperwire.store.paper_map import points_in_box

    X, _ = topic_vectors(60)
    ids = add_papers(db, X, 0)
    report = publish_map(db, model=MODEL)
    with db.session() as session:
        session.get(Paper, ids[0]).hidden = True
    with db.session() as session:
        shown = {r[0] for r in points_in_box(session, report.generation, limit=1000)}
    assert ids[0] not in shown and len(shown) == 59


def test_the_map_job_and_cli(db, monkeypatch):
    from typer.testing import CliRunner

    from paperwire.cli import app
    from paperwire.settings import get_settings
    from paperwire.worker.jobs import scheduled_jobs

    job = next(j for j in scheduled_jobs(get_settings()) if j.name == "map")
    assert job.kind == "map" and job.state_key
    monkeypatch.setattr("paperwire.rank.map_publish.default_model", lambda: MODEL)
    X, _ = topic_vectors(60)
    add_papers(db, X, 0)
    assert "laid out" in job.run(db).detail
    assert "is current" in job.run(db).detail
    result = CliRunner().invoke(app, ["map", "rebuild", "--db", get_settings().database_url])
    assert result.exit_code == 0, result.output
    assert "laid out and published (60 papers" in result.output


def test_a_new_topic_index_relabels_the_clusters_without_moving_points(db):
    from paperwire.rank.topics import build_topics, topics_of_papers

    X, topic = topic_vectors(120)
    names = ["diffusion models", "graph neural networks", "speech recognition", "protein folding"]
    ids = add_papers(db, X, 0, keywords=[[names[t]] for t in topic])
    first = publish_map(db, model=MODEL)
    build_topics(db)
    second = publish_map(db, model=MODEL)
    assert second.built and not second.full and second.placed == 0
    with db.session() as session:
        assert np.array_equal(load_points(session, first.generation)[1], load_points(session, second.generation)[1])
        labels = {c.label for c in load_clusters(session, second.generation)}
        topic_labels = {t.label for ts in topics_of_papers(session, ids).values() for t in ts}
    assert topic_labels and labels <= topic_labels
