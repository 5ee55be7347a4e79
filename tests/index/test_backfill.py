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


# -- one core per worker, offline ---------------------------------------------------
def assert_one_thread(ids) -> None:
    """Batch hook (runs in the worker): the embedder it uses runs onnxruntime on one thread."""
    from paperwire.index.backfill import WORKER_THREADS
    from paperwire.settings import get_settings

    embedder = get_embedder(get_settings().embedder, threads=WORKER_THREADS)
    onnx = getattr(embedder, "inner", embedder)
    options = onnx.session.get_session_options()
    if (options.intra_op_num_threads, options.inter_op_num_threads) != (1, 1):
        raise RuntimeError(f"worker runs {options.intra_op_num_threads} intra-op threads")


def test_each_worker_embeds_on_one_thread(corpus):
    report = embed_parallel(corpus, workers=2, batch=BATCH, hook=assert_one_thread)
    assert report.embedded == COUNT
    assert 0 < report.write_seconds < report.seconds  # the driver times its own writes
    assert "writing" in report.summary() and "papers/s" in report.summary()


def test_threads_setting_reaches_onnxruntime():
    one = get_embedder("paperwire-minilm-v1", threads=1)
    onnx = getattr(one, "inner", one)
    assert onnx.threads == 1 and onnx.session.get_session_options().intra_op_num_threads == 1
    assert get_embedder("paperwire-minilm-v1", threads=1) is one  # loaded once per process
    with pytest.raises(ValueError, match="threads must be at least 1"):
        get_embedder("paperwire-minilm-v1", threads=0)


def test_one_and_two_workers_store_identical_vectors(corpus):
    """``paperwire embed`` with 1 worker (in-process) and with 2 (one thread each)."""
    assert backfill(corpus, workers=1).embedded == COUNT
    serial = _stored(corpus)
    assert backfill(corpus, workers=2, rebuild=True).embedded == COUNT
    parallel = _stored(corpus)
    assert serial.keys() == parallel.keys()
    assert all(np.array_equal(serial[k], parallel[k]) for k in serial)


SOCKET_GUARD = '''
import socket
_connect = socket.socket.connect
def _refuse(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"outbound connection to {address!r} attempted with nothing to download")
    return _connect(self, address, *args)
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
'''


def test_backfill_runs_offline_with_nothing_downloaded(corpus, tmp_path):
    """``paperwire embed --workers 2`` in a fresh process tree with an empty HOME and
    caches, HF offline and every outbound connection refused (the guard loads in
    the spawned workers too, through ``sitecustomize``), embedding cache off."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD)
    home = tmp_path / "empty-home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PAPERWIRE_EMBEDDING_CACHE_DIR"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), HF_HOME=str(home / "hf"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(guard), str(ROOT / "src"), env.get("PYTHONPATH", "")]))
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert "outbound connection" in probe.stderr  # the guard is really in place
    done = subprocess.run([sys.executable, "-m", "paperwire", "embed", "--workers", "2"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"{COUNT} papers embedded" in " ".join((done.stdout + done.stderr).split())
    # nothing was downloaded or cached; onnxruntime itself writes a small device id file
    left = [p for p in home.rglob("*") if p.is_file() and ".onnxruntime" not in p.parts]
    assert not left, left
    assert all(p.stat().st_size < 200_000 for p in home.rglob("*") if p.is_file())
    _assert_consistent(corpus)


def test_in_process_backfill_runs_one_thread_and_gives_the_same_vectors(corpus):
    """``paperwire embed`` (1 worker) embeds in this process on one thread: the same
    vectors as onnxruntime's default threads (``embed_all``)."""
    from paperwire.index.backfill import embed_in_process

    report = embed_in_process(corpus, batch=BATCH)
    assert report.embedded == COUNT and report.index_size == COUNT
    one_thread = _stored(corpus)
    assert vectors.embed_all(corpus, rebuild=True).embedded == COUNT
    default = _stored(corpus)
    assert all(np.array_equal(one_thread[k], default[k]) for k in default)
    _assert_consistent(corpus)
    assert embed_in_process(corpus, batch=BATCH).embedded == 0
