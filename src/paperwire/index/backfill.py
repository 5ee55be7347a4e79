"""Embedding backfill in parallel: worker processes on this machine, or Ray tasks.

Only the embedding itself is farmed out. The driver (this process) lists the
stale papers, reads their text in batches, sends ``(ids, texts)`` to the
workers, and writes each returned batch back in its own transaction with the
content hash it read alongside the text. Writes are therefore idempotent and
a crash at any point leaves the database consistent: finished batches are
stored, the rest are still stale, and a re-run embeds only those. At the end
the driver publishes a new index generation (:mod:`paperwire.index.publish`);
if it dies first, the worker's ``index-publish`` job does it.

At most ``2 × workers`` batches are in flight, so memory stays bounded on any
corpus size. Each worker process (and each Ray task) runs onnxruntime with one
intra-op thread: N workers then use N cores, where N processes each starting
a thread per core would fight over them and not scale. The report says how
much of the wall time the driver spent writing (``write_seconds``), which is
what would cap the scaling if the single writer ever became the bottleneck.
Ray is an optional extra (``pip install 'paperwire[ray]'``).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from paperwire.index.embeddings import get_embedder, paper_text
from paperwire.index.publish import publish_vector_index
from paperwire.index.vectors import EmbedReport, SemanticIndex, semantic_index
from paperwire.store.db import Database
from paperwire.store.embeddings import Embedding, count_vectors, save_vectors, stale_paper_ids
from paperwire.store.locks import JobBusy, busy_message, job_lock
from paperwire.store.models import Paper
from paperwire.store.papers import utcnow

#: Papers per batch: one worker task and one write transaction (small enough that
#: the last batches do not leave workers idle on a small backlog).
DEFAULT_BATCH = 256
#: Called in the worker with a batch's paper ids before it is embedded (tests
#: use it to poison a batch); must be a picklable module-level function.
BatchHook = Callable[[Sequence[int]], None]
Progress = Callable[[int, int], None]


class BackfillFailed(RuntimeError):
    """A batch failed; what finished before it is stored (see ``report``)."""

    def __init__(self, message: str, report: EmbedReport):
        super().__init__(message)
        self.report = report


# -- worker side ------------------------------------------------------------
#: Intra-op threads of each parallel worker: one core per process.
WORKER_THREADS = 1


def embed_batch(embedder_name: str, ids: Sequence[int], texts: Sequence[str],
                hook: BatchHook | None = None, threads: int | None = WORKER_THREADS) -> np.ndarray:
    """Embed one batch (runs in a worker; the embedder is loaded once per process)."""
    if hook is not None:
        hook(ids)
    return get_embedder(embedder_name, threads=threads).embed(texts)


def _warm_up(embedder_name: str, threads: int | None = WORKER_THREADS) -> None:
    get_embedder(embedder_name, threads=threads)


# -- driver side -------------------------------------------------------------
def _prepare(db: Database, rebuild: bool) -> tuple[SemanticIndex, list[int]]:
    index = semantic_index(db)
    if rebuild:
        with db.session() as session:
            session.execute(delete(Embedding).where(Embedding.model == index.embedder.name))
    with db.session() as session:
        todo = stale_paper_ids(session, index.embedder.name)
    return index, todo


def _batches(db: Database, todo: list[int], size: int) -> Iterator[tuple[list[int], list[str], list[str]]]:
    """(ids, content hashes, texts) of the stale papers, read lazily batch by batch."""
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        with db.session() as session:
            rows = session.execute(
                select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash).where(Paper.id.in_(chunk))
            ).all()
        if rows:
            yield [r.id for r in rows], [r.content_hash for r in rows], [paper_text(r.title, r.abstract) for r in rows]


def _drive(db: Database, index: SemanticIndex, todo: list[int], *, batch: int, in_flight: int,
           submit: Callable[[list[int], list[str]], Any], wait_done: Callable[[list[Any]], list[Any]],
           result: Callable[[Any], np.ndarray], on_progress: Progress | None) -> EmbedReport:
    """Keep ``in_flight`` batches submitted; store each result as it arrives."""
    if batch < 1 or in_flight < 1:
        raise ValueError("batch and the number of workers must be positive")
    report = EmbedReport(model=index.embedder.name)
    started = time.perf_counter()
    pending: dict[Any, tuple[list[int], list[str]]] = {}
    source = _batches(db, todo, batch)
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < in_flight:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                ids, hashes, texts = item
                try:
                    pending[submit(ids, texts)] = (ids, hashes)
                except Exception as exc:  # e.g. the pool broke: a worker died
                    raise _failed(ids, exc, report) from exc
            if not pending:
                break
            for handle in wait_done(list(pending)):
                ids, hashes = pending.pop(handle)
                try:
                    matrix = result(handle)
                except Exception as exc:
                    raise _failed(ids, exc, report) from exc
                writing = time.perf_counter()
                _store(db, index, ids, hashes, matrix)
                report.write_seconds += time.perf_counter() - writing
                report.embedded += len(ids)
                if on_progress:
                    on_progress(report.embedded, len(todo))
    finally:
        report.seconds = time.perf_counter() - started
        with db.session() as session:
            report.index_size = count_vectors(session, index.embedder.name)
    return report


def _failed(ids: list[int], exc: Exception, report: EmbedReport) -> BackfillFailed:
    return BackfillFailed(
        f"embedding papers {ids[0]}…{ids[-1]} failed: {type(exc).__name__}: {exc}; "
        f"{report.embedded} papers were stored, re-run to embed the rest", report)


def _store(db: Database, index: SemanticIndex, ids: list[int], hashes: list[str], matrix: np.ndarray) -> None:
    if matrix.shape != (len(ids), index.embedder.dim):
        raise ValueError(f"worker returned a {matrix.shape} matrix for {len(ids)} papers of dim {index.embedder.dim}")
    with db.session() as session:
        save_vectors(session, index.embedder.name, list(zip(ids, hashes)), matrix, utcnow())
    index.store_in_database_index(ids, matrix)


class _Done:
    """A batch embedded synchronously (an ndarray cannot key the pending dict)."""

    def __init__(self, matrix: np.ndarray):
        self.matrix = matrix


def embed_in_process(db: Database, *, batch: int = DEFAULT_BATCH, rebuild: bool = False,
                     on_progress: Progress | None = None, threads: int | None = WORKER_THREADS) -> EmbedReport:
    """Embed stale papers in this process on ``threads`` intra-op threads (``--workers 1``).

    One thread by default: on one text at a time onnxruntime's thread pool
    gets 2.3x less done per CPU-second than a single thread
    (``bench/embed_scaling.py``), and the worker's ``embed`` job should leave
    the other cores to the web workers. The vectors are the same either way.
    """
    index, todo = _prepare(db, rebuild)
    if not todo:
        return EmbedReport(model=index.embedder.name, index_size=_stored(db, index))
    name = index.embedder.name
    return _drive(
        db, index, todo, batch=batch, in_flight=1,
        submit=lambda ids, texts: _Done(embed_batch(name, ids, texts, None, threads)),
        wait_done=lambda handles: handles, result=lambda done: done.matrix, on_progress=on_progress,
    )


def embed_parallel(db: Database, *, workers: int, batch: int = DEFAULT_BATCH, rebuild: bool = False,
                   on_progress: Progress | None = None, hook: BatchHook | None = None) -> EmbedReport:
    """Embed stale papers with ``workers`` processes (spawned, each loads the embedder once)."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    index, todo = _prepare(db, rebuild)
    if not todo:
        return EmbedReport(model=index.embedder.name, index_size=_stored(db, index))
    name = index.embedder.name
    context = multiprocessing.get_context("spawn")  # no forked copies of engines, locks or threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_warm_up,
                             initargs=(name, WORKER_THREADS)) as pool:
        try:
            return _drive(
                db, index, todo, batch=batch, in_flight=2 * workers,
                submit=lambda ids, texts: pool.submit(embed_batch, name, ids, texts, hook, WORKER_THREADS),
                wait_done=lambda futures: list(wait(futures, return_when=FIRST_COMPLETED).done),
                result=Future.result, on_progress=on_progress,
            )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "--ray needs the optional package 'ray' (pip install 'paperwire[ray]' or 'ray>=2.30'); "
            "without it use --workers N on one machine") from exc
    return ray


