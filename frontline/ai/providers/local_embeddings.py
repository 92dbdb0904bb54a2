"""In-process dense embeddings with sentence-transformers (kind ``LOCAL``): no network, no key,
no cost, for a self-hosted knowledge base.

``sentence-transformers`` (and with it PyTorch) is an optional extra,
``pip install 'frontline[local-embeddings]'``; it is never imported at module import. The
adapter checks it is installed when built (:class:`LocalEmbeddingsUnavailable` otherwise) and
imports it on the first :meth:`LocalEmbedder.embed`. A loaded model is kept per process, keyed
by name, device and cache folder; loading and encoding run in a worker thread.

``request.model`` is the sentence-transformers model name or path (e.g.
``intfloat/multilingual-e5-small``). Models trained with instructions want them as prefixes:
``query_prefix`` / ``document_prefix`` in the config (``"query: "`` / ``"passage: "`` for E5).
Token counts are estimates (whitespace-separated words); the cost is always zero.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import threading
import time
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from frontline.ai.base import (
    BadRequest,
    EmbeddingRequest,
    Embeddings,
    PriceTable,
    ProviderConfig,
    ProviderError,
    ProviderKind,
    Timeout,
    Unavailable,
    Usage,
)
from frontline.ai.providers.common import check_dimensions, check_texts

PACKAGE = "sentence_transformers"
EXTRA = "local-embeddings"


class LocalEmbeddingsUnavailable(BadRequest):
    """The optional ``sentence-transformers`` package is not installed."""


class LocalEmbeddingsConfig(ProviderConfig):
    """No secrets. ``device`` is e.g. ``cpu`` or ``cuda`` (sentence-transformers picks one when
    unset); ``cache_folder`` is where downloaded models are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str | None = Field(default=None, max_length=50)
    cache_folder: str | None = Field(default=None, max_length=4000)
    normalize: bool = True
    batch_size: int = Field(default=32, ge=1, le=1024)
    query_prefix: str = Field(default="", max_length=500)
    document_prefix: str = Field(default="", max_length=500)


def available() -> bool:
    """Whether the optional ``sentence-transformers`` package is installed."""
    try:
        return importlib.util.find_spec(PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def _missing() -> LocalEmbeddingsUnavailable:
    return LocalEmbeddingsUnavailable(
        "local embeddings need the optional 'sentence-transformers' package: "
        f"pip install 'frontline[{EXTRA}]' (or use a remote embedding provider; without one "
        "the knowledge base searches lexically only)"
    )


class _Models:
    """Loaded models per (name, device, cache folder), shared by every adapter."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, str | None, str | None], Any] = {}
        self._guard = threading.Lock()

    def get(self, name: str, device: str | None, cache_folder: str | None) -> Any:
        key = (name, device, cache_folder)
        with self._guard:  # held while loading: one load per model, not one per caller
            model = self._models.get(key)
            if model is None:
                try:
                    module = importlib.import_module(PACKAGE)
                except ImportError as exc:
                    raise _missing() from exc
                try:
                    model = module.SentenceTransformer(
                        name, device=device, cache_folder=cache_folder
                    )
                except Exception as exc:  # unknown name, no network for the download, ...
                    raise BadRequest(f"cannot load the embedding model {name!r}: {exc}") from exc
                self._models[key] = model
            return model

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


MODELS = _Models()


class LocalEmbedder:
    kind: ClassVar[ProviderKind] = ProviderKind.LOCAL

    def __init__(
        self, config: LocalEmbeddingsConfig | None = None, prices: PriceTable | None = None
    ) -> None:
        if not available():
            raise _missing()
        self._config = config or LocalEmbeddingsConfig()

    def _encode(self, request: EmbeddingRequest) -> list[list[float]]:
        config = self._config
        model = MODELS.get(request.model, config.device, config.cache_folder)
        prefix = config.query_prefix if request.purpose == "query" else config.document_prefix
        vectors = model.encode(
            [f"{prefix}{text}" for text in request.texts],
            batch_size=config.batch_size,
            normalize_embeddings=config.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(value) for value in vector] for vector in vectors]

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        started = time.perf_counter()
        check_texts(request.texts)
        if not request.model.strip():
            raise BadRequest("empty local embedding model name")
        vectors: list[list[float]] = []
        if request.texts:
            try:
                async with asyncio.timeout(request.deadline_seconds):
                    vectors = await asyncio.to_thread(self._encode, request)
            except TimeoutError as exc:
                # the thread runs on to its end; its answer is dropped
                raise Timeout(
                    f"local embeddings: no answer within the {request.deadline_seconds:g} s "
                    "deadline"
                ) from exc
            except ProviderError:
                raise
            except Exception as exc:  # out of memory, a broken model, ...
                raise Unavailable(f"local embeddings failed: {exc!r}") from exc
        check_dimensions(vectors, "local embeddings")
        return Embeddings(
            vectors=vectors,
            model=request.model,
            provider=self.kind,
            usage=Usage(input_tokens=sum(len(text.split()) for text in request.texts)),
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cost=0.0,
        )
