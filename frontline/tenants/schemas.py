from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=2, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    locale: str = Field(default="ru", pattern="^(ru|en)$")
    owner_email: EmailStr
    owner_password: str = Field(min_length=8, max_length=200)
    owner_name: str = Field(default="", max_length=200)


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    locale: str
    created_at: datetime


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="operator", pattern="^(owner|admin|operator)$")


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    # linked for the "Accept" button of operator alerts in Telegram (``null``: not linked)
    telegram_user_id: int | None = None


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(pattern="^(owner|admin|operator)$")
