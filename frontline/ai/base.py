"""The LLM provider contract: neutral message and usage types, the completion and embedding
Protocols, the closed error set, and the price table.

A provider adapter is built per call from one tenant's config (a Pydantic model whose keys
are ``SecretStr``, stored encrypted) and is never mutated. Adapters import only
``frontline.kit`` and this module. Every call has a deadline; every failure is one of the
closed errors below, so the fallback chain can decide what to do without knowing the
provider.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, Field


class ProviderKind(enum.StrEnum):
    OPENAI = "openai"
    OPENROUTER = "openrouter"
    OPENAI_COMPATIBLE = "openai_compatible"  # vLLM, Ollama, LM Studio, ...
    GIGACHAT = "gigachat"
    YANDEXGPT = "yandexgpt"
    OFFLINE = "offline"
    # embeddings only: sentence-transformers in-process (the optional ``local-embeddings`` extra)
    LOCAL = "local"


Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    messages: tuple[ChatMessage, ...]
    model: str
    temperature: float = 0.2
    max_tokens: int = 800
    # seconds the whole call (connect, queue, generation) may take
    deadline_seconds: float = 30.0
    # a JSON Schema the answer must follow (providers that support it enforce it)
    json_schema: dict[str, Any] | None = None
    json_schema_name: str = "answer"


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    provider: ProviderKind
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    cost: float | None = None
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of a streamed answer; the last chunk carries ``usage`` when the provider
    reports it."""

    delta: str
    usage: Usage | None = None
    finish_reason: str | None = None


EmbeddingPurpose = Literal["document", "query"]


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    """Texts to embed, answered in the same order. ``purpose`` matters to asymmetric models
    (YandexGPT's ``text-search-doc``/``text-search-query``); the others ignore it."""

    texts: tuple[str, ...]
    model: str
    # seconds the whole call (every batch) may take
    deadline_seconds: float = 30.0
    purpose: EmbeddingPurpose = "document"


@dataclass(frozen=True, slots=True)
class Embeddings:
    """One vector per requested text, in the request's order, all of one dimension."""

    vectors: list[list[float]]
    model: str
    provider: ProviderKind
    usage: Usage = field(default_factory=Usage)
    latency_ms: float = 0.0
    cost: float | None = None


class ProviderError(Exception):
    """Base of the closed error set. ``transient`` errors may succeed on another try."""

    transient: ClassVar[bool] = False


class RateLimited(ProviderError):
    transient = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthFailed(ProviderError):
    transient = False


class Unavailable(ProviderError):
    transient = True


class BadRequest(ProviderError):
    """The request or the provider's answer is unusable (includes malformed bodies)."""

    transient = False


class Timeout(ProviderError):
    transient = True


class ProviderConfig(BaseModel):
    """Base of each provider's config model (API keys are ``SecretStr``)."""


class ModelPrice(BaseModel):
    """Price per 1,000 tokens, in the price table's currency."""

    input_per_1k: float = Field(ge=0)
    output_per_1k: float = Field(ge=0)


class PriceTable(BaseModel):
    """Configurable prices by model name (exact match, then the longest prefix)."""

    currency: str = "USD"
    models: dict[str, ModelPrice] = Field(default_factory=dict)

    def cost(self, model: str, usage: Usage) -> float | None:
        price = self.models.get(model)
        if price is None:
            prefixes = [name for name in self.models if model.startswith(name)]
            if not prefixes:
                return None
            price = self.models[max(prefixes, key=len)]
        return (
            usage.input_tokens * price.input_per_1k + usage.output_tokens * price.output_per_1k
        ) / 1000.0

    def first_cost(self, names: Iterable[str], usage: Usage) -> float | None:
        """The cost at the price of the first of ``names`` the table prices (the model that
        answered, then the one asked for, ...); ``None`` when it prices none of them."""
        for name in names:
            cost = self.cost(name, usage)
            if cost is not None:
                return cost
        return None


class LLMProvider(Protocol):
    kind: ClassVar[ProviderKind]

    async def complete(self, request: CompletionRequest) -> Completion:
        """One answer. With ``request.json_schema`` the provider is asked for JSON that
        follows it (natively where it can, by instruction otherwise); the caller validates."""
        ...

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]:
        """The answer as it is generated."""
        ...


class Embedder(Protocol):
    """Dense embeddings. Failures are the same closed errors as completions; a malformed
    answer (wrong count, ragged or non-numeric vectors) is :class:`BadRequest`."""

    kind: ClassVar[ProviderKind]

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """The vectors of ``request.texts`` in order (batched as the provider needs)."""
        ...
