"""Channels: where conversations come from and replies go to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontline.models.base import Base, created_at_column, uuid_pk


class Channel(Base):
    """One configured channel of a tenant.

    ``config_encrypted`` holds the adapter's JSON config (it may contain passwords) and
    ``secret_encrypted`` the webhook/bearer secret, both encrypted at rest.
    """

    __tablename__ = "channels"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    config_encrypted: Mapped[str] = mapped_column(Text)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
