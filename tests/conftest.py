"""Shared fixtures: a fresh migrated database per test, the demo corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from paperwire.settings import get_settings  # noqa: E402
from paperwire.store.db import Database, open_database  # noqa: E402

DEMO_DIR = Path(__file__).resolve().parents[1] / "src" / "paperwire" / "data" / "demo"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own database file and data folder."""
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", f"sqlite:///{tmp_path / 'paperwire.db'}")
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_HARVEST_DELAY", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db_url(tmp_path) -> str:
    return get_settings().database_url


@pytest.fixture
def db(db_url) -> Database:
    database = open_database(db_url)
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
