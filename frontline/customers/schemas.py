"""Customer API I/O: only what the customer may see of their own conversations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from frontline.kit.text import NotBlank

MAX_TEXT_CHARS = 4000


class CustomerConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    created_at: datetime
    last_activity_at: datetime
    csat_rating: int | None = None
    last_read_id: int | None = None
    unread: int = 0


class CustomerConversationPage(BaseModel):
    items: list[CustomerConversationOut]
    next_cursor: str | None = None


class CustomerMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sender_type: str  # contact (the customer) | ai | operator | system
    text: str
    created_at: datetime


class CustomerMessagePage(BaseModel):
    items: list[CustomerMessageOut]
    # pass as ``after`` to read what comes next (null: nothing more now)
    next_cursor: int | None = None


class CustomerMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), NotBlank]
    # the client's id of this message: a retry with the same id is stored once
    client_id: str = Field(default_factory=lambda: "", max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")


class SentOut(BaseModel):
    conversation_id: int
    message_id: int
    duplicate: bool


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the last message read (default: the newest)
    message_id: int | None = Field(default=None, ge=1)


class CsatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    attributes: dict[str, Any] | None = None


class ProfileOut(BaseModel):
    user_id: str
    name: str | None
    email: str | None
    phone: str | None
    attributes: dict[str, Any]
