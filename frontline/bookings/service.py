"""Bookings logic: the catalogue (condition templates, resources, departures, blocked
periods), availability, and the life of a booking (pending -> confirmed | rejected | expired
| cancelled).

No double booking: every write that takes places first locks the row the places belong to
(the departure of a tour, the resource of a rental) with ``SELECT ... FOR UPDATE`` on
PostgreSQL, then counts what holds places and inserts in the same transaction; concurrent
requests for the last place queue on that lock and the losers see it taken. On SQLite every
write transaction begins with ``BEGIN IMMEDIATE`` (see :mod:`frontline.kit.db`), which
serialises them the same way.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.bookings.repository import (
    MAX_PERIOD,
    BlockRepository,
    BookingRepository,
    DepartureRepository,
    ResourceRepository,
    TemplateRepository,
)
from frontline.bookings.schemas import (
    BookingIn,
    BookingOut,
    BookingPatch,
    ResourceIn,
    ResourcePatch,
    TemplateIn,
    TemplatePatch,
)
from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.jobs import queue
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import (
    Availability,
    Booking,
    BookingStatus,
    ConditionTemplate,
    Departure,
    Resource,
)
from frontline.realtime.publish import publish_after_commit
from frontline.tenants import service as tenants

DEFAULT_HOLD_HOURS = 24
HOLD_SETTING = "booking_hold_hours"
CONDITION_FIELDS = (
    "prepayment_percent",
    "deposit_amount",
    "payment_deadline_days",
    "cancellation_rules",
    "checkin_rules",
    "text",
)


def invalid(message: str) -> Unprocessable:
    return Unprocessable(message, code="booking_invalid")


# --- condition templates ----------------------------------------------------------------


async def list_templates(session: AsyncSession, scope: TenantScope) -> list[ConditionTemplate]:
    return await TemplateRepository(session, scope).list()


async def get_template(
    session: AsyncSession, scope: TenantScope, template_id: uuid.UUID
) -> ConditionTemplate:
    found = await TemplateRepository(session, scope).get(template_id)
    if found is None:
        raise NotFound("condition template not found")
    return found


def _apply_conditions(target: ConditionTemplate, body: TemplateIn | TemplatePatch) -> None:
    for name in body.model_fields_set & set(CONDITION_FIELDS):
        value = getattr(body, name)
        if name == "cancellation_rules":
            value = [r.model_dump() for r in value or []]
            value.sort(key=lambda r: -int(r["days_before"]))
        elif name in ("checkin_rules", "text"):
            value = value or ""
        setattr(target, name, value)


async def create_template(
    session: AsyncSession, scope: TenantScope, body: TemplateIn
) -> ConditionTemplate:
    repo = TemplateRepository(session, scope)
    if await repo.by_name(body.name.strip()) is not None:
        raise Conflict(f"condition template {body.name!r} already exists", code="duplicate_name")
    template = ConditionTemplate(name=body.name.strip(), cancellation_rules=[], checkin_rules="")
    template.text = ""
    _apply_conditions(template, body)
    repo.add(template)
    await session.flush()
    return template


async def update_template(
    session: AsyncSession, scope: TenantScope, template_id: uuid.UUID, body: TemplatePatch
) -> ConditionTemplate:
    template = await get_template(session, scope, template_id)
    if body.name is not None and body.name.strip() != template.name:
        if await TemplateRepository(session, scope).by_name(body.name.strip()) is not None:
            raise Conflict(
                f"condition template {body.name!r} already exists", code="duplicate_name"
            )
        template.name = body.name.strip()
    _apply_conditions(template, body)
    await session.flush()
    return template


async def delete_template(
    session: AsyncSession, scope: TenantScope, template_id: uuid.UUID
) -> None:
    await session.delete(await get_template(session, scope, template_id))
    await session.flush()


# --- resources --------------------------------------------------------------------------


async def list_resources(
    session: AsyncSession, scope: TenantScope, *, active_only: bool = False
) -> list[Resource]:
    return await ResourceRepository(session, scope).list(active_only=active_only)


async def get_resource(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID
) -> Resource:
    found = await ResourceRepository(session, scope).get(resource_id)
    if found is None:
        raise NotFound("resource not found")
    return found


async def _check_template(
    session: AsyncSession, scope: TenantScope, template_id: uuid.UUID | None
) -> None:
    if (
        template_id is not None
        and await TemplateRepository(session, scope).get(template_id) is None
    ):
        raise invalid("unknown condition template")


def _apply_resource(resource: Resource, body: ResourceIn | ResourcePatch) -> None:
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "overrides":
            value = {} if value is None else value.model_dump(mode="json", exclude_unset=True)
        elif value is None and name != "template_id":
            continue
        elif name in ("kind", "availability"):
            value = value.value
        elif name == "name":
            value = value.strip()
        setattr(resource, name, value)


async def create_resource(session: AsyncSession, scope: TenantScope, body: ResourceIn) -> Resource:
    repo = ResourceRepository(session, scope)
    if await repo.by_name(body.name.strip()) is not None:
        raise Conflict(f"resource {body.name!r} already exists", code="duplicate_name")
    await _check_template(session, scope, body.template_id)
    resource = Resource(
        description="",
        units=1,
        per_person=True,
        currency="RUB",
        timezone="Europe/Moscow",
        overrides={},
        notes="",
        active=True,
        ical_token=secrets.token_urlsafe(24),
    )
    _apply_resource(resource, body)
    repo.add(resource)
    await session.flush()
    return resource


async def update_resource(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID, body: ResourcePatch
) -> Resource:
    repo = ResourceRepository(session, scope)
    resource = await get_resource(session, scope, resource_id)
    renamed = body.name is not None and body.name.strip() != resource.name
    if renamed and body.name and await repo.by_name(body.name.strip()) is not None:
        raise Conflict(f"resource {body.name!r} already exists", code="duplicate_name")
    if "template_id" in body.model_fields_set:
        await _check_template(session, scope, body.template_id)
    _apply_resource(resource, body)
    await session.flush()
    return resource


async def delete_resource(
    session: AsyncSession, scope: TenantScope, resource_id: uuid.UUID
) -> None:
    """Delete a resource with its schedule and past bookings; 409 while bookings of it
    still hold places (deleting would silently drop them: deactivate it instead)."""
    resource = await get_resource(session, scope, resource_id)
    if await BookingRepository(session, scope).holding_of_resource(resource.id, utcnow()):
        raise Conflict(
            "the resource has pending or confirmed bookings; reject or cancel them first, "
            "or deactivate the resource",
            code="in_use",
        )
    await session.delete(resource)
    await session.flush()


async def conditions_of(
    session: AsyncSession, scope: TenantScope, resource: Resource
) -> dict[str, Any]:
    """The resource's effective conditions: its template's, overridden field by field."""
    result: dict[str, Any] = dict.fromkeys(CONDITION_FIELDS)
    if resource.template_id is not None:
        template = await TemplateRepository(session, scope).get(resource.template_id)
        if template is not None:
            result.update({name: getattr(template, name) for name in CONDITION_FIELDS})
    result.update({k: v for k, v in resource.overrides.items() if k in CONDITION_FIELDS})
    return result


# --- bookings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Where a booking sits: a departure, or a period of a rental."""

    starts_at: datetime
    ends_at: datetime
    departure: Departure | None
    price: Decimal


