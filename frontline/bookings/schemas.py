from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from frontline.models import Availability, BookingStatus, ResourceKind


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time zone offset is required (e.g. 2027-06-09T10:00:00+08:00)")
    return value


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class CancellationRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days_before: int = Field(ge=0, le=3650)
    penalty_percent: int = Field(ge=0, le=100)


class Conditions(BaseModel):
    """Condition fields; in an override every field is optional (absent = the template's)."""

    model_config = ConfigDict(extra="forbid")

    prepayment_percent: int | None = Field(default=None, ge=0, le=100)
    deposit_amount: Amount | None = None
    payment_deadline_days: int | None = Field(default=None, ge=0, le=3650)
    cancellation_rules: list[CancellationRule] | None = Field(default=None, max_length=20)
    checkin_rules: str | None = Field(default=None, max_length=5000)
    text: str | None = Field(default=None, max_length=10000)


class TemplateIn(Conditions):
    name: str = Field(min_length=1, max_length=200)


class TemplatePatch(Conditions):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prepayment_percent: int | None
    deposit_amount: Decimal | None
    payment_deadline_days: int | None
    cancellation_rules: list[CancellationRule]
    checkin_rules: str
    text: str
    created_at: datetime


class ResourceFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=10000)
    units: int | None = Field(default=None, ge=1, le=10000)
    per_person: bool | None = None
    currency: Currency | None = None
    timezone: TimeZone | None = None
    template_id: uuid.UUID | None = None
    overrides: Conditions | None = None
    notes: str | None = Field(default=None, max_length=10000)
    active: bool | None = None


class ResourceIn(ResourceFields):
    name: str = Field(min_length=1, max_length=200)
    kind: ResourceKind
    availability: Availability
    capacity: int = Field(ge=1, le=10000)
    price: Amount


class ResourcePatch(ResourceFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: ResourceKind | None = None
    capacity: int | None = Field(default=None, ge=1, le=10000)
    price: Amount | None = None


class ResourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    availability: str
    description: str
    capacity: int
    units: int
    price: Decimal
    per_person: bool
    currency: str
    timezone: str
    template_id: uuid.UUID | None
    overrides: dict[str, object]
    notes: str
    active: bool
    ical_token: str
    created_at: datetime


class DepartureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int | None = Field(default=None, ge=1, le=10000)
    price: Amount | None = None

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class DepartureOut(BaseModel):
    id: uuid.UUID
    resource_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    price: Decimal
    free_places: int


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resource_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    reason: str


class BookingIn(BaseModel):
    """A booking request: a departure of a tour, or a period of a rental."""

    model_config = ConfigDict(extra="forbid")

    resource_id: uuid.UUID
    departure_id: uuid.UUID | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    adults: int = Field(ge=1, le=10000)
    children: int = Field(default=0, ge=0, le=10000)
    customer_name: str = Field(default="", max_length=200)
    customer_phone: str | None = Field(default=None, max_length=50)
    customer_email: str | None = Field(default=None, max_length=320)
    notes: str = Field(default="", max_length=5000)
    conversation_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    locale: str | None = Field(default=None, pattern=r"^(ru|en)$")

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class BookingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    departure_id: uuid.UUID | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    adults: int | None = Field(default=None, ge=1, le=10000)
    children: int | None = Field(default=None, ge=0, le=10000)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_phone: str | None = Field(default=None, max_length=50)
    customer_email: str | None = Field(default=None, max_length=320)
    notes: str | None = Field(default=None, max_length=5000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: uuid.UUID
    departure_id: uuid.UUID | None
    conversation_id: int | None
    contact_id: uuid.UUID | None
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    adults: int
    children: int
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    total_price: Decimal
    currency: str
    locale: str
    notes: str
    reject_reason: str | None
    hold_until: datetime | None
    decided_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class BookingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hold_hours: int = Field(ge=1, le=24 * 30)


class ContactBookingOut(BookingOut):
    resource_name: str


class ContactBookingsOut(BaseModel):
    """A contact's bookings: ``upcoming`` (not yet ended, soonest first) and ``recent``
    (ended, latest first), at most five of each."""

    upcoming: list[ContactBookingOut]
    recent: list[ContactBookingOut]
