from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

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
    # the host application's user id when the customer is identified (signed)
    user_id: str | None = None
    attributes: dict[str, Any] = {}


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    ai_enabled: bool | None = None
    # typed custom attributes to set (``null`` removes one); 422 names a wrong field
    attributes: dict[str, Any] | None = None


class AttributeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=50)
    type: Literal["text", "number", "date", "boolean"]
    label: str = Field(default="", max_length=100)


class AttributeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    type: str
    label: str


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the contact merged into this one (it is deleted; its conversations move here)
    source_contact_id: uuid.UUID


class MergeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source_contact_id: uuid.UUID
    target_contact_id: uuid.UUID
    merged_by: uuid.UUID | None
    reason: str
    summary: dict[str, Any]
    created_at: datetime


class ContactConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: uuid.UUID
    status: str
    subject: str
    created_at: datetime
    last_activity_at: datetime
