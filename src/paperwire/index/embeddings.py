"""Text embedders for the semantic layer.

Two models ship inside this package, so both work offline out of the box:

* ``paperwire-minilm-v1`` (default): all-MiniLM-L6-v2 exported to ONNX and quantised to int8
  with per-channel weights (``bench/export_minilm_onnx.py``); runs on onnxruntime +
  tokenizers (no torch), up to 256 tokens (sentence-transformers' limit for it), mean
  pooling + L2 normalisation as sentence-transformers does. Much better neighbours than
  the static model, but ~30-65x slower (50-100 abstracts/s on 2 cores).
* ``paperwire-static-v1``: a static (bag-of-token-vectors) model distilled offline from
  the same teacher with model2vec (``bench/distill_static_embedder.py``); numpy +
  tokenizers only, thousands of abstracts/s — the fast option.

``get_embedder("st:<model-name-or-path>")`` gives a sentence-transformers model instead,
for installations that have ``sentence-transformers`` (and, for names, internet access).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_EMBEDDER",
    "MINILM_EMBEDDER",
    "STATIC_EMBEDDER",
    "CachingEmbedder",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "get_embedder",
    "paper_text",
]

STATIC_EMBEDDER = "paperwire-static-v1"
MINILM_EMBEDDER = "paperwire-minilm-v1"
DEFAULT_EMBEDDER = MINILM_EMBEDDER
#: Models that ship inside the package (directories under ``MODELS_DIR``).
PACKAGED = (STATIC_EMBEDDER, MINILM_EMBEDDER)
MODELS_DIR = Path(__file__).resolve().parent / "models"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (one row per text).

    A text with nothing to embed (e.g. the empty string) gives an all-zero row, which
    has cosine similarity 0 with every other vector.
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:  # (n, dim) float32
        ...


_WS = re.compile(r"\s+")


def paper_text(title: str, abstract: str) -> str:
    """The text embedded for a paper: its title, then its abstract (whitespace collapsed)."""
    title = _WS.sub(" ", title or "").strip()
    abstract = _WS.sub(" ", abstract or "").strip()
    if not title:
        return abstract
    if not abstract:
        return title
    sep = " " if title[-1] in ".?!:" else ". "
    return f"{title}{sep}{abstract}"


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of strings, not a single string; wrap it in a list")
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise TypeError(f"embed() expects strings, got {type(t).__name__}")
    return out


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


class StaticEmbedder:
    """Mean of static token vectors, L2-normalised. Numpy + tokenizers only.

    ``path`` is a directory holding ``tokenizer.json``, ``embeddings.npy`` and
    ``meta.json`` (as written by ``bench/distill_static_embedder.py``); by default the
    packaged ``paperwire-static-v1``.
    """

    # Characters looked at per token before tokenising (guards against huge inputs).
    _CHARS_PER_TOKEN = 12

    def __init__(self, path: str | Path | None = None, *, max_tokens: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.path = Path(path) if path is not None else MODELS_DIR / STATIC_EMBEDDER
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"no static embedder at {self.path} (meta.json missing)")
        self.meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
        self.name: str = str(self.meta["name"])
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        # float32 in memory: gathers and sums are faster than on float16 (~30 MB).
        self.vectors: np.ndarray = np.load(self.path / "embeddings.npy").astype(np.float32)
        self.dim: int = int(self.vectors.shape[1])
        if self.dim != int(self.meta.get("dim", self.dim)):
            raise ValueError(f"{self.path}: meta.json dim {self.meta['dim']} != embeddings {self.dim}")
        if self.tokenizer.get_vocab_size(with_added_tokens=True) != self.vectors.shape[0]:
            raise ValueError(f"{self.path}: tokenizer and embeddings.npy disagree on vocabulary size")
        self.max_tokens: int = int(max_tokens or self.meta.get("max_tokens") or 512)
        unk = self.meta.get("unk_token_id")
        self._unk: int | None = None if unk is None else int(unk)
        self._add_special = bool(self.meta.get("add_special_tokens", False))
        self._lock = threading.Lock()  # Tokenizer objects are not re-entrant across threads

    def __repr__(self) -> str:
        return f"StaticEmbedder(name={self.name!r}, dim={self.dim}, path={str(self.path)!r})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        limit = self.max_tokens * self._CHARS_PER_TOKEN
        clipped = [t[:limit] for t in texts]
        with self._lock:
            encodings = self.tokenizer.encode_batch(clipped, add_special_tokens=self._add_special)
        max_tokens, unk, vectors = self.max_tokens, self._unk, self.vectors
        for row, enc in enumerate(encodings):
            ids = enc.ids
            if unk is not None and unk in ids:
                ids = [i for i in ids if i != unk]
            if ids:
                ids = ids[:max_tokens]
                # per-row gather + mean is much faster than np.add.reduceat over all rows
                np.mean(vectors[ids], axis=0, out=out[row])
        return _l2_normalise(out)


class OnnxEmbedder:
    """A BERT-style sentence encoder exported to ONNX: onnxruntime + tokenizers, no torch.

    ``path`` is a directory holding ``model.onnx`` (inputs ``input_ids`` and
    ``attention_mask``, output the token embeddings), ``tokenizer.json`` and
    ``meta.json`` (as written by ``bench/export_minilm_onnx.py``); by default the
    packaged ``paperwire-minilm-v1``. Sentence vector = mean of the token embeddings
    under the attention mask, L2-normalised (sentence-transformers' mean pooling).

    Each text runs as its own batch of one: the int8 model quantises activations per
    tensor at run time, so padding or batch neighbours would change a text's vector;
    alone, a text always gets the same vector (and no compute is spent on padding).
    The packaged model relies on it: its attention is onnxruntime's fused
    ``MultiHeadAttention`` with no mask (``bench/export_minilm_onnx.py
    --attention-op``), so ``attention_mask`` is accepted but unused, and a
    padded batch would attend to its padding.
    """

    #: Vectors cost ~10 ms each: worth memoising (see ``CachingEmbedder``).
    worth_caching = True
    #: onnxruntime graph fusions left out. ``SkipLayerNormFusion`` turns each
    #: residual Add + LayerNormalization into one SkipLayerNormalization, whose CPU
    #: kernel on one thread took ~10 % of a text's time against ~3 % for the pair it
    #: replaces: without it a text embeds 10-12 % faster, same vectors up to float
    #: rounding (cosine to torch 0.9946 either way). See ``bench/embed_scaling.py``.
    DISABLED_FUSIONS: tuple[str, ...] = ("SkipLayerNormFusion",)
    # Characters looked at per token before tokenising (guards against huge inputs).
    _CHARS_PER_TOKEN = 12

    def __init__(self, path: str | Path | None = None, *, max_tokens: int | None = None,
                 threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.path = Path(path) if path is not None else MODELS_DIR / MINILM_EMBEDDER
        meta_file = self.path / "meta.json"
        if not meta_file.is_file():
            raise FileNotFoundError(f"no ONNX embedder at {self.path} (meta.json missing)")
        for needed in ("model.onnx", "tokenizer.json"):
            if not (self.path / needed).is_file():
                raise FileNotFoundError(f"ONNX embedder at {self.path} lacks {needed}")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a runtime dependency
            raise ImportError(f"embedder at {self.path} needs the package 'onnxruntime'") from exc
        self.meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
        self.name: str = str(self.meta["name"])
        self.dim: int = int(self.meta["dim"])
        self.max_tokens: int = int(max_tokens or self.meta.get("max_tokens") or 256)
        #: Identifies the exact weights (part of ``CachingEmbedder``'s key).
        self.fingerprint: str = f"{self.meta.get('model_sha256', '')[:16]}-{self.max_tokens}"
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        #: Intra-op threads asked for (None: onnxruntime's default, one per core).
        self.threads: int | None = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.path / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"],
            disabled_optimizers=list(self.DISABLED_FUSIONS),
        )
        self._lock = threading.Lock()  # Tokenizer objects are not re-entrant across threads

    def __repr__(self) -> str:
        return f"OnnxEmbedder(name={self.name!r}, dim={self.dim}, max_tokens={self.max_tokens})"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip()]  # blank text -> zero row
        if not todo:
            return out
        limit = self.max_tokens * self._CHARS_PER_TOKEN
        with self._lock:
            encodings = self.tokenizer.encode_batch([texts[i][:limit] for i in todo])
        for row, enc in zip(todo, encodings):
            ids = np.asarray([enc.ids], dtype=np.int64)
            mask = np.ones_like(ids)
            (tokens,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[row] = tokens[0].mean(axis=0)  # every position is real: mean pooling = mean
        return _l2_normalise(out)


class CachingEmbedder:
    """Memoises another embedder's vectors on disk, keyed by SHA-256 of the text.

    One SQLite file per model and weights fingerprint under ``directory`` (so a new
    model or new weights never see old vectors; delete the folder to reclaim space).
    Safe across threads and processes (each call opens its own connection; WAL).
    Used where the same texts are embedded again and again — the test suite's fixtures.
    """

    def __init__(self, inner: Embedder, directory: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        fingerprint = getattr(inner, "fingerprint", "")
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{inner.name}-{fingerprint}").strip("_")
        self.directory = Path(directory)
        self.file = self.directory / f"{safe}.sqlite"

    def __repr__(self) -> str:
        return f"CachingEmbedder({self.inner!r}, file={str(self.file)!r})"

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.file, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)")
        return conn

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        dim = self.dim
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if not texts:
            return out
        keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest() for t in texts]
        conn = self._connect()
        try:
            found: dict[bytes, bytes] = {}
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(conn.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk))
            missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
            if missing:
                fresh = self.inner.embed(missing)
                rows = [(hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest(), v.tobytes())
                        for t, v in zip(missing, fresh)]
                with conn:
                    conn.executemany("INSERT OR IGNORE INTO vectors (key, vec) VALUES (?, ?)", rows)
                found.update(rows)
        finally:
            conn.close()
        for row, key in enumerate(keys):
            out[row] = np.frombuffer(found[key], dtype=np.float32, count=dim)
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model, by hub name or local path (loaded lazily).

    Needs the optional ``sentence-transformers`` package (and torch). Loading by name
    needs internet access unless the model is already in the local cache.
    """

    worth_caching = True

    def __init__(self, model_name: str, *, batch_size: int = 64, device: str | None = None) -> None:
        if not model_name:
            raise ValueError("SentenceTransformerEmbedder needs a model name or path")
        self.model_name = model_name
        self.name = f"st:{model_name}"
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.model_name!r})"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - depends on optional install
                    raise ImportError(
                        f"embedder {self.name!r} needs the optional package 'sentence-transformers' "
                        "(pip install sentence-transformers); the default embedder "
                        f"{DEFAULT_EMBEDDER!r} needs nothing extra"
                    ) from exc
                model = SentenceTransformer(self.model_name, device=self.device)
                get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
                self._dim = int(get_dim())
                self._model = model
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        out = np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)
        empty = np.fromiter((not t.strip() for t in texts), dtype=bool, count=len(texts))
        out[empty] = 0.0  # same convention as StaticEmbedder
        return out


