from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from frontline.channels.base import ChannelType
from frontline.channels.registry import REGISTRY

NAME_MAX = 200


def _variant(kind: ChannelType) -> type[BaseModel]:
    """``{type: <kind>, name, config: <kind's config>}``, for the schema."""
    config_model = REGISTRY[kind].config_model
    required = any(f.is_required() for f in config_model.model_fields.values())
    tag: Any = Literal[kind.value]
    model: type[BaseModel] = create_model(
        f"{config_model.__name__.removesuffix('Config')}In",
        __config__=ConfigDict(extra="forbid"),
        type=(tag, ...),
        name=(str, Field(min_length=1, max_length=NAME_MAX)),
        # optional (never null) when every field has a default
        config=(config_model, ...) if required else (config_model, Field(default=None)),
    )
    return model


def _channel_in_schema(schema: dict[str, Any]) -> None:
    """A new channel's body, documented as a union discriminated by ``type``: each type
    with its own config schema. Validation is the same: the config is checked against its
    type's model (422 with the field errors)."""
    variants = tuple(_variant(kind) for kind in ChannelType)
    defs: dict[str, Any] = {}
    for variant in variants:
        variant_schema = variant.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(variant_schema.pop("$defs", {}))
        defs[variant.__name__] = variant_schema
    schema.clear()
    schema["oneOf"] = [{"$ref": f"#/$defs/{v.__name__}"} for v in variants]
    schema["discriminator"] = {
        "propertyName": "type",
        "mapping": {
            kind.value: f"#/$defs/{v.__name__}"
            for kind, v in zip(ChannelType, variants, strict=True)
        },
    }
    schema["$defs"] = defs


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_channel_in_schema)

    type: ChannelType
    name: str = Field(min_length=1, max_length=NAME_MAX)
    config: dict[str, Any] = Field(default_factory=dict)


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    is_active: bool | None = None


class ChannelOut(BaseModel):
    id: uuid.UUID
    type: ChannelType
    name: str
    is_active: bool
    config: dict[str, Any]  # secret fields masked
    created_at: datetime


class ChannelSummary(BaseModel):
    id: uuid.UUID
    name: str
    type: ChannelType


class ChannelWithSecret(ChannelOut):
    secret: str


class InboundAccepted(BaseModel):
    message_id: int
    conversation_id: int
    duplicate: bool


class ChannelHealth(BaseModel):
    """A channel's delivery health: its latest traffic and its recent final failures.
    ``failed_24h`` counts outbound messages created in the last 24 hours that finally failed;
    ``last_failure_reason`` is the newest one's (the provider's words)."""

    channel_id: uuid.UUID
    type: ChannelType
    is_active: bool
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    failed_24h: int
    last_failure_at: datetime | None
    last_failure_reason: str | None
