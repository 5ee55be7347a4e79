"""Parallel embedding backfill: worker processes and a local Ray instance give
the same vectors as a serial embed, store them idempotently, and survive a
failed or killed worker with a consistent database."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.index import vectors
from paperwire.index.backfill import BackfillFailed, backfill, embed_parallel, embed_ray
from paperwire.index.embeddings import get_embedder, paper_text
from paperwire.index.publish import publish_vector_index
from paperwire.records import PaperRecord
from paperwire.store.embeddings import Embedding, count_vectors
from paperwire.store.locks import JobBusy, job_lock
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

ROOT = Path(__file__).resolve().parents[2]
COUNT = 600
BATCH = 64
POISON_ID = 300
WORDS = ("graph neural network transformer protein folding quantum error correction galaxy survey "
         "diffusion model reinforcement learning sparse attention language retrieval benchmark").split()


def poison(ids) -> None:
    """Batch hook (runs in the worker): fail the batch holding paper POISON_ID."""
    if POISON_ID in ids:
        raise RuntimeError("poisoned batch")


def kill_worker(ids) -> None:
    """Batch hook: the worker process dies without a word (like an OOM kill)."""
    if POISON_ID in ids:
        os._exit(9)


@pytest.fixture
def corpus(db):
    rng = random.Random(7)
    records = [
        PaperRecord(title=f"Paper {i}: " + " ".join(rng.choices(WORDS, k=6)),
                    abstract=" ".join(rng.choices(WORDS, k=60)), arxiv_id=f"2401.{i:05d}", source="test")
        for i in range(1, COUNT + 1)
    ]
    with db.session() as session:
        upsert_papers(session, records)
    return db


def _stored(db) -> dict[int, np.ndarray]:
    with db.session() as session:
        rows = session.execute(select(Embedding.paper_id, Embedding.vector)).all()
    return {paper_id: np.frombuffer(blob, dtype=np.float32) for paper_id, blob in rows}


def _assert_consistent(db) -> None:
    """Every stored vector is the embedding of the paper's current text, under its hash."""
    embedder = get_embedder()
    with db.session() as session:
        rows = session.execute(
            select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash, Embedding.content_hash, Embedding.vector)
            .join(Embedding, Embedding.paper_id == Paper.id).order_by(Paper.id)
        ).all()
    assert all(r[3] == r[4] for r in rows)
    if rows:
        expected = embedder.embed([paper_text(r.title, r.abstract) for r in rows])
        stored = np.vstack([np.frombuffer(r.vector, dtype=np.float32) for r in rows])
        assert np.allclose(stored, expected, atol=1e-6)
    published = publish_vector_index(db)
    index = vectors.semantic_index(db)
    assert index.refresh() == published.generation and len(index.vectors) == len(rows)


def test_two_workers_give_the_serial_vectors_and_rerun_embeds_nothing(corpus):
    progress: list[tuple[int, int]] = []
    report = embed_parallel(corpus, workers=2, batch=BATCH, on_progress=lambda d, t: progress.append((d, t)))
    assert report.embedded == COUNT and report.index_size == COUNT
    assert progress[-1] == (COUNT, COUNT) and len(progress) == -(-COUNT // BATCH)
    _assert_consistent(corpus)
    parallel = _stored(corpus)
    # the same database embedded serially, from scratch, gives the same vectors
    assert vectors.embed_all(corpus, rebuild=True).embedded == COUNT
    serial = _stored(corpus)
    assert parallel.keys() == serial.keys()
    assert all(np.allclose(parallel[k], serial[k], atol=1e-6) for k in serial)
    # nothing is stale any more: a second run does no work and starts no pool
    again = embed_parallel(corpus, workers=2, batch=BATCH)
    assert (again.embedded, again.index_size) == (0, COUNT)
    # the published index answers: a paper's own vector finds that paper first
    publish_vector_index(corpus)
    index = vectors.semantic_index(corpus)
    assert index.nearest(serial[42], 1)[0][0] == 42


@pytest.mark.parametrize("hook", [poison, kill_worker], ids=["worker-raises", "worker-killed"])
def test_failed_batch_leaves_a_consistent_db_and_rerun_does_only_the_rest(corpus, hook):
    with pytest.raises(BackfillFailed, match="re-run to embed the rest") as failure:
        embed_parallel(corpus, workers=2, batch=BATCH, hook=hook)
    stored_after_crash = len(_stored(corpus))
    assert failure.value.report.embedded == stored_after_crash < COUNT
    assert POISON_ID not in _stored(corpus)
    _assert_consistent(corpus)
    report = embed_parallel(corpus, workers=2, batch=BATCH)
    assert report.embedded == COUNT - stored_after_crash
    assert report.index_size == COUNT
    _assert_consistent(corpus)


def test_changed_paper_is_re_embedded_in_parallel(corpus):
    embed_parallel(corpus, workers=2, batch=BATCH)
    record = PaperRecord(title="Paper 5: a new title about galaxies", abstract="Entirely new text.",
                         arxiv_id="2401.00005", source="test")
    with corpus.session() as session:
        upsert_papers(session, [record])
    assert embed_parallel(corpus, workers=2, batch=BATCH).embedded == 1
    _assert_consistent(corpus)


def test_one_backfill_at_a_time(corpus):
    model = get_embedder().name
    with job_lock(corpus, f"embed:{model}") as held:
        assert held
        with pytest.raises(JobBusy, match=rf"another embedding backfill \({re.escape(model)}\) is running"):
            backfill(corpus, workers=2)
        result = CliRunner().invoke(app, ["embed", "--workers", "2"])
        assert result.exit_code == 1 and "another embedding backfill" in result.output
    with corpus.session() as session:
        assert count_vectors(session, model) == 0
    result = CliRunner().invoke(app, ["embed", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert f"{COUNT} papers embedded" in result.output


def test_bad_arguments_are_refused(corpus):
    with pytest.raises(ValueError, match="workers must be at least 1"):
        embed_parallel(corpus, workers=0)
    result = CliRunner().invoke(app, ["embed", "--workers", "0"])
    assert result.exit_code == 2


# -- Ray -------------------------------------------------------------------------
RAY_HEAD = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.readline()
ray.shutdown()
"""


@pytest.fixture(scope="module")
def ray_address():
    """A local Ray instance started by the test in its own process; its address."""
    # Ray >= 2.5x requires a token to connect by address: a throwaway one for
    # this instance, given to the head and to this (driver) process.
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": uuid.uuid4().hex}
    saved = {name: os.environ.get(name) for name in auth}
    os.environ.update(auth)
    pytest.importorskip("ray", reason="Ray is an optional extra (pip install 'paperwire[ray]')")
    proc = subprocess.Popen([sys.executable, "-c", RAY_HEAD], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        pytest.fail("the local Ray instance did not start")
    yield address
    proc.stdin.close()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_ray_backfill_end_to_end_and_idempotent(corpus, ray_address):
    report = embed_ray(corpus, address=ray_address, batch=BATCH)
    assert report.embedded == COUNT and report.index_size == COUNT
    _assert_consistent(corpus)
    assert embed_ray(corpus, address=ray_address, batch=BATCH).embedded == 0
    # as after a failure: some vectors missing, a re-run embeds only those
    with corpus.session() as session:
        session.execute(delete(Embedding).where(Embedding.paper_id.in_(range(100, 160))))
    assert embed_ray(corpus, address=ray_address, batch=BATCH).embedded == 60
    _assert_consistent(corpus)