def periods(availability: str, start: datetime, end: datetime) -> int:
    """How many billed periods (nights, days, hours) ``[start, end)`` spans."""
    seconds = (end - start).total_seconds()
    unit = 3600 if availability == Availability.HOURLY.value else 86400
    return max(1, math.ceil(seconds / unit - 1e-9))


async def _take_slot(
    session: AsyncSession,
    scope: TenantScope,
    resource: Resource,
    *,
    departure_id: uuid.UUID | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    guests: int,
    exclude: int | None = None,
) -> Slot:
    """Lock what the places belong to and check there is room for ``guests`` (4xx if not)."""
    now = utcnow()
    bookings = BookingRepository(session, scope)
    if resource.availability == Availability.DEPARTURES.value:
        if departure_id is None:
            raise invalid("this tour is booked on a departure: departure_id is required")
        departure = await DepartureRepository(session, scope).get_for_update(departure_id)
        if departure is None or departure.resource_id != resource.id:
            raise invalid("unknown departure of this resource")
        if departure.starts_at <= now:
            raise invalid("this departure is in the past")
        capacity = departure.capacity or resource.capacity
        if guests > capacity:
            raise invalid(f"more guests ({guests}) than the departure has places ({capacity})")
        held = await bookings.held_on_departure(departure.id, now, exclude)
        if held + guests > capacity:
            raise Conflict(
                f"not enough free places: {max(0, capacity - held)} left",
                code="booking_unavailable",
            )
        price = departure.price if departure.price is not None else resource.price
        return Slot(departure.starts_at, departure.ends_at, departure, price)
    if starts_at is None or ends_at is None:
        raise invalid("starts_at and ends_at are required for this resource")
    if ends_at <= starts_at:
        raise invalid("ends_at must be after starts_at")
    if starts_at < now:
        raise invalid("the dates are in the past")
    if ends_at - starts_at > MAX_PERIOD:
        raise invalid(f"a booking spans at most {MAX_PERIOD.days} days")
    if guests > resource.capacity:
        raise invalid(f"more guests ({guests}) than the capacity ({resource.capacity})")
    locked = await ResourceRepository(session, scope).get_for_update(resource.id)
    assert locked is not None
    block = await BlockRepository(session, scope).overlapping(resource.id, starts_at, ends_at)
    if block is not None:
        raise Conflict("the resource is not available in this period", code="booking_unavailable")
    taken = await bookings.overlapping_held(resource.id, starts_at, ends_at, now, exclude)
    if taken >= resource.units:
        raise Conflict("the resource is already booked in this period", code="booking_unavailable")
    return Slot(starts_at, ends_at, None, resource.price)


