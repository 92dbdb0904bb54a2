"""LLM provider adapters keyed by :class:`ProviderKind`: each kind's config model and factory.
An adapter is built per call from one tenant's (decrypted) config and never mutated.

Embedders have their own table (:data:`EMBEDDERS`, :func:`build_embedder`). The remote kinds
use the same config model and the same adapter class for both, so one stored config serves
completions and embeddings, and an adapter built by either function can do both. ``OFFLINE``
has no embeddings (the knowledge base then searches lexically only); ``LOCAL`` is
embeddings only (sentence-transformers, an optional extra).

``ProviderKind.OFFLINE`` is the built-in engine in ``frontline.ai.offline``; it is not listed
here (so these adapters stay independent of it) and is added with :func:`register` by whoever
wires the engine, e.g. ``register(ProviderKind.OFFLINE, ProviderSpec(OfflineConfig, build))``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from frontline.ai.base import (
    BadRequest,
    Embedder,
    LLMProvider,
    PriceTable,
    ProviderConfig,
    ProviderKind,
)
from frontline.ai.providers.gigachat import GigaChatConfig, GigaChatProvider
from frontline.ai.providers.local_embeddings import LocalEmbedder, LocalEmbeddingsConfig
from frontline.ai.providers.openai_compat import (
    OpenAICompatibleConfig,
    OpenAICompatibleProvider,
    OpenAIConfig,
    OpenAIProvider,
    OpenRouterConfig,
    OpenRouterProvider,
)
from frontline.ai.providers.yandexgpt import YandexGPTConfig, YandexGPTProvider


class InvalidProviderConfig(BadRequest):
    """A provider config that does not validate; ``fields`` lists the errors (API-ready)."""

    def __init__(self, message: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.fields = fields


class UnknownProvider(BadRequest):
    """No adapter is registered for the kind (e.g. OFFLINE before the engine registers)."""


class UnknownEmbedder(UnknownProvider):
    """The kind has no embeddings (``OFFLINE``, or not a kind at all)."""


@dataclass(frozen=True)
class ProviderSpec:
    config_model: type[ProviderConfig]
    build: Callable[[Any, PriceTable], LLMProvider]


REGISTRY: dict[ProviderKind, ProviderSpec] = {
    ProviderKind.OPENAI: ProviderSpec(OpenAIConfig, OpenAIProvider),
    ProviderKind.OPENROUTER: ProviderSpec(OpenRouterConfig, OpenRouterProvider),
    ProviderKind.OPENAI_COMPATIBLE: ProviderSpec(OpenAICompatibleConfig, OpenAICompatibleProvider),
    ProviderKind.GIGACHAT: ProviderSpec(GigaChatConfig, GigaChatProvider),
    ProviderKind.YANDEXGPT: ProviderSpec(YandexGPTConfig, YandexGPTProvider),
    # ProviderKind.OFFLINE: registered by frontline.ai.providers.offline through register()
}


@dataclass(frozen=True)
class EmbedderSpec:
    config_model: type[ProviderConfig]
    build: Callable[[Any, PriceTable], Embedder]


EMBEDDERS: dict[ProviderKind, EmbedderSpec] = {
    ProviderKind.OPENAI: EmbedderSpec(OpenAIConfig, OpenAIProvider),
    ProviderKind.OPENROUTER: EmbedderSpec(OpenRouterConfig, OpenRouterProvider),
    ProviderKind.OPENAI_COMPATIBLE: EmbedderSpec(OpenAICompatibleConfig, OpenAICompatibleProvider),
    ProviderKind.GIGACHAT: EmbedderSpec(GigaChatConfig, GigaChatProvider),
    ProviderKind.YANDEXGPT: EmbedderSpec(YandexGPTConfig, YandexGPTProvider),
    ProviderKind.LOCAL: EmbedderSpec(LocalEmbeddingsConfig, LocalEmbedder),
}


def register(kind: ProviderKind, spec: ProviderSpec) -> None:
    """Add (or replace) the adapter for ``kind``; done once at start-up, not per call."""
    REGISTRY[kind] = spec


def spec_for(kind: ProviderKind | str) -> ProviderSpec:
    try:
        return REGISTRY[ProviderKind(kind)]
    except (ValueError, KeyError) as exc:
        raise UnknownProvider(f"no LLM provider {str(kind)!r}") from exc


def register_embedder(kind: ProviderKind, spec: EmbedderSpec) -> None:
    """Add (or replace) the embedder for ``kind``; done once at start-up, not per call."""
    EMBEDDERS[kind] = spec


def embedder_spec_for(kind: ProviderKind | str) -> EmbedderSpec:
    try:
        return EMBEDDERS[ProviderKind(kind)]
    except ValueError as exc:
        raise UnknownEmbedder(f"no embedding provider {str(kind)!r}") from exc
    except KeyError as exc:
        raise UnknownEmbedder(
            f"the {str(kind)!r} provider has no embeddings (the knowledge base searches "
            "lexically only)"
        ) from exc


def supports_embeddings(kind: ProviderKind | str) -> bool:
    """Whether ``kind`` has an embedder (``False`` for ``OFFLINE`` and unknown kinds)."""
    try:
        return ProviderKind(kind) in EMBEDDERS
    except ValueError:
        return False


def _fields(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


def validate_config(kind: ProviderKind | str, raw: Mapping[str, Any]) -> ProviderConfig:
    """Parse a provider config; :class:`InvalidProviderConfig` lists the field errors
    (secret values are never echoed: pydantic reports only locations and messages here)."""
    return _validate(spec_for(kind).config_model, raw)


def _validate(model: type[ProviderConfig], raw: Mapping[str, Any]) -> ProviderConfig:
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise InvalidProviderConfig("invalid provider config", _fields(errors)) from exc


def _parsed(
    kind: ProviderKind | str,
    model: type[ProviderConfig],
    config: Mapping[str, Any] | ProviderConfig,
) -> ProviderConfig:
    if isinstance(config, model):
        return config
    if isinstance(config, ProviderConfig):
        raise InvalidProviderConfig(
            f"a {type(config).__name__} is not a config for {str(kind)!r}", []
        )
    return _validate(model, config)


def build_provider(
    kind: ProviderKind | str,
    config: Mapping[str, Any] | ProviderConfig,
    prices: PriceTable | None = None,
) -> LLMProvider:
    """The adapter for one call. ``config`` is the tenant's decrypted config (a dict, or an
    already validated model of the right class)."""
    spec = spec_for(kind)
    return spec.build(_parsed(kind, spec.config_model, config), prices or PriceTable())


def validate_embedder_config(kind: ProviderKind | str, raw: Mapping[str, Any]) -> ProviderConfig:
    """Parse an embedding provider's config (the same model as its completion config, for
    the remote kinds); errors as :func:`validate_config`."""
    return _validate(embedder_spec_for(kind).config_model, raw)


def build_embedder(
    kind: ProviderKind | str,
    config: Mapping[str, Any] | ProviderConfig,
    prices: PriceTable | None = None,
) -> Embedder:
    """The embedder for one call (the model goes in each
    :class:`~frontline.ai.base.EmbeddingRequest`, as for completions).
    :class:`UnknownEmbedder` for a kind without embeddings (``OFFLINE``);
    :class:`~frontline.ai.providers.local_embeddings.LocalEmbeddingsUnavailable` for ``LOCAL``
    without the optional package."""
    spec = embedder_spec_for(kind)
    return spec.build(_parsed(kind, spec.config_model, config), prices or PriceTable())
