"""Files customers sent with their messages (the bytes live in the attachment store)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from frontline.models.base import Base, BigId, created_at_column


class AttachmentStatus(enum.StrEnum):
    PENDING = "pending"  # at the provider (``provider_ref``), an ``attachments.fetch`` job
    STORED = "stored"  # in the store under ``storage_key``
    FAILED = "failed"  # never stored (``failure_reason``); the message itself is kept


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_message_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # like messages: tenant and channel without foreign keys of their own (the message's
    # and conversation's keys cover integrity and cascades; see Message)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    channel_id: Mapped[uuid.UUID] = mapped_column()
    # both empty while a widget upload waits for the message it is sent with
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    # sniffed from the bytes; the provider's declaration until then
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    # the provider's file id while pending (a Telegram file_id, a WhatsApp media id)
    provider_ref: Mapped[str | None] = mapped_column(String(1000))
    # a widget upload's owner (the visitor's contact external id) until it is sent
    uploader: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()
