"""AI settings (one row per tenant) and the AI log (every LLM call, for audit)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, BigId, created_at_column


class AiSettings(Base):
    """A tenant's AI configuration.

    ``provider_chain`` is the ordered fallback chain, each entry ``{id, kind, model, config}``
    with no secret in ``config``; the entries' secrets (API keys) live in
    ``secrets_encrypted``, one SecretBox ciphertext of ``{entry id: {field: value}}``.
    """

    __tablename__ = "ai_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    provider_chain: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    temperature: Mapped[float] = mapped_column(Float, default=0.2)
    max_tokens: Mapped[int] = mapped_column(default=800)
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    answer_style: Mapped[str] = mapped_column(String(500), default="")
    auto_reply: Mapped[bool] = mapped_column(default=True)
    auto_booking: Mapped[bool] = mapped_column(default=False)
    offline_fallback: Mapped[bool] = mapped_column(default=True)
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    escalation_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # questions the business does not answer (the offline engine hands such questions off)
    out_of_scope_examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    history_size: Mapped[int] = mapped_column(default=10)
    log_retention_days: Mapped[int] = mapped_column(default=90)
    # behaviour rules (``frontline.aisettings.behaviour``): languages the AI answers in
    # (empty: any), per-channel auto-reply ({channel id: on}), the confidence below which
    # it hands off (0: off), operators' working hours (null: always)
    reply_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_auto_reply: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    handoff_threshold: Mapped[float] = mapped_column(Float, default=0.0)
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # moderation before the AI (``frontline.ai.moderation``): a mode per rule and the flood
    # and spam thresholds (null: the defaults)
    moderation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AiCall(Base):
    """One LLM call (the AI log). Conversation and message ids are plain references, not
    foreign keys: the audit record outlives the rows it describes."""

    __tablename__ = "ai_calls"
    __table_args__ = (Index("ix_ai_calls_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(BigId)
    message_id: Mapped[int | None] = mapped_column(BigId)
    provider: Mapped[str] = mapped_column(String(30))
    model: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[Any] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(30))
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    latency_ms: Mapped[int] = mapped_column(default=0)
    cost: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    # what the call was for: null for the customer turn, ``copilot.<action>`` beside operators
    purpose: Mapped[str | None] = mapped_column(String(40))
