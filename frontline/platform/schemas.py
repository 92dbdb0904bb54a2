from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Plan limits; ``null`` is unlimited."""

    model_config = ConfigDict(extra="forbid")

    conversations_per_month: int | None = Field(default=None, ge=0, le=100_000_000)
    operators: int | None = Field(default=None, ge=1, le=100_000)
    documents: int | None = Field(default=None, ge=0, le=10_000_000)


class Usage(BaseModel):
    conversations: int
    conversations_this_month: int
    messages: int
    tokens: int
    storage_bytes: int
    members: int
    documents: int


class PlatformTenantOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    locale: str
    created_at: datetime
    suspended: bool
    suspended_at: datetime | None
    limits: Limits
    usage: Usage
