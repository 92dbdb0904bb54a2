"""Channel adapters keyed by :class:`ChannelType`; each one built per call, never mutated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from frontline.channels.api.adapter import ApiChannelAdapter, ApiChannelConfig
from frontline.channels.avito.adapter import AvitoChannelAdapter, AvitoChannelConfig
from frontline.channels.base import (
    ChannelAdapter,
    ChannelConfig,
    ChannelType,
    InvalidPayload,
    validation_fields,
)
from frontline.channels.email.adapter import EmailChannelAdapter, EmailChannelConfig
from frontline.channels.email.mailbox import MailboxChannelAdapter, MailboxChannelConfig
from frontline.channels.telegram.adapter import TelegramChannelAdapter, TelegramChannelConfig
from frontline.channels.web.adapter import WebChannelAdapter, WebChannelConfig
from frontline.channels.whatsapp.adapter import WhatsAppChannelAdapter, WhatsAppChannelConfig


@dataclass(frozen=True)
class AdapterOptions:
    """Process-level knobs an adapter may need (from settings)."""

    outbound_timeout_seconds: float = 10.0
    webhook_tolerance_seconds: int = 300


@dataclass(frozen=True)
class ChannelSpec:
    config_model: type[ChannelConfig]
    build: Callable[[Any, str, AdapterOptions], ChannelAdapter]


REGISTRY: dict[ChannelType, ChannelSpec] = {
    ChannelType.API: ChannelSpec(
        ApiChannelConfig,
        lambda cfg, secret, opts: ApiChannelAdapter(cfg, secret, opts.outbound_timeout_seconds),
    ),
    ChannelType.EMAIL: ChannelSpec(
        EmailChannelConfig,
        lambda cfg, secret, opts: EmailChannelAdapter(cfg, secret, opts.webhook_tolerance_seconds),
    ),
    ChannelType.WEB: ChannelSpec(
        WebChannelConfig, lambda cfg, _secret, _opts: WebChannelAdapter(cfg)
    ),
    ChannelType.TELEGRAM: ChannelSpec(
        TelegramChannelConfig,
        lambda cfg, secret, opts: TelegramChannelAdapter(
            cfg, secret, opts.outbound_timeout_seconds
        ),
    ),
    ChannelType.WHATSAPP: ChannelSpec(
        WhatsAppChannelConfig,
        lambda cfg, _secret, opts: WhatsAppChannelAdapter(cfg, opts.outbound_timeout_seconds),
    ),
    ChannelType.AVITO: ChannelSpec(
        AvitoChannelConfig,
        lambda cfg, secret, opts: AvitoChannelAdapter(cfg, secret, opts.outbound_timeout_seconds),
    ),
    ChannelType.MAILBOX: ChannelSpec(
        MailboxChannelConfig, lambda cfg, _secret, _opts: MailboxChannelAdapter(cfg)
    ),
}


def spec_for(channel_type: ChannelType | str) -> ChannelSpec:
    try:
        return REGISTRY[ChannelType(channel_type)]
    except ValueError as exc:
        raise KeyError(f"unknown channel type {channel_type!r}") from exc


def validate_config(channel_type: ChannelType | str, raw: dict[str, Any]) -> ChannelConfig:
    """Parse a channel config; :class:`InvalidPayload` lists the field errors."""
    try:
        return spec_for(channel_type).config_model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidPayload("invalid channel config", validation_fields(exc.errors())) from exc


def build_adapter(
    channel_type: ChannelType | str, config: dict[str, Any], secret: str, options: AdapterOptions
) -> ChannelAdapter:
    spec = spec_for(channel_type)
    return spec.build(spec.config_model.model_validate(config), secret, options)


def build_validated(
    channel_type: ChannelType | str, config: ChannelConfig, secret: str, options: AdapterOptions
) -> ChannelAdapter:
    """:func:`build_adapter` from a config already validated (by :func:`validate_config`)."""
    spec = spec_for(channel_type)
    if not isinstance(config, spec.config_model):
        raise TypeError(f"{type(config).__name__} is not a {spec.config_model.__name__}")
    return spec.build(config, secret, options)
