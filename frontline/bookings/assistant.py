"""The AI's side of bookings: live business data for the prompt, and the booking turn.

With ``auto_booking`` on, a customer message in a conversation about booking is answered
here instead of by the general triage: the request is read from the conversation so far
(:mod:`frontline.bookings.slots`: resource, dates or departure, guests, name, phone or
e-mail), the customer is asked only for what is missing (in their language), availability
is checked, and a pending booking is created with the price and the resource's conditions
quoted. The operator confirms or rejects it; the customer is told either way
(:mod:`frontline.bookings.flows`). The same code runs whatever the provider: the decision
is the extractor's, and a remote model's text is never trusted to create a booking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.offline.lexicon import to_cyrillic
from frontline.bookings import customer as customer_bookings
from frontline.bookings import hours, notify, service, slots
from frontline.bookings.proposal import Proposal
from frontline.bookings.repository import (
    BlockRepository,
    BookingRepository,
    DepartureRepository,
)
from frontline.bookings.schemas import BookingIn
from frontline.errors import AppError
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Availability, BookingStatus, Departure, Resource

INTENT = re.compile(
    r"брон|резерв|забронир|записа|book|reserv|хочу поехать|хотим поехать|want to go", re.I
)
CONTEXT_RESOURCES = 20
CONTEXT_DEPARTURES = 5

_T: dict[str, dict[str, str]] = {
    "which": {
        "ru": "Что именно вы хотите забронировать? Доступно: {names}.",
        "en": "What would you like to book? Available: {names}.",
    },
    "ask": {
        "ru": "Чтобы забронировать «{resource}», уточните, пожалуйста: {missing}.",
        "en": "To book '{resource}', please tell me {missing}.",
    },
    "no_departure": {
        "ru": "На эту дату выезда «{resource}» нет. Ближайшие даты: {dates}.",
        "en": "There is no '{resource}' departure on that date. The next ones: {dates}.",
    },
    "unavailable": {
        "ru": "К сожалению, «{resource}» на эти даты недоступен: {reason}. "
        "Ближайшие даты: {dates}.",
        "en": "Sorry, '{resource}' is not available then: {reason}. The next dates: {dates}.",
    },
    "created": {
        "ru": "Я оформил(а) заявку №{id}: «{resource}», {when}, гостей: {guests}, имя: {name}. "
        "Стоимость: {price}.{conditions} Заявка ожидает подтверждения менеджера "
        "(место держится до {hold}); мы сообщим вам здесь.",
        "en": "I have made booking request #{id}: '{resource}', {when}, guests: {guests}, "
        "name: {name}. Price: {price}.{conditions} A manager will confirm it (the place is "
        "held until {hold}); we will let you know here.",
    },
    "busy": {
        "ru": "К сожалению, «{resource}» {day} в {hours} занят. Свободно в этот день: {free}.",
        "en": "Sorry, '{resource}' is taken on {day} at {hours}. Free that day: {free}.",
    },
    "pending": {
        "ru": "Ваша заявка №{id} уже ожидает подтверждения менеджера — мы сообщим вам здесь.",
        "en": "Your booking request #{id} is waiting for a manager's confirmation; we will "
        "let you know here.",
    },
}
_MISSING = {
    "date": {"ru": "дату поездки", "en": "the date"},
    "end_date": {"ru": "дату выезда", "en": "the check-out date"},
    "time": {"ru": "время (с какого по какой час)", "en": "the time (from what hour till when)"},
    "people": {"ru": "сколько будет гостей", "en": "how many guests"},
    "name": {"ru": "ваше имя", "en": "your name"},
    "contact": {"ru": "телефон или e-mail для связи", "en": "a phone number or e-mail"},
}
# our own questions, read back to know what a bare answer ("2", "Иван") answers
_ASKED = [
    (re.compile(r"сколько будет гостей|how many guests", re.I), "people"),
    (re.compile(r"дату поездки|the date\b", re.I), "date"),
    (re.compile(r"ваше имя|your name", re.I), "name"),
    (re.compile(r"с какого по какой час|from what hour", re.I), "time"),
]
# the hours searched for a free slot when the asked ones are taken
OPEN_HOURS = (8, 22)


def _t(key: str, language: str, **params: Any) -> str:
    return _T[key]["en" if language == "en" else "ru"].format(**params)


def _join(items: list[str], language: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    last = " и " if language != "en" else " and "
    return ", ".join(items[:-1]) + last + items[-1]


# --- live business data -------------------------------------------------------------------


def _conditions_text(conditions: dict[str, Any], language: str) -> str:
    ru = language != "en"
    parts: list[str] = []
    if conditions.get("prepayment_percent") is not None:
        pct = conditions["prepayment_percent"]
        parts.append(f"предоплата {pct}%" if ru else f"prepayment {pct}%")
    if conditions.get("deposit_amount") is not None:
        parts.append(("залог " if ru else "deposit ") + str(conditions["deposit_amount"]))
    if conditions.get("payment_deadline_days") is not None:
        days = conditions["payment_deadline_days"]
        parts.append(
            f"полная оплата за {days} дн. до начала" if ru else f"full payment {days} days before"
        )
    for rule in conditions.get("cancellation_rules") or []:
        d, p = rule["days_before"], rule["penalty_percent"]
        parts.append(
            f"отмена позднее чем за {d} дн.: удержание {p}%"
            if ru
            else f"cancellation later than {d} days before: {p}% penalty"
        )
    # each piece a sentence: "...: удержание 30%. Отмена бесплатна, ...", never run together
    pieces = ["; ".join(parts), conditions.get("checkin_rules"), conditions.get("text")]
    sentences = [p.strip() for p in pieces if p and p.strip()]
    return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in sentences)


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")


async def business_context(session: AsyncSession, scope: TenantScope, language: str) -> str:
    """The tenant's bookable resources for the prompt: price, capacity, conditions and
    the next departures with their free places (empty when the tenant has none)."""
    resources = (await service.list_resources(session, scope, active_only=True))[:CONTEXT_RESOURCES]
    if not resources:
        return ""
    rows = await DepartureRepository(session, scope).with_held(
        utcnow(), resource_ids=[r.id for r in resources], start=utcnow(), limit=500
    )
    lines: list[str] = []
    for resource in resources:
        unit = "per person" if resource.per_person else "per booking"
        if resource.availability != Availability.DEPARTURES.value:
            unit += f" per {resource.availability.removesuffix('ly').replace('nigh', 'night')}"
        lines.append(
            f"- {resource.name} ({resource.kind}): {resource.price} {resource.currency} {unit}; "
            f"up to {resource.capacity} guests. {resource.description[:300]}"
        )
        conditions = _conditions_text(
            await service.conditions_of(session, scope, resource), language
        )
        if conditions:
            lines.append(f"  Conditions: {conditions}")
        if resource.notes:
            lines.append(f"  Notes: {resource.notes[:300]}")
        departures = [(d, h) for d, h in rows if d.resource_id == resource.id][:CONTEXT_DEPARTURES]
        for departure, held in departures:
            capacity = departure.capacity or resource.capacity
            price = departure.price if departure.price is not None else resource.price
            lines.append(
                f"  Departure {_local(departure.starts_at, resource.timezone)} - "
                f"{_local(departure.ends_at, resource.timezone)}: "
                f"{max(0, capacity - held)} of {capacity} places free, {price} {resource.currency}"
            )
    return "\n".join(lines)


# --- the booking turn ---------------------------------------------------------------------


@dataclass
class BookingTurn:
    """What the booking turn answers (``None`` from :func:`booking_turn`: not a booking
    conversation, the general triage answers)."""

    reply: str
    booking_id: int | None = None
    missing: list[str] = field(default_factory=list)
    # for the AI log: what the turn read (slot -> value, as text), where a remote model
    # filled a slot, and how it ended (which|ask|no_departure|unavailable|busy|created|pending)
    extracted: dict[str, str] = field(default_factory=dict)
    from_model: list[str] = field(default_factory=list)
    result: str = ""


_LATIN_WORD = re.compile(r"[a-z]{3,}")


def _match_resource(texts: list[str], resources: list[Resource]) -> Resource | None:
    if len(resources) == 1:
        return resources[0]
    best: tuple[float, Resource | None] = (0.0, None)
    for text in reversed(texts):  # the latest mention wins
        lowered = text.lower()
        # a Russian name written in Latin letters ("Karelia", "Baikal") is read in Cyrillic
        spelled = " ".join(to_cyrillic(w) for w in _LATIN_WORD.findall(lowered))
        for resource in resources:
            name = resource.name.lower()
            stem = name[: max(4, len(name) - 2)]
            named = stem in lowered or (spelled and stem in spelled)
            score = 100.0 if named else fuzz.partial_ratio(name, lowered)
            if score > best[0]:
                best = (score, resource)
        if best[0] >= 85:
            return best[1]
    return None


async def _departure_on(
    session: AsyncSession, scope: TenantScope, resource: Resource, day: date
) -> tuple[Departure | None, list[tuple[Departure, int]]]:
    """The resource's departure starting on ``day`` (its local date), and the next ones."""
    rows = await DepartureRepository(session, scope).with_held(
        utcnow(), resource_ids=[resource.id], start=utcnow(), limit=50
    )
    zone = ZoneInfo(resource.timezone)
    found = next((d for d, _ in rows if d.starts_at.astimezone(zone).date() == day), None)
    return found, rows