def _total(resource: Resource, slot: Slot, guests: int) -> Decimal:
    count = (
        1
        if slot.departure is not None
        else periods(resource.availability, slot.starts_at, slot.ends_at)
    )
    return slot.price * count * (guests if resource.per_person else 1)


async def hold_hours(session: AsyncSession, scope: TenantScope) -> int:
    tenant = await tenants.get_tenant(session, scope)
    return int(tenant.settings.get(HOLD_SETTING) or DEFAULT_HOLD_HOURS)


async def set_hold_hours(session: AsyncSession, scope: TenantScope, hours: int) -> None:
    tenant = await tenants.get_tenant(session, scope)
    tenant.settings = {**tenant.settings, HOLD_SETTING: hours}
    await session.flush()


def publish(session: AsyncSession, booking: Booking, name: str) -> None:
    data = BookingOut.model_validate(booking).model_dump(mode="json")
    publish_after_commit(session, events.inbox_topic(booking.tenant_id), name, data)


async def create_booking(
    session: AsyncSession,
    scope: TenantScope,
    body: BookingIn,
    *,
    contact_id: uuid.UUID | None = None,
    locale: str = "ru",
) -> Booking:
    """A pending booking holding its places until the tenant's hold runs out."""
    resource = await ResourceRepository(session, scope).get(body.resource_id)
    if resource is None:
        raise invalid("unknown resource")
    if not resource.active:
        raise invalid("this resource is not bookable now")
    guests = body.adults + body.children
    slot = await _take_slot(
        session,
        scope,
        resource,
        departure_id=body.departure_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        guests=guests,
    )
    now = utcnow()
    hours = await hold_hours(session, scope)
    booking = BookingRepository(session, scope).add(
        Booking(
            resource_id=resource.id,
            departure_id=slot.departure.id if slot.departure else None,
            conversation_id=body.conversation_id,
            contact_id=contact_id,
            status=BookingStatus.PENDING.value,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            adults=body.adults,
            children=body.children,
            customer_name=body.customer_name.strip(),
            customer_phone=body.customer_phone,
            customer_email=body.customer_email,
            total_price=_total(resource, slot, guests),
            currency=resource.currency,
            locale=body.locale or locale,
            notes=body.notes,
            hold_until=now + timedelta(hours=hours),
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await queue.insert(
        session,
        events.JOB_BOOKING_EXPIRE,
        {"booking_id": booking.id},
        tenant_id=scope.tenant_id,
        idempotency_key=f"booking-expire:{booking.id}",
        delay_seconds=hours * 3600,
    )
    publish(session, booking, events.BOOKING_CREATED)
    return booking


async def get_booking(
    session: AsyncSession, scope: TenantScope, booking_id: int, *, for_update: bool = False
) -> Booking:
    repo = BookingRepository(session, scope)
    found = await (repo.get_for_update(booking_id) if for_update else repo.get(booking_id))
    if found is None:
        raise NotFound("booking not found")
    return found


async def move_contact(
    session: AsyncSession, scope: TenantScope, source: uuid.UUID, target: uuid.UUID
) -> int:
    """A contact merge: the source contact's bookings become the target's (else deleting
    the source would unlink them, and the customer's profile and AI context would lose
    them)."""
    return await BookingRepository(session, scope).move_contact(source, target)


async def search_bookings(
    session: AsyncSession, scope: TenantScope, **filters: Any
) -> list[Booking]:
    return await BookingRepository(session, scope).search(**filters)


async def created_by_day(
    session: AsyncSession,
    scope: TenantScope,
    start: datetime,
    end: datetime,
    channel_id: uuid.UUID | None = None,
) -> list[tuple[str, int, int]]:
    """For analytics: ``(UTC day, bookings created, of those confirmed now)`` per day with
    bookings in ``[start, end)``."""
    return await BookingRepository(session, scope).created_by_day(start, end, channel_id)


def _check_pending(booking: Booking, now: datetime) -> None:
    if booking.status == BookingStatus.PENDING.value and (
        booking.hold_until is not None and booking.hold_until <= now
    ):
        raise Conflict("the booking's hold has expired", code="booking_expired")
    if booking.status != BookingStatus.PENDING.value:
        raise Conflict(f"the booking is {booking.status}, not pending", code="booking_not_pending")


async def confirm(
    session: AsyncSession, scope: TenantScope, booking_id: int, user_id: uuid.UUID | None
) -> Booking:
    booking = await get_booking(session, scope, booking_id, for_update=True)
    now = utcnow()
    _check_pending(booking, now)
    booking.status = BookingStatus.CONFIRMED.value
    booking.hold_until = None
    booking.decided_by = user_id
    booking.updated_at = now
    await session.flush()
    publish(session, booking, events.BOOKING_CONFIRMED)
    return booking


async def reject(
    session: AsyncSession,
    scope: TenantScope,
    booking_id: int,
    reason: str,
    user_id: uuid.UUID | None,
) -> Booking:
    booking = await get_booking(session, scope, booking_id, for_update=True)
    now = utcnow()
    if booking.status != BookingStatus.PENDING.value:
        raise Conflict(f"the booking is {booking.status}, not pending", code="booking_not_pending")
    booking.status = BookingStatus.REJECTED.value
    booking.reject_reason = reason.strip()
    booking.hold_until = None
    booking.decided_by = user_id
    booking.updated_at = now
    await session.flush()
    publish(session, booking, events.BOOKING_REJECTED)
    return booking


async def cancel(
    session: AsyncSession, scope: TenantScope, booking_id: int, user_id: uuid.UUID | None
) -> Booking:
    booking = await get_booking(session, scope, booking_id, for_update=True)
    if booking.status not in (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value):
        raise Conflict(f"the booking is {booking.status}", code="booking_not_active")
    booking.status = BookingStatus.CANCELLED.value
    booking.hold_until = None
    booking.decided_by = user_id
    booking.updated_at = utcnow()
    await session.flush()
    publish(session, booking, events.BOOKING_CANCELLED)
    return booking


async def edit(
    session: AsyncSession, scope: TenantScope, booking_id: int, body: BookingPatch
) -> Booking:
    """Change a pending or confirmed booking; a change of dates or guests is checked for
    room like a new booking (the booking's own places do not count against it)."""
    booking = await get_booking(session, scope, booking_id, for_update=True)
    now = utcnow()
    if booking.status == BookingStatus.PENDING.value:
        _check_pending(booking, now)
    elif booking.status != BookingStatus.CONFIRMED.value:
        raise Conflict(f"the booking is {booking.status}", code="booking_not_active")
    fields = body.model_fields_set
    if fields & {"departure_id", "starts_at", "ends_at", "adults", "children"}:
        resource = await get_resource(session, scope, booking.resource_id)
        adults = body.adults if body.adults is not None else booking.adults
        children = body.children if body.children is not None else booking.children
        slot = await _take_slot(
            session,
            scope,
            resource,
            departure_id=body.departure_id or booking.departure_id,
            starts_at=body.starts_at or booking.starts_at,
            ends_at=body.ends_at or booking.ends_at,
            guests=adults + children,
            exclude=booking.id,
        )
        booking.adults, booking.children = adults, children
        booking.departure_id = slot.departure.id if slot.departure else None
        booking.starts_at, booking.ends_at = slot.starts_at, slot.ends_at
        booking.total_price = _total(resource, slot, adults + children)
    for name in ("customer_name", "customer_phone", "customer_email", "notes"):
        if name in fields and getattr(body, name) is not None:
            setattr(booking, name, getattr(body, name))
    booking.updated_at = now
    await session.flush()
    publish(session, booking, events.BOOKING_UPDATED)
    return booking


async def expire(session: AsyncSession, scope: TenantScope, booking_id: int) -> Booking | None:
    """Mark a pending booking whose hold ran out as expired (its places are already free);
    ``None`` when there is nothing to do (decided meanwhile, or the hold was extended)."""
    booking = await BookingRepository(session, scope).get_for_update(booking_id)
    now = utcnow()
    if booking is None or booking.status != BookingStatus.PENDING.value:
        return None
    if booking.hold_until is not None and booking.hold_until > now:
        return None
    booking.status = BookingStatus.EXPIRED.value
    booking.updated_at = now
    await session.flush()
    publish(session, booking, events.BOOKING_EXPIRED)
    return booking