@lru_cache(maxsize=8)
def _cached(name: str, threads: int | None = None) -> Embedder:
    if name == STATIC_EMBEDDER:
        return StaticEmbedder()
    if name == MINILM_EMBEDDER:
        return OnnxEmbedder(threads=threads)
    if name.startswith("static:"):
        return StaticEmbedder(name[len("static:"):])
    if name.startswith("onnx:"):
        return OnnxEmbedder(name[len("onnx:"):], threads=threads)
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[len("st:"):])
    raise AssertionError(name)


@lru_cache(maxsize=8)
def _cached_with_store(name: str, directory: str, threads: int | None = None) -> Embedder:
    return CachingEmbedder(_cached(name, threads), directory)


def get_embedder(name: str | None = None, *, threads: int | None = None) -> Embedder:
    """Return the embedder called ``name`` (cached; ``None`` means the default).

    ``threads``: onnxruntime intra-op threads for ONNX models (``None``: one per
    core). Parallel backfills pass 1 so that N worker processes use N cores
    instead of N × cores threads fighting over them.

    * ``"paperwire-minilm-v1"`` (default): packaged int8 ONNX all-MiniLM-L6-v2, offline.
    * ``"paperwire-static-v1"``: packaged static model, offline, numpy only, ~30x faster.
    * ``"static:<dir>"`` / ``"onnx:<dir>"``: a model directory in the same formats.
    * ``"st:<model-name-or-path>"``: a sentence-transformers model (optional dependency).

    With ``settings.embedding_cache_dir`` set, slow embedders (those with
    ``worth_caching``) come wrapped in a ``CachingEmbedder`` storing vectors there.
    """
    key = DEFAULT_EMBEDDER if name is None else name.strip()
    valid = (
        key in PACKAGED
        or (key.startswith("st:") and len(key) > 3)
        or (key.startswith("static:") and len(key) > 7)
        or (key.startswith("onnx:") and len(key) > 5)
    )
    if not valid:
        raise ValueError(
            f"unknown embedder {name!r}: use {MINILM_EMBEDDER!r} (default), {STATIC_EMBEDDER!r} (fast), "
            "'st:<sentence-transformers model name or path>', 'static:<directory>' or 'onnx:<directory>'"
        )
    from paperwire.settings import get_settings

    store = get_settings().embedding_cache_dir
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    embedder = _cached(key, threads)
    if store is not None and getattr(embedder, "worth_caching", False):
        return _cached_with_store(key, str(store), threads)
    return embedder
