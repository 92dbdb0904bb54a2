"""Facts the analytics reports read instead of scanning every message."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from frontline.models.base import Base, BigId


class ConversationFacts(Base):
    """When a conversation first heard from the customer, the AI (visible) and an operator
    (visible): the minimum ``created_at`` of such messages. Maintained on write by a
    database trigger on ``messages`` (every insert path, in the inserting transaction), so
    it always equals the aggregate over the messages; migration 0016 backfills it. A fact
    only moves earlier, and a conversation without such messages has no row."""

    __tablename__ = "analytics_conversation_facts"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    contact_at: Mapped[datetime | None]
    ai_at: Mapped[datetime | None]
    operator_at: Mapped[datetime | None]


# the ``channel_id`` of usage from LLM calls outside any conversation (the copilot's, tests)
NO_CHANNEL = uuid.UUID(int=0)


class UsageDaily(Base):
    """LLM usage per tenant, UTC day, provider and channel (the channel of the call's
    conversation; :data:`NO_CHANNEL` without one): calls, tokens and cost. Kept on write by
    a trigger on ``ai_calls`` (in the inserting transaction); migration 0019 backfills it.
    It outlives the AI log's retention: the usage report keeps its history."""

    __tablename__ = "analytics_usage_daily"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_in: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class AnalyticsConversation(Base):
    """One conversation as the reports count it: its tenant, channel and start, whether it
    is resolved, resolved by the AI alone (strict: resolved, never handed off, no operator
    message, not reopened within 72 h, CSAT not negative) and handed off (0/1), its CSAT
    rating, and the seconds to the AI's first reply (after the customer's first message),
    to an operator's first reply (after the handoff) and to resolution. Recomputed by
    database triggers whenever the conversation or its facts change (migration
    0022_an365); the percentiles and unanswered questions read it instead of the wide
    conversations and their messages."""

    __tablename__ = "analytics_conversations"
    __table_args__ = (
        Index(
            "ix_analytics_conversations_tenant_created",
            "tenant_id",
            "created_at",
            postgresql_include=["channel_id", "ai_s", "op_s", "res_s"],
        ),
        Index(
            "ix_analytics_conversations_unanswered",
            "tenant_id",
            "created_at",
            postgresql_include=["channel_id", "question"],
            postgresql_where=text("question IS NOT NULL"),
            sqlite_where=text("question IS NOT NULL"),
        ),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    channel_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    resolved: Mapped[int] = mapped_column(SmallInteger)
    ai_resolved: Mapped[int] = mapped_column(SmallInteger)
    handed_off: Mapped[int] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    ai_s: Mapped[float | None] = mapped_column(Float)
    op_s: Mapped[float | None] = mapped_column(Float)
    res_s: Mapped[float | None] = mapped_column(Float)
    # handed off for lack of a confident answer: the customer's first message (lowest id),
    # lower-cased, trimmed, its first 200 characters; otherwise NULL
    question: Mapped[str | None] = mapped_column(Text)


class AnalyticsHourly(Base):
    """Per tenant, UTC day, UTC hour and channel: the sums of :class:`AnalyticsConversation`
    rows started then (conversations, resolved, AI-alone resolved, handed off, CSAT sum and
    count). A trigger on ``analytics_conversations`` moves every change of a row into it in
    the writing transaction; rows whose conversations all went stay with zeros."""

    __tablename__ = "analytics_hourly"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    channel_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)
    ai_resolved: Mapped[int] = mapped_column(Integer)
    handed_off: Mapped[int] = mapped_column(Integer)
    csat_sum: Mapped[int] = mapped_column(Integer)
    csat_count: Mapped[int] = mapped_column(Integer)
