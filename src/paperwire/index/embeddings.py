"""Text embedders for the semantic layer.

The default, ``paperwire-static-v1``, is a static (bag-of-token-vectors) model distilled
offline from all-MiniLM-L6-v2 with model2vec (see ``bench/distill_static_embedder.py``).
Its weights ship inside this package (``models/paperwire-static-v1``), so it works
offline out of the box and needs only ``numpy`` and ``tokenizers`` at run time.

``get_embedder("st:<model-name-or-path>")`` gives a sentence-transformers model instead,
for installations that have ``sentence-transformers`` (and, for names, internet access).
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "get_embedder",
    "paper_text",
]

DEFAULT_EMBEDDER = "paperwire-static-v1"
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

        self.path = Path(path) if path is not None else MODELS_DIR / DEFAULT_EMBEDDER
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


class SentenceTransformerEmbedder:
    """A sentence-transformers model, by hub name or local path (loaded lazily).

    Needs the optional ``sentence-transformers`` package (and torch). Loading by name
    needs internet access unless the model is already in the local cache.
    """

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
def _cached(name: str) -> Embedder:
    if name == DEFAULT_EMBEDDER:
        return StaticEmbedder()
    if name.startswith("static:"):
        return StaticEmbedder(name[len("static:"):])
    if name.startswith("st:"):
        return SentenceTransformerEmbedder(name[len("st:"):])
    raise AssertionError(name)


def get_embedder(name: str | None = None) -> Embedder:
    """Return the embedder called ``name`` (cached; ``None`` means the default).

    * ``"paperwire-static-v1"`` (default): packaged static model, offline, numpy only.
    * ``"static:<dir>"``: a static model directory in the same format.
    * ``"st:<model-name-or-path>"``: a sentence-transformers model (optional dependency).
    """
    key = DEFAULT_EMBEDDER if name is None else name.strip()
    valid = (
        key == DEFAULT_EMBEDDER
        or (key.startswith("st:") and len(key) > 3)
        or (key.startswith("static:") and len(key) > 7)
    )
    if not valid:
        raise ValueError(
            f"unknown embedder {name!r}: use {DEFAULT_EMBEDDER!r} (default), "
            "'st:<sentence-transformers model name or path>' or 'static:<directory>'"
        )
    return _cached(key)
