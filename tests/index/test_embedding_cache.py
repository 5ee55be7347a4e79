"""CachingEmbedder: vectors memoised on disk by text hash, per model and weights."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from paperwire.index.embeddings import (
    MINILM_EMBEDDER,
    STATIC_EMBEDDER,
    CachingEmbedder,
    OnnxEmbedder,
    StaticEmbedder,
    get_embedder,
)
from paperwire.settings import get_settings


class RecordingStatic(StaticEmbedder):
    """The real static model, recording which texts it was asked to embed."""

    def __init__(self, fingerprint: str = "a") -> None:
        super().__init__()
        self.fingerprint = fingerprint
        self.asked: list[str] = []

    def embed(self, texts):
        self.asked.extend(texts)
        return super().embed(texts)


def rows(cache: CachingEmbedder) -> int:
    with sqlite3.connect(cache.file) as conn:
        return conn.execute("SELECT count(*) FROM vectors").fetchone()[0]


def test_same_vectors_and_each_text_embedded_once(tmp_path):
    inner = RecordingStatic()
    cache = CachingEmbedder(inner, tmp_path)
    texts = ["graph neural networks", "dark matter halos", "graph neural networks", ""]
    first = cache.embed(texts)
    np.testing.assert_array_equal(first, StaticEmbedder().embed(texts))
    assert inner.asked == ["graph neural networks", "dark matter halos", ""]  # duplicates once
    again = cache.embed(list(reversed(texts)) + ["protein folding"])
    np.testing.assert_array_equal(again[:4], first[::-1])
    assert inner.asked[3:] == ["protein folding"]
    assert rows(cache) == 4
    assert cache.embed([]).shape == (0, cache.dim)
    assert cache.name == inner.name and cache.dim == inner.dim
    with pytest.raises(TypeError):
        cache.embed("bare string")


def test_survives_a_new_instance_and_keys_on_weights(tmp_path):
    CachingEmbedder(RecordingStatic("a"), tmp_path).embed(["x-ray crystallography"])
    same = RecordingStatic("a")
    CachingEmbedder(same, tmp_path).embed(["x-ray crystallography"])
    assert same.asked == []
    other = RecordingStatic("b")  # different weights: own file, embeds afresh
    CachingEmbedder(other, tmp_path).embed(["x-ray crystallography"])
    assert other.asked == ["x-ray crystallography"]
    assert len(list(tmp_path.glob("*.sqlite"))) == 2


def test_get_embedder_wraps_only_slow_embedders(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERWIRE_EMBEDDING_CACHE_DIR", str(tmp_path / "c"))
    get_settings.cache_clear()
    wrapped = get_embedder(MINILM_EMBEDDER)
    assert isinstance(wrapped, CachingEmbedder) and isinstance(wrapped.inner, OnnxEmbedder)
    assert wrapped.file.parent == tmp_path / "c"
    assert isinstance(get_embedder(STATIC_EMBEDDER), StaticEmbedder)  # fast: no cache
    monkeypatch.delenv("PAPERWIRE_EMBEDDING_CACHE_DIR")
    get_settings.cache_clear()
    assert isinstance(get_embedder(MINILM_EMBEDDER), OnnxEmbedder)  # off by default