def _dates_text(rows: list[tuple[Departure, int]], resource: Resource) -> str:
    zone = ZoneInfo(resource.timezone)
    shown = []
    for departure, held in rows:
        free = (departure.capacity or resource.capacity) - held
        if free > 0:
            shown.append(f"{departure.starts_at.astimezone(zone):%d.%m} ({free})")
        if len(shown) == 4:
            break
    return ", ".join(shown) or "—"


def _asked(last_ai: str) -> list[str]:
    return [slot for pattern, slot in _ASKED if pattern.search(last_ai)]


def _fill(found: slots.Slots, proposal: Proposal) -> list[str]:
    """Slots the rules missed, from a remote model's validated proposal; the names of the
    slots it filled."""
    filled: list[str] = []
    for name in ("date", "end_date", "name", "phone", "email"):
        value = getattr(proposal, name)
        if value is not None and name not in found.found:
            found.found[name] = slots.Found(value, -1, -1, "")
            filled.append(name)
    if proposal.adults is not None and "people" not in found.found:
        found.found["people"] = slots.Found(proposal.adults, -1, -1, "")
        filled.append("people")
    if proposal.hours is not None and "hours" not in found.found:
        found.found["hours"] = slots.Found(proposal.hours, -1, -1, proposal.hours.text)
        filled.append("hours")
    return filled


