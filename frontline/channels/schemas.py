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
