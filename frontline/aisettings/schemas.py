from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from frontline.ai.base import ProviderKind
from frontline.ai.moderation import ModerationIn, ModerationSettings
from frontline.aisettings.behaviour import ReplyLanguage, WorkingHours
from frontline.kit.pagination import NextCursor

MAX_CHAIN = 10


class ChainEntryIn(BaseModel):
    """One provider of the fallback chain.

    ``api_key`` is write-only: given, it is encrypted and stored; left out, the stored key
    is kept; ``null`` removes it. An entry keeps its stored key when it names the stored
    entry's ``id`` or, without an ``id``, has the same kind and model.
    """

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    kind: ProviderKind
    model: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    api_key: SecretStr | None = Field(default=None, max_length=4000)


MAX_OUT_OF_SCOPE = 200
OutOfScopeExample = Annotated[str, StringConstraints(max_length=500)]


class AiSettingsIn(BaseModel):
    """The new settings; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")

    provider_chain: list[ChainEntryIn] | None = Field(default=None, max_length=MAX_CHAIN)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32_000)
    system_prompt: str | None = Field(default=None, max_length=20_000)
    answer_style: str | None = Field(default=None, max_length=500)
    auto_reply: bool | None = None
    auto_booking: bool | None = None
    offline_fallback: bool | None = None
    ai_enabled: bool | None = None
    escalation_keywords: list[str] | None = Field(default=None, max_length=200)
    # questions the business does not answer, e.g. "Do you have tours to Kamchatka?"
    out_of_scope_examples: list[OutOfScopeExample] | None = Field(
        default=None, max_length=MAX_OUT_OF_SCOPE
    )
    history_size: int | None = Field(default=None, ge=0, le=100)
    log_retention_days: int | None = Field(default=None, ge=1, le=3650)
    reply_languages: list[ReplyLanguage] | None = Field(default=None, max_length=2)
    channel_auto_reply: dict[uuid.UUID, bool] | None = Field(default=None, max_length=200)
    handoff_threshold: float | None = Field(default=None, ge=0, le=1)
    # explicit null: always working (no hours); left out: kept
    working_hours: WorkingHours | None = None
    # moderation before the AI: a mode per rule (``off`` | ``flag`` | ``hold``) and the
    # flood and spam thresholds; fields left out keep their value
    moderation: ModerationIn | None = None


class ChainEntryOut(BaseModel):
    id: str
    kind: ProviderKind
    model: str
    config: dict[str, Any]  # no secrets
    has_api_key: bool
    secret_fields: list[str]  # names of the stored secrets, never their values


class AiSettingsOut(BaseModel):
    provider_chain: list[ChainEntryOut]
    temperature: float
    max_tokens: int
    system_prompt: str
    answer_style: str
    auto_reply: bool
    auto_booking: bool
    offline_fallback: bool
    ai_enabled: bool
    escalation_keywords: list[str]
    out_of_scope_examples: list[str]
    history_size: int
    log_retention_days: int
    reply_languages: list[ReplyLanguage]
    channel_auto_reply: dict[str, bool]
    handoff_threshold: float
    working_hours: WorkingHours | None
    moderation: ModerationSettings
    updated_at: datetime | None


class KeysRotated(BaseModel):
    rotated: int


class AiCallSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int | None
    message_id: int | None
    provider: str
    model: str
    answer: str
    decision: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: int
    cost: float | None
    error: str | None
    created_at: datetime
    # null for the customer's turn; ``copilot.<action>`` for a call made for an operator
    purpose: str | None = None


class AiCallOut(AiCallSummary):
    prompt: Any


class AiCallPage(BaseModel):
    items: list[AiCallSummary]
    next_cursor: NextCursor = None
