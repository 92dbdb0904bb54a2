"""Copilot I/O. Nothing here is ever sent to the customer: an operator reads it, edits it
and sends it (or not) through the ordinary reply endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from frontline.copilot.prompts import RewriteMode
from frontline.kit.text import NotBlank

MAX_DRAFT_CHARS = 4000


class Produced(BaseModel):
    """Who produced an answer. ``degraded``: remote providers are configured but none
    answered, so the offline engine did; ``notice`` says so in words."""

    provider: str
    model: str
    degraded: bool = False
    notice: str | None = None


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stream: bool = False


class PassageOut(BaseModel):
    label: str  # K1, K2, ... as the suggestion cites them
    chunk_id: int
    document_id: int
    title: str
    excerpt: str
    url: str  # the knowledge document in the API
    cited: bool


class SuggestOut(Produced):
    text: str
    language: Literal["ru", "en"]
    passages: list[PassageOut]


class RewriteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_DRAFT_CHARS), NotBlank]
    mode: RewriteMode
    stream: bool = False


class TranslateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=MAX_DRAFT_CHARS), NotBlank]
    # default: the language the customer writes in
    language: Literal["ru", "en"] | None = None
    stream: bool = False


class DraftOut(Produced):
    text: str
    original: str  # the operator's draft, kept for undo
    language: Literal["ru", "en"]


class SummaryOut(Produced):
    summary: str
    needs: list[str]
    language: Literal["ru", "en"]
    handoff_reason: str | None = None


class BookingDraftOut(Produced):
    """A booking pre-filled from the conversation for the operator to check and save
    (``POST /bookings`` with ``conversation_id``); nothing is booked by this call.
    ``missing`` names what the conversation does not say: ``resource``, ``date``,
    ``end_date``, ``departure`` (no departure on that date), ``people``, ``name``,
    ``contact`` (a phone or an e-mail)."""

    conversation_id: int
    resource_id: uuid.UUID | None = None
    resource_name: str | None = None
    availability: str | None = None
    departure_id: uuid.UUID | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    adults: int | None = None
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_email: str | None = None
    locale: Literal["ru", "en"]
    missing: list[str]