def _read(text: str, today: date, requested: list[str]) -> slots.Slots:
    """One customer message's slots, with the time range an hourly booking needs."""
    found = slots.extract(text, today=today, requested=requested)
    span = hours.extract(text)
    if span is not None:
        found.found["hours"] = slots.Found(span, -1, -1, span.text)
    return found


def _extracted(found: slots.Slots) -> dict[str, str]:
    values = found.values()
    if isinstance(values.get("hours"), hours.Hours):
        values["hours"] = values["hours"].label()
    return {name: str(value) for name, value in values.items()}


def _span(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=minutes)


async def _free_hours(
    session: AsyncSession, scope: TenantScope, resource: Resource, day: date, span: hours.Hours
) -> str:
    """Up to six free periods as long as ``span`` on ``day`` (starting on the hour, within
    the open hours), the nearest to the asked one, as text."""
    length = span.end - span.start
    zone = ZoneInfo(resource.timezone)
    bookings, blocks = BookingRepository(session, scope), BlockRepository(session, scope)
    now = utcnow()
    free: list[tuple[int, str]] = []
    for hour in range(OPEN_HOURS[0], OPEN_HOURS[1]):
        start = _span(day, hour * 60, zone)
        end = start + timedelta(minutes=length)
        if start < now or end > _span(day, OPEN_HOURS[1] * 60, zone):
            continue
        if await blocks.overlapping(resource.id, start, end) is not None:
            continue
        if await bookings.overlapping_held(resource.id, start, end, now) >= resource.units:
            continue
        free.append((abs(hour * 60 - span.start), f"{start:%H:%M}–{end:%H:%M}"))
    return ", ".join(sorted(text for _, text in sorted(free)[:6])) or "—"


