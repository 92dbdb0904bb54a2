from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from frontline.conversations.reasons import ReasonCode, reason_code
from frontline.kit.pagination import NextCursor
from frontline.kit.text import MessageText
from frontline.messages.schemas import MessageOut
from frontline.models import ConversationStatus, Priority
from frontline.tickets.schemas import TagOut


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """A conversation's id and state, as the inbound path reads them."""

    id: int
    status: str


class LastMessage(BaseModel):
    """A conversation's newest visible message, shortened for the inbox row."""

    sender_type: str
    text: str
    created_at: datetime


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    status: ConversationStatus
    priority: Priority
    category_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    subject: str
    handoff_reason: str | None
    last_activity_at: datetime
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    csat_rating: int | None = None
    csat_comment: str | None = None
    # in lists and the detail: the conversation's tags (null where not loaded: the answers
    # of PATCH and assign, realtime frames)
    tags: list[TagOut] | None = None
    # in lists only: the newest message the customer or a reply left (not internal notes)
    last_message: LastMessage | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def handoff_reason_code(self) -> ReasonCode | None:
        """The reason as a stable code (the console shows it in its own language)."""
        return reason_code(self.handoff_reason)

    meta: dict[str, Any] = Field(default_factory=dict)


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: NextCursor = None


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ConversationStatus | None = None
    priority: Priority | None = None
    category_id: uuid.UUID | None = None
    subject: str | None = Field(default=None, max_length=500)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: uuid.UUID | None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: MessageText
