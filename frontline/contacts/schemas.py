from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class ContactRef:
    """The few contact fields the inbound path needs (read without loading the entity)."""

    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    ai_enabled: bool


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel_id: uuid.UUID
    external_id: str


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    ai_enabled: bool
    created_at: datetime
    identities: list[IdentityOut] = []


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    ai_enabled: bool | None = None
