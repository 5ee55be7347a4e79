"""The packaged transformer embedder (int8 ONNX all-MiniLM-L6-v2): real model, no mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from paperwire.index.embeddings import (
    MINILM_EMBEDDER,
    MODELS_DIR,
    CachingEmbedder,
    Embedder,
    OnnxEmbedder,
    get_embedder,
    paper_text,
)

MODEL_DIR = MODELS_DIR / MINILM_EMBEDDER


@pytest.fixture(scope="module")
def emb() -> OnnxEmbedder:
    return OnnxEmbedder()  # uncached: these tests check the model itself


def test_artefact_is_packaged_and_small():
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    assert meta["name"] == MINILM_EMBEDDER
    assert {p.name for p in MODEL_DIR.iterdir()} >= {"meta.json", "tokenizer.json", "model.onnx", "reference.json"}
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 26_000_000
    assert 128 <= meta["max_tokens"] <= 256
    # the export script checked it against the torch model on real abstracts
    assert meta["check_against_torch"]["cosine_mean"] >= 0.99


def test_loads_offline_without_torch_or_network():
    """A fresh interpreter with sockets disabled embeds with the packaged files only."""
    code = textwrap.dedent(
        """
        import socket, sys
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from paperwire.index.embeddings import OnnxEmbedder
        v = OnnxEmbedder().embed(["offline embedding works"])
        assert v.shape == (1, 384), v.shape
        assert "torch" not in sys.modules and "transformers" not in sys.modules
        print("ok")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_matches_reference_vectors_saved_at_export(emb):
    ref = json.loads((MODEL_DIR / "reference.json").read_text())
    got = emb.embed(ref["sentences"])
    onnx = np.asarray(ref["onnx"], dtype=np.float32)
    torch = np.asarray(ref["torch"], dtype=np.float32)
    assert len(ref["sentences"]) == 3
    # The packaged model is the one exported: onnxruntime's int8 kernels differ by CPU (with
    # AVX-512 VNNI they match the export to 1e-4; on AVX2 without VNNI the u8 x s8 products
    # saturate and vectors move to cosine ~0.98 of the export's), so the check is a cosine that
    # any other model or a damaged file misses by far (unrelated texts: ~0.1-0.5).
    assert np.all(np.sum(got * onnx, axis=1) > 0.97)
    # and close to the fp32 torch sentence-transformers vectors (0.991-0.996 at export, 0.988-0.995 on AVX2)
    assert np.all(np.sum(got * torch, axis=1) >= 0.98)


def test_left_out_fusions_are_names_onnxruntime_knows(tmp_path):
    """``DISABLED_FUSIONS`` is passed by name and onnxruntime ignores a name it does not
    know; so the graph it builds must really lose the fused node (and have it by default)."""
    import onnxruntime as ort

    def optimised_ops(disabled: list[str]) -> bytes:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(tmp_path / f"optimised-{len(disabled)}.onnx")
        ort.InferenceSession(str(MODEL_DIR / "model.onnx"), sess_options=options,
                             providers=["CPUExecutionProvider"], disabled_optimizers=disabled)
        return (tmp_path / f"optimised-{len(disabled)}.onnx").read_bytes()

    assert OnnxEmbedder.DISABLED_FUSIONS == ("SkipLayerNormFusion",)
    assert b"SkipLayerNormalization" in optimised_ops([])
    assert b"SkipLayerNormalization" not in optimised_ops(list(OnnxEmbedder.DISABLED_FUSIONS))


def test_identity(emb):
    assert isinstance(emb, Embedder)
    assert emb.name == MINILM_EMBEDDER
    assert emb.dim == 384
    shared = get_embedder(MINILM_EMBEDDER)
    assert shared is get_embedder(MINILM_EMBEDDER)
    assert shared.name == MINILM_EMBEDDER and shared.dim == 384
    # the suite memoises slow embedders' vectors (settings.embedding_cache_dir)
    assert isinstance(shared, CachingEmbedder)


def test_shape_dtype_normalised(emb):
    v = emb.embed(["Attention is all you need", "A survey of graph neural networks", "many words " * 5000])
    assert v.shape == (3, 384)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_inputs(emb):
    assert emb.embed([]).shape == (0, 384)
    v = emb.embed(["", "   ", "\n", "neural networks"])
    assert not v[:3].any()
    assert abs(np.linalg.norm(v[3]) - 1.0) < 1e-5
    with pytest.raises(TypeError):
        emb.embed("a single string")


def test_deterministic_and_batch_independent(emb):
    texts = ["Quantum error correction with surface codes", "Protein folding with deep learning",
             "A much longer text about galaxy formation in cold dark matter simulations " * 3]
    a = emb.embed(texts)
    np.testing.assert_array_equal(a, emb.embed(list(reversed(texts)))[::-1])
    np.testing.assert_array_equal(a, np.vstack([emb.embed([t]) for t in texts]))


def test_truncation_bounds_long_texts():
    short = OnnxEmbedder(max_tokens=8)
    base = "Graph neural networks for molecule property prediction and more"
    long = base + " galaxy cluster redshift survey" * 2000
    # with 8 tokens (CLS + 6 + SEP) only the leading words count
    np.testing.assert_allclose(short.embed([long])[0], short.embed([base])[0], atol=1e-5)


def test_semantic_sanity(emb):
    q, near, far = emb.embed(["neural network training", "deep learning optimisation", "galaxy cluster redshift survey"])
    assert q @ near > q @ far + 0.2


def test_title_retrieves_own_abstract(emb, kaggle_sample):
    rows = [json.loads(line) for line in kaggle_sample.read_text().splitlines() if line.strip()][:40]
    titles = emb.embed([r["title"] for r in rows])
    abstracts = emb.embed([paper_text("", r["abstract"]) for r in rows])
    hits = np.mean((titles @ abstracts.T).argmax(axis=1) == np.arange(len(rows)))
    assert hits >= 0.85, hits


def test_onnx_prefix_and_missing_files(tmp_path):
    e = get_embedder(f"onnx:{MODEL_DIR}")
    assert e.name == MINILM_EMBEDDER and e.dim == 384
    for bad in ("onnx:", "onnx"):
        with pytest.raises(ValueError, match="unknown embedder"):
            get_embedder(bad)
    with pytest.raises(FileNotFoundError, match="meta.json missing"):
        OnnxEmbedder(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"name": "x", "dim": 384}))
    with pytest.raises(FileNotFoundError, match="lacks model.onnx"):
        OnnxEmbedder(tmp_path)
