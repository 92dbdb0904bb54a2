from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from frontline.attachments.schemas import AttachmentOut
from frontline.kit.text import NotBlank

MAX_REPLY_CHARS = 20_000


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    channel_id: uuid.UUID
    sender_type: str
    author_id: uuid.UUID | None
    is_internal: bool
    text: str
    external_id: str | None
    delivery_status: str
    failure_reason: str | None
    meta: dict[str, Any]
    created_at: datetime
    # files the customer sent with it (see frontline.attachments)
    attachments: list[AttachmentOut] = Field(default_factory=list)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_REPLY_CHARS), NotBlank]


def message_event(message: Any) -> dict[str, Any]:
    """The realtime payload of a message."""
    return MessageOut.model_validate(message).model_dump(mode="json")