def embed_ray(db: Database, *, address: str, batch: int = DEFAULT_BATCH, rebuild: bool = False,
              on_progress: Progress | None = None, hook: BatchHook | None = None,
              in_flight: int | None = None) -> EmbedReport:
    """Embed stale papers as Ray tasks on the cluster at ``address`` ("auto", "host:port", "local").

    Every Ray node needs paperwire installed (same version and embedder).
    This process stays the only database writer.
    """
    ray = _import_ray()
    index, todo = _prepare(db, rebuild)
    if not todo:
        return EmbedReport(model=index.embedder.name, index_size=_stored(db, index))
    connected_here = not ray.is_initialized()
    if connected_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level="warning", configure_logging=True)
    try:
        task = ray.remote(max_retries=2)(embed_batch)
        slots = in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        name = index.embedder.name

        def wait_done(refs: list) -> list:
            ready, _ = ray.wait(refs, num_returns=1)
            return ready

        return _drive(
            db, index, todo, batch=batch, in_flight=slots,
            submit=lambda ids, texts: task.remote(name, ids, texts, hook, WORKER_THREADS),
            wait_done=wait_done, result=ray.get, on_progress=on_progress,
        )
    finally:
        if connected_here:
            ray.shutdown()


def backfill(db: Database, *, workers: int = 1, ray_address: str | None = None, batch: int = DEFAULT_BATCH,
             rebuild: bool = False, on_progress: Progress | None = None) -> EmbedReport:
    """``paperwire embed``: one backfill per model at a time (job lock), then the chosen engine.

    Raises :class:`JobBusy` if another backfill of the same model is running.
    """
    model = get_embedder_name()
    lock = f"embed:{model}"
    with job_lock(db, lock) as acquired:
        if not acquired:
            raise JobBusy(busy_message(db, lock, f"embedding backfill ({model})"))
        if ray_address:
            report = embed_ray(db, address=ray_address, batch=batch, rebuild=rebuild, on_progress=on_progress)
        elif workers > 1:
            report = embed_parallel(db, workers=workers, batch=batch, rebuild=rebuild, on_progress=on_progress)
        else:
            report = embed_in_process(db, batch=batch, rebuild=rebuild, on_progress=on_progress)
    publish_vector_index(db)
    return report


def _stored(db: Database, index: SemanticIndex) -> int:
    with db.session() as session:
        return count_vectors(session, index.embedder.name)


def get_embedder_name() -> str:
    """Name of the configured embedder (what vectors are stored under)."""
    from paperwire.settings import get_settings

    return get_embedder(get_settings().embedder).name
