"""Contacts (end customers) and their identities on channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, created_at_column, uuid_pk


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    ai_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the host application's id of an identified customer (signed by its backend)
    user_id: Mapped[str | None] = mapped_column(String(200))
    # typed custom attributes ``{key: value}``; each key's type is a ContactAttribute row
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContactIdentity(Base):
    """A contact's id on one channel (a Telegram user id, an e-mail address, ...)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = created_at_column()


class ContactAttribute(Base):
    """A tenant's custom contact attribute: its key and type (``text``, ``number``, ``date``,
    ``boolean``), declared by an admin or by the first value set for it."""

    __tablename__ = "contact_attributes"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = created_at_column()


class ContactMerge(Base):
    """The audit record of one contact merged into another (contact ids are plain values:
    the merged contact no longer exists)."""

    __tablename__ = "contact_merges"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    source_contact_id: Mapped[uuid.UUID] = mapped_column()
    target_contact_id: Mapped[uuid.UUID] = mapped_column()
    # who merged: a staff user, or null when the customer identified themselves
    merged_by: Mapped[uuid.UUID | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(30))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()
