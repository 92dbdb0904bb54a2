"""Bookings: resources, condition templates, departures, blocked periods and bookings."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, BigId, created_at_column, uuid_pk

Money = Numeric(12, 2)


class ResourceKind(enum.StrEnum):
    ROOM = "room"
    HOUSE = "house"
    TOUR = "tour"
    EQUIPMENT = "equipment"


class Availability(enum.StrEnum):
    """How a resource is booked: on dated departures (tours; capacity is places per
    departure) or for a period (rentals; ``units`` identical units, each for at most
    ``capacity`` guests)."""

    DEPARTURES = "departures"
    NIGHTLY = "nightly"
    DAILY = "daily"
    HOURLY = "hourly"


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ConditionTemplate(Base):
    """Booking conditions shared by many resources (a resource may override fields)."""

    __tablename__ = "booking_condition_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prepayment_percent: Mapped[int | None]
    deposit_amount: Mapped[Decimal | None] = mapped_column(Money)
    payment_deadline_days: Mapped[int | None]
    # [{"days_before": 30, "penalty_percent": 0}, ...]
    cancellation_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    checkin_rules: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_at_column()


class Resource(Base):
    __tablename__ = "booking_resources"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    availability: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int]
    units: Mapped[int] = mapped_column(default=1)
    price: Mapped[Decimal] = mapped_column(Money)
    per_person: Mapped[bool] = mapped_column(default=True)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("booking_condition_templates.id", ondelete="SET NULL")
    )
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    ical_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()


class Departure(Base):
    """One dated departure of a tour (its own places and price when set)."""

    __tablename__ = "booking_departures"
    __table_args__ = (UniqueConstraint("resource_id", "starts_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("booking_resources.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int | None]
    price: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = created_at_column()


class BlockedPeriod(Base):
    __tablename__ = "booking_blocks"
    __table_args__ = (Index("ix_booking_blocks_resource_id_starts_at", "resource_id", "starts_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("booking_resources.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_resource_id_starts_at", "resource_id", "starts_at"),
        Index("ix_bookings_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("booking_resources.id", ondelete="CASCADE")
    )
    departure_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("booking_departures.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.PENDING.value)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    adults: Mapped[int]
    children: Mapped[int] = mapped_column(default=0)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_phone: Mapped[str | None] = mapped_column(String(50))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    total_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    notes: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    hold_until: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def guests(self) -> int:
        return self.adults + self.children
