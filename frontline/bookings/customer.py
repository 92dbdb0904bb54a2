"""A customer's own bookings: the list in the console's profile panel, the block the AI
turn gets as business data for an identified customer, and the offline engine's answer to
"when is my tour?".

Scoped to one contact: the bookings linked to it (made in its conversations, by the AI or by
an operator). Upcoming ones (not yet ended) come soonest first, recent ones latest first."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.bookings import notify, service
from frontline.bookings.repository import BookingRepository
from frontline.bookings.schemas import BookingOut, ContactBookingOut, ContactBookingsOut
from frontline.contacts import service as contacts
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Booking, BookingStatus

OWN_LIMIT = 5
TITLE = "The customer's own bookings"
# a question about the customer's own booking ("когда мой тур?", "when is my booking?")
QUESTION = re.compile(
    r"\b(мо[йяеёи]|мою|моего|моей|моих|наш[аеиу]?|нашей|нашего|наших)\s+"
    r"(тур|брон|заказ|поездк|заявк|экскурси|выезд|заезд|путешеств)"
    r"|\bкогда\s+(у\s+меня|у\s+нас|я\s+еду|мы\s+едем)"
    r"|\b(my|our)\s+(tour|booking|reservation|trip|stay|departure)"
    r"|\bwhen\s+(is|do|am|are)\s+(my|i|we|our)\b",
    re.IGNORECASE,
)
# a change is for a person (or the booking turn), not a recital of the booking
CHANGE = re.compile(r"перен[её]с|отмен|измен|поменя|cancel|change|move|reschedul", re.I)
# ...unless the customer asks for a new booking ("хочу забронировать наш тур")
NEW = re.compile(r"забронир|хочу|хотим|\bbook\s+(a|an|the|for)\b|\breserve\b|\bwant", re.I)
LIVE = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)
_STATUS = {
    "pending": {"ru": "ожидает подтверждения", "en": "waiting for confirmation"},
    "confirmed": {"ru": "подтверждено", "en": "confirmed"},
    "rejected": {"ru": "отклонено", "en": "declined"},
    "expired": {"ru": "истекло", "en": "expired"},
    "cancelled": {"ru": "отменено", "en": "cancelled"},
}
_ANSWER = {
    "one": {"ru": "Ваше бронирование: {items}", "en": "Your booking: {items}"},
    "many": {"ru": "Ваши бронирования: {items}", "en": "Your bookings: {items}"},
    "none": {
        "ru": "Предстоящих бронирований у вас нет. Последнее: {items}",
        "en": "You have no upcoming bookings. The latest one: {items}",
    },
    "item": {
        "ru": "№{id} «{resource}», {when}, гостей: {guests}, {status}",
        "en": "#{id} '{resource}', {when}, guests: {guests}, {status}",
    },
}


@dataclass(frozen=True, slots=True)
class OwnBooking:
    id: int
    resource: str
    status: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    guests: int
    total_price: Decimal
    currency: str
    upcoming: bool


async def own_bookings(
    session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID, limit: int = OWN_LIMIT
) -> list[OwnBooking]:
    """The contact's upcoming bookings (soonest first), then its recent ones (latest first)."""
    upcoming, recent = await BookingRepository(session, scope).of_contact(
        contact_id, utcnow(), limit
    )
    if not upcoming and not recent:
        return []
    resources = {r.id: r for r in await service.list_resources(session, scope)}
    out: list[OwnBooking] = []
    for booking in [*upcoming, *recent]:
        resource = resources.get(booking.resource_id)
        out.append(
            OwnBooking(
                id=booking.id,
                resource=resource.name if resource else "?",
                status=booking.status,
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                timezone=resource.timezone if resource else "UTC",
                guests=booking.adults + booking.children,
                total_price=booking.total_price,
                currency=booking.currency,
                upcoming=booking in upcoming,
            )
        )
    return out


async def contact_bookings(
    session: AsyncSession, scope: TenantScope, contact_id: uuid.UUID, limit: int = OWN_LIMIT
) -> ContactBookingsOut:
    """The profile panel's list (404 for a contact of no such or another tenant)."""
    await contacts.get_contact(session, scope, contact_id)
    upcoming, recent = await BookingRepository(session, scope).of_contact(
        contact_id, utcnow(), limit
    )
    names = {r.id: r.name for r in await service.list_resources(session, scope)}

    def out(rows: list[Booking]) -> list[ContactBookingOut]:
        return [
            ContactBookingOut.model_validate(
                {
                    **BookingOut.model_validate(b).model_dump(),
                    "resource_name": names.get(b.resource_id, "?"),
                }
            )
            for b in rows
        ]

    return ContactBookingsOut(upcoming=out(upcoming), recent=out(recent))


def context_text(rows: list[OwnBooking]) -> str:
    """The bookings as business data for the prompt (one line each, local times)."""
    lines = []
    for b in rows:
        when = notify.period(b.starts_at, b.ends_at, b.timezone, "en")
        start = b.starts_at.astimezone(ZoneInfo(b.timezone)).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"- booking #{b.id} '{b.resource}': {when} (starts {start} {b.timezone}), "
            f"{b.guests} guests, {b.total_price} {b.currency}, status {b.status}, "
            f"{'upcoming' if b.upcoming else 'past'}"
        )
    return "\n".join(lines)


def _item(b: OwnBooking, language: str) -> str:
    lang = "en" if language == "en" else "ru"
    return _ANSWER["item"][lang].format(
        id=b.id,
        resource=b.resource,
        when=notify.period(b.starts_at, b.ends_at, b.timezone, lang),
        guests=b.guests,
        status=_STATUS.get(b.status, {}).get(lang, b.status),
    )


def asks_about_own(text: str) -> bool:
    """The customer asks about a booking they have (not for a new one, not for a change)."""
    return bool(QUESTION.search(text)) and not NEW.search(text) and not CHANGE.search(text)


def answer(text: str, rows: list[OwnBooking], language: str) -> str | None:
    """The offline answer to a question about the customer's own booking, from ``rows``;
    ``None`` when the question is not one (or asks for a change, which a person handles)."""
    if not rows or not asks_about_own(text):
        return None
    lang = "en" if language == "en" else "ru"
    live = [b for b in rows if b.upcoming and b.status in LIVE]
    if live:
        key = "one" if len(live) == 1 else "many"
        return _ANSWER[key][lang].format(items="; ".join(_item(b, lang) for b in live)) + "."
    latest = next((b for b in rows if not b.upcoming), rows[0])
    return _ANSWER["none"][lang].format(items=_item(latest, lang)) + "."