def match_resource(
    customer: list[str], resources: list[Resource], proposal: Proposal | None = None
) -> Resource | None:
    """The resource the customer's latest words name (a remote model's validated reading
    when the words alone do not say)."""
    resource = _match_resource(customer[-6:], resources)
    if resource is None and proposal is not None and proposal.resource is not None:
        resource = next((r for r in resources if r.name == proposal.resource), None)
    return resource


def read_slots(
    resource: Resource, history: list[tuple[str, str]], proposal: Proposal | None = None
) -> tuple[slots.Slots, list[str]]:
    """The request's slots read from the conversation (``history``: sender type and text,
    oldest first) and the ones still missing (``date``, ``end_date`` or ``time`` for an
    hourly resource, ``people``, ``name``, ``contact``)."""
    found, missing, _ = _read_request(resource, history, proposal)
    return found, missing


def _read_request(
    resource: Resource, history: list[tuple[str, str]], proposal: Proposal | None
) -> tuple[slots.Slots, list[str], list[str]]:
    """:func:`read_slots` and the slots a remote model filled."""
    today = utcnow().astimezone(ZoneInfo(resource.timezone)).date()
    parsed: list[slots.Slots] = []
    last_ai = ""
    for sender, text in history[-12:]:
        if sender == "contact":
            parsed.append(_read(text, today, _asked(last_ai)))
        elif sender == "ai":
            last_ai = text
    found = slots.merge(parsed)
    filled = _fill(found, proposal) if proposal is not None else []
    hourly = resource.availability == Availability.HOURLY.value
    missing: list[str] = []
    if found.value("date") is None:
        missing.append("date")
    elif hourly:
        if found.value("hours") is None:
            missing.append("time")
    elif resource.availability != Availability.DEPARTURES.value and found.value("end_date") is None:
        missing.append("end_date")
    if found.value("people") is None:
        missing.append("people")
    if found.value("name") is None:
        missing.append("name")
    if found.value("phone") is None and found.value("email") is None:
        missing.append("contact")
    return found, missing, filled


def stay(resource: Resource, check_in: date, check_out: date) -> tuple[datetime, datetime]:
    """A rental's period for check-in and check-out days (14:00 to 12:00, local time)."""
    zone = ZoneInfo(resource.timezone)
    return (
        datetime.combine(check_in, datetime.min.time(), zone) + timedelta(hours=14),
        datetime.combine(check_out, datetime.min.time(), zone) + timedelta(hours=12),
    )


async def departure_on(
    session: AsyncSession, scope: TenantScope, resource: Resource, day: date
) -> Departure | None:
    """The resource's departure starting on ``day`` (its local date), if any."""
    return (await _departure_on(session, scope, resource, day))[0]


