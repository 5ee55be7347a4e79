"""Tests for the packaged static embedder (real model, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from paperwire.index.embeddings import (
    DEFAULT_EMBEDDER,
    STATIC_EMBEDDER,
    MODELS_DIR,
    Embedder,
    SentenceTransformerEmbedder,
    StaticEmbedder,
    get_embedder,
    paper_text,
)


@pytest.fixture(scope="module")
def emb() -> Embedder:
    return get_embedder(STATIC_EMBEDDER)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_artefact_is_packaged_and_small():
    d = MODELS_DIR / STATIC_EMBEDDER
    meta = json.loads((d / "meta.json").read_text())
    assert meta["name"] == STATIC_EMBEDDER
    assert {p.name for p in d.iterdir()} >= {"meta.json", "tokenizer.json", "embeddings.npy"}
    assert sum(p.stat().st_size for p in d.iterdir()) < 20_000_000
    assert np.load(d / "embeddings.npy").dtype == np.float16


def test_default_embedder_identity(emb):
    assert isinstance(emb, StaticEmbedder)
    assert isinstance(emb, Embedder)
    assert emb.name == STATIC_EMBEDDER
    assert emb.dim == json.loads((MODELS_DIR / STATIC_EMBEDDER / "meta.json").read_text())["dim"]
    assert get_embedder(STATIC_EMBEDDER) is emb
    # the default is the transformer model (tests/index/test_minilm_embedder.py)
    assert DEFAULT_EMBEDDER == "paperwire-minilm-v1"
    assert get_embedder(None) is get_embedder(DEFAULT_EMBEDDER)


def test_shape_dtype_normalised(emb):
    texts = ["Attention is all you need", "A survey of graph neural networks", "many words " * 5000]
    v = emb.embed(texts)
    assert v.shape == (3, emb.dim)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_inputs(emb):
    assert emb.embed([]).shape == (0, emb.dim)
    v = emb.embed(["", "   ", "\n", "neural networks"])
    assert v.shape == (4, emb.dim)
    # nothing to embed -> zero row (cosine 0 with everything), others stay unit length
    assert not v[:3].any()
    assert abs(np.linalg.norm(v[3]) - 1.0) < 1e-5


def test_rejects_bare_string(emb):
    with pytest.raises(TypeError):
        emb.embed("a single string")


def test_deterministic_and_batch_independent(emb):
    texts = ["Quantum error correction with surface codes", "Protein folding with deep learning"]
    a = emb.embed(texts)
    b = emb.embed(list(reversed(texts)))[::-1]
    c = np.vstack([emb.embed([t]) for t in texts])
    np.testing.assert_array_equal(a, emb.embed(texts))
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, c, atol=1e-6)
    # a fresh instance gives identical vectors
    np.testing.assert_array_equal(a, StaticEmbedder().embed(texts))


def test_truncation_bounds_long_texts(emb):
    base = "Graph neural networks for molecule property prediction. "
    long = base + "galaxy cluster redshift survey " * 2000
    v_long = emb.embed([long])[0]
    short_emb = StaticEmbedder(max_tokens=8)
    # with 8 tokens only the leading words count
    np.testing.assert_allclose(short_emb.embed([long])[0], short_emb.embed([base])[0], atol=1e-6)
    assert np.isfinite(v_long).all()


def test_semantic_sanity(emb):
    q, near, far = emb.embed(
        ["neural network training", "deep learning optimisation", "galaxy cluster redshift survey"]
    )
    assert cos(q, near) > cos(q, far) + 0.1
    a, b, c = emb.embed(
        [
            "Dark matter halos and the formation of galaxies",
            "Cosmological simulations of galaxy formation in cold dark matter",
            "A faster algorithm for sorting integers in linear time",
        ]
    )
    assert cos(a, b) > cos(a, c) + 0.1


def test_title_retrieves_own_abstract(emb):
    papers = [
        ("Attention Is All You Need",
         "The dominant sequence transduction models are based on complex recurrent or convolutional "
         "neural networks. We propose a new simple network architecture, the Transformer, based solely "
         "on attention mechanisms, dispensing with recurrence and convolutions entirely."),
        ("Observation of Gravitational Waves from a Binary Black Hole Merger",
         "On September 14, 2015 the two detectors of the Laser Interferometer Gravitational-Wave "
         "Observatory simultaneously observed a transient gravitational-wave signal from the merger "
         "of two black holes."),
        ("CRISPR-Cas9 genome editing in human cells",
         "We engineer the type II bacterial CRISPR system to function with custom guide RNA in human "
         "cells, enabling targeted genome editing of endogenous loci."),
    ]
    t = emb.embed([p[0] for p in papers])
    a = emb.embed([paper_text("", p[1]) for p in papers])
    assert list((t @ a.T).argmax(axis=1)) == [0, 1, 2]


def test_paper_text():
    assert paper_text("A Title", "Some\n  abstract text.") == "A Title. Some abstract text."
    assert paper_text("Why?", "Because.") == "Why? Because."
    assert paper_text("", " only abstract ") == "only abstract"
    assert paper_text("Only title", "") == "Only title"
    assert paper_text("", "") == ""


def test_get_embedder_errors():
    for bad in ["nope", "st:", "static:", "", "all-MiniLM-L6-v2"]:
        with pytest.raises(ValueError, match="unknown embedder"):
            get_embedder(bad)


def test_static_prefix_and_missing_dir(tmp_path: Path):
    e = get_embedder(f"static:{MODELS_DIR / STATIC_EMBEDDER}")
    assert isinstance(e, StaticEmbedder) and e.dim == get_embedder(STATIC_EMBEDDER).dim
    with pytest.raises(FileNotFoundError):
        StaticEmbedder(tmp_path)


def test_sentence_transformer_embedder_is_lazy():
    # constructing must not import sentence_transformers or touch the network
    e = get_embedder("st:some/model")
    e = getattr(e, "inner", e)  # the suite memoises slow embedders (CachingEmbedder)
    assert isinstance(e, SentenceTransformerEmbedder)
    assert e.name == "st:some/model"
    assert e._model is None
