"""What the customer is told about their booking, in their language (RU/EN)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from frontline.kit.i18n import normalize_locale

_TEXT: dict[str, dict[str, str]] = {
    "confirmed": {
        "ru": "Ваше бронирование №{id} подтверждено: {resource}, {when}, гостей: {guests}. "
        "Стоимость: {price}.",
        "en": "Your booking #{id} is confirmed: {resource}, {when}, guests: {guests}. "
        "Price: {price}.",
    },
    "rejected": {
        "ru": "К сожалению, бронирование №{id} ({resource}, {when}) отклонено. Причина: {reason}",
        "en": "Unfortunately your booking #{id} ({resource}, {when}) was declined. "
        "Reason: {reason}",
    },
}


def money(amount: Decimal, currency: str, locale: str) -> str:
    whole = f"{amount:,.2f}".removesuffix(".00")
    if normalize_locale(locale) == "ru":
        whole = whole.replace(",", "\u00a0").replace(".", ",")
        sign = {"RUB": "₽"}.get(currency, currency)
        return f"{whole} {sign}"
    return f"{whole} {currency}"


def period(starts_at: datetime, ends_at: datetime, tz: str, locale: str) -> str:
    zone = ZoneInfo(tz)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    fmt = "%d.%m.%Y" if normalize_locale(locale) == "ru" else "%Y-%m-%d"
    if start.date() == end.date():
        return f"{start.strftime(fmt)} {start:%H:%M}–{end:%H:%M}"
    return f"{start.strftime(fmt)} – {end.strftime(fmt)}"


def customer_text(
    kind: str,
    locale: str,
    *,
    booking_id: int,
    resource: str,
    when: str,
    guests: int,
    price: str,
    reason: str = "",
) -> str:
    template = _TEXT[kind][normalize_locale(locale)]
    return template.format(
        id=booking_id, resource=resource, when=when, guests=guests, price=price, reason=reason
    )