async def booking_turn(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    contact_id: Any,
    history: list[tuple[str, str]],
    language: str,
    proposal: Proposal | None = None,
) -> BookingTurn | None:
    """Answer a booking conversation; ``history`` is (sender type, text), oldest first,
    ending with the customer's new message; ``proposal``: a remote model's validated
    reading of it (:mod:`frontline.bookings.proposal`), which fills what the rules miss."""
    customer = [text for sender, text in history if sender == "contact"]
    if not customer or not any(INTENT.search(text) for text in customer[-6:]):
        return None
    if customer_bookings.asks_about_own(customer[-1]):
        return None  # "when is my booking?": answered from the customer's own bookings
    pending = await BookingRepository(session, scope).search(
        conversation_id=conversation_id, status=BookingStatus.PENDING.value, limit=1
    )
    if pending and pending[0].hold_until and pending[0].hold_until > utcnow():
        return BookingTurn(_t("pending", language, id=pending[0].id), result="pending")
    resources = await service.list_resources(session, scope, active_only=True)
    if not resources:
        return None
    resource = match_resource(customer, resources, proposal)
    if resource is None:
        return BookingTurn(
            _t("which", language, names=", ".join(r.name for r in resources)), result="which"
        )
    found, missing, filled = _read_request(resource, history, proposal)
    hourly = resource.availability == Availability.HOURLY.value
    if missing:
        lang = "en" if language == "en" else "ru"
        asks = [_MISSING[m][lang] for m in missing]
        return BookingTurn(
            _t("ask", language, resource=resource.name, missing=_join(asks, language)),
            missing=missing,
            extracted=_extracted(found),
            from_model=filled,
            result="ask",
        )
    extracted = _extracted(found)
    body: dict[str, Any] = {
        "resource_id": resource.id,
        "adults": found.value("people"),
        "customer_name": found.value("name"),
        "customer_phone": found.value("phone"),
        "customer_email": found.value("email"),
        "conversation_id": conversation_id,
        "locale": "en" if language == "en" else "ru",
    }
    zone = ZoneInfo(resource.timezone)
    if resource.availability == Availability.DEPARTURES.value:
        departure, upcoming = await _departure_on(session, scope, resource, found.value("date"))
        if departure is None:
            dates = _dates_text(upcoming, resource)
            return BookingTurn(
                _t("no_departure", language, resource=resource.name, dates=dates),
                result="no_departure",
                extracted=extracted,
                from_model=filled,
            )
        body["departure_id"] = departure.id
    elif hourly:
        span: hours.Hours = found.value("hours")
        body["starts_at"] = _span(found.value("date"), span.start, zone)
        body["ends_at"] = _span(found.value("date"), span.end, zone)
    else:
        body["starts_at"], body["ends_at"] = stay(
            resource, found.value("date"), found.value("end_date")
        )
    try:
        async with session.begin_nested():  # a refusal leaves the turn's transaction usable
            booking = await service.create_booking(
                session, scope, BookingIn(**body), contact_id=contact_id
            )
    except AppError as exc:
        if hourly:
            day, span = found.value("date"), found.value("hours")
            free = await _free_hours(session, scope, resource, day, span)
            return BookingTurn(
                _t(
                    "busy",
                    language,
                    resource=resource.name,
                    day=day.strftime("%d.%m.%Y" if language != "en" else "%Y-%m-%d"),
                    hours=span.label(),
                    free=free,
                ),
                result="busy",
                extracted=extracted,
                from_model=filled,
            )
        _, upcoming = await _departure_on(session, scope, resource, found.value("date"))
        return BookingTurn(
            _t(
                "unavailable",
                language,
                resource=resource.name,
                reason=exc.message,
                dates=_dates_text(upcoming, resource),
            ),
            result="unavailable",
            extracted=extracted,
            from_model=filled,
        )
    conditions = _conditions_text(await service.conditions_of(session, scope, resource), language)
    hold = booking.hold_until or utcnow()
    return BookingTurn(
        _t(
            "created",
            language,
            id=booking.id,
            resource=resource.name,
            when=notify.period(booking.starts_at, booking.ends_at, resource.timezone, language),
            guests=booking.guests,
            name=booking.customer_name,
            price=notify.money(booking.total_price, booking.currency, language),
            conditions=(" " + (("Условия: " if language != "en" else "Conditions: ") + conditions))
            if conditions
            else "",
            hold=_local(hold, resource.timezone),
        ),
        booking_id=booking.id,
        result="created",
        extracted=extracted,
        from_model=filled,
    )
