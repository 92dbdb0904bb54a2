"""Facts the analytics reports read instead of scanning every message."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, String
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
