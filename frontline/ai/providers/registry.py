"""LLM provider adapters keyed by :class:`ProviderKind`: each kind's config model and factory.
An adapter is built per call from one tenant's (decrypted) config and never mutated.

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
    LLMProvider,
    PriceTable,
    ProviderConfig,
    ProviderKind,
)
from frontline.ai.providers.gigachat import GigaChatConfig, GigaChatProvider
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


def register(kind: ProviderKind, spec: ProviderSpec) -> None:
    """Add (or replace) the adapter for ``kind``; done once at start-up, not per call."""
    REGISTRY[kind] = spec


def spec_for(kind: ProviderKind | str) -> ProviderSpec:
    try:
        return REGISTRY[ProviderKind(kind)]
    except (ValueError, KeyError) as exc:
        raise UnknownProvider(f"no LLM provider {str(kind)!r}") from exc


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
    try:
        return spec_for(kind).config_model.model_validate(dict(raw))
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise InvalidProviderConfig("invalid provider config", _fields(errors)) from exc


def build_provider(
    kind: ProviderKind | str,
    config: Mapping[str, Any] | ProviderConfig,
    prices: PriceTable | None = None,
) -> LLMProvider:
    """The adapter for one call. ``config`` is the tenant's decrypted config (a dict, or an
    already validated model of the right class)."""
    spec = spec_for(kind)
    if isinstance(config, spec.config_model):
        parsed: ProviderConfig = config
    elif isinstance(config, ProviderConfig):
        raise InvalidProviderConfig(
            f"a {type(config).__name__} is not a config for {str(kind)!r}", []
        )
    else:
        parsed = validate_config(kind, config)
    return spec.build(parsed, prices or PriceTable())
