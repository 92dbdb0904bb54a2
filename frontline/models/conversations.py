"""Conversations (each one is a ticket), messages, categories and tags."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, BigId, created_at_column, uuid_pk


class ConversationStatus(enum.StrEnum):
    BOT = "bot"
    PENDING = "pending"
    OPEN = "open"
    RESOLVED = "resolved"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SenderType(enum.StrEnum):
    CONTACT = "contact"
    AI = "ai"
    OPERATOR = "operator"
    SYSTEM = "system"


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound, stored
    QUEUED = "queued"  # outbound, waiting for the delivery job
    SENDING = "sending"  # outbound, handed to the channel, its answer not yet recorded
    # outbound, a send was interrupted (its worker died, or the channel never answered):
    # it may or may not have arrived, and is not sent again unless an operator resends it
    UNKNOWN = "unknown"
    SENT = "sent"  # outbound, accepted by the channel
    DELIVERED = "delivered"  # outbound, the channel reports it reached the customer's device
    READ = "read"  # outbound, the channel reports the customer read it
    FAILED = "failed"  # outbound, finally failed (see failure_reason)
    NOT_SENT = "not_sent"  # internal notes: never leave Frontline


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()


class Tag(Base):
    """A label operators put on conversations (many per conversation), per tenant."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    # a CSS colour, ``#rrggbb``
    color: Mapped[str] = mapped_column(String(7), default="#6b7280")
    created_at: Mapped[datetime] = created_at_column()


class ConversationTag(Base):
    """A tag on a conversation. ``tenant_id`` copies the conversation's (scoping)."""

    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_tag_id", "tag_id"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_tenant_activity", "tenant_id", "last_activity_at"),
        Index("ix_conversations_contact_channel", "contact_id", "channel_id"),
        Index("ix_conversations_tenant_created", "tenant_id", "created_at"),
        # the handoff-reasons report (migration 0022_an365)
        Index(
            "ix_conversations_tenant_created_handed_off",
            "tenant_id",
            "created_at",
            postgresql_include=["channel_id", "handoff_reason"],
            postgresql_where=text("handed_off_at IS NOT NULL"),
            sqlite_where=text("handed_off_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=ConversationStatus.BOT.value)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.NORMAL.value)
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    subject: Mapped[str] = mapped_column(String(500), default="")
    handoff_reason: Mapped[str | None] = mapped_column(String(500))
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # the customer's rating of the conversation once resolved (1-5), from the web widget
    csat_rating: Mapped[int | None] = mapped_column(SmallInteger)
    csat_comment: Mapped[str | None] = mapped_column(String(1000))
    csat_at: Mapped[datetime | None]
    # for analytics: when the conversation first went to the operator queue (kept after it
    # is answered), and whether it was ever reopened within 72 h of being resolved (such a
    # conversation does not count as resolved by the AI alone)
    handed_off_at: Mapped[datetime | None]
    reopened_soon: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the last message the customer has read (the customer API's "mark read")
    contact_last_read_id: Mapped[int | None] = mapped_column(BigInteger)
    # facts the channel gives about the conversation (``avito_item_id``: the listing an
    # Avito chat is about), for the console and the AI
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # tenant_id and channel_id copy the conversation's (the foreign key to the conversation
    # covers integrity and cascades). They carry no foreign keys of their own on purpose: on
    # PostgreSQL every insert would share-lock the one tenant row and channel row, which
    # under concurrent inbound traffic turns into multixact contention.
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    channel_id: Mapped[uuid.UUID] = mapped_column()
    sender_type: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_internal: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delivery_status: Mapped[str] = mapped_column(String(20))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


# meta.moderation.mode of a message moderation held (ai.moderation.Mode.HOLD)
MODERATION_HOLD = "hold"


def not_held(messages: Any) -> ColumnElement[bool]:
    """Of ``messages`` (the table's columns, or an alias's), those moderation did not hold:
    what a model may read (a held one may be abuse, spam or an injection attempt)."""
    mode = messages.meta["moderation"]["mode"].as_string()
    return or_(mode.is_(None), mode != MODERATION_HOLD)
