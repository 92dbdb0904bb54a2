from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from frontline.channels.base import ChannelType


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    name: str = Field(min_length=1, max_length=200)
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
