"""Canned replies: a tenant's ready-made answers operators insert into the composer."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, created_at_column, uuid_pk


class CannedReply(Base):
    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("tenant_id", "title"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
