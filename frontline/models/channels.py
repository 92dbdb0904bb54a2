"""Channels: where conversations come from and replies go to."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
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
    # False: replies have nowhere to be pushed (an API channel without a callback URL) - they
    # are stored as delivered and the integration polls them; no delivery job runs. Kept in
    # step with the config by the channels service (plain, so the reply path needs no key).
    pushes_replies: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = created_at_column()


class ChannelState(Base):
    """What a polling channel remembers between runs (a Telegram ``getUpdates`` offset, an
    IMAP mailbox's UIDVALIDITY and last UID), one row per channel, written by the poller
    in the same transaction as the messages it stored."""

    __tablename__ = "channel_states"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
