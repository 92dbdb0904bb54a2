"""The demo workspace's bookable tours, with the facts of its knowledge base
(``frontline/demo_knowledge``): prices, dates, payment and cancellation rules.

Departures follow the knowledge base's dates: Baikal weekly from 2 June to 25 August and
from 5 February to 20 March (7 days, Irkutsk time); Karelia every Saturday at 7:00 from
St Petersburg, back on Sunday at about 22:00. The knowledge base gives no dates for the
Altai ride, so it has none (the AI says so and offers what there is). Places per
departure are the demo's own choice (the knowledge base names only Altai's group of 10).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.bookings import schedule, service
from frontline.bookings.schemas import (
    CancellationRule,
    DepartureIn,
    ResourceIn,
    TemplateIn,
)
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Availability, ResourceKind

TOURS_TEMPLATE = TemplateIn(
    name="Туры Демо Туры",
    prepayment_percent=30,
    payment_deadline_days=14,
    cancellation_rules=[CancellationRule(days_before=30, penalty_percent=30)],
    text=(
        "Отмена бесплатна, если до начала тура больше 30 дней: предоплата возвращается "
        "полностью в течение 10 рабочих дней; при отмене позже предоплата не возвращается. "
        "Если тур отменяем мы (например, из-за погоды), возвращаем всю сумму. Детям до 12 "
        "лет скидка 20%, группам от 6 человек 10%; скидки не суммируются."
    ),
)


def _weekly(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        days.append(day)
        day += timedelta(days=7)
    return days


def baikal_days(today: date) -> list[date]:
    """The Baikal departures of the coming season(s): 2 June-25 August, 5 February-20 March."""
    found: list[date] = []
    for year in (today.year, today.year + 1):
        found += _weekly(date(year, 2, 5), date(year, 3, 20))
        found += _weekly(date(year, 6, 2), date(year, 8, 25))
    return [d for d in found if d > today]


async def seed(session: AsyncSession, scope: TenantScope) -> None:
    template = await service.create_template(session, scope, TOURS_TEMPLATE)
    baikal = await service.create_resource(
        session,
        scope,
        ResourceIn(
            name="Байкал",
            kind=ResourceKind.TOUR,
            availability=Availability.DEPARTURES,
            capacity=12,
            price=Decimal(45000),
            timezone="Asia/Irkutsk",
            template_id=template.id,
            description=(
                "Тур «Байкал за 7 дней»: проживание в гостевом доме на Ольхоне, трёхразовое "
                "питание, трансфер из аэропорта Иркутска, экскурсии с гидом. Авиабилеты в "
                "цену не входят."
            ),
            notes="С животными нельзя. Летом вечера холодные: тёплая одежда.",
        ),
    )
    altai = ResourceIn(
        name="Алтай",
        kind=ResourceKind.TOUR,
        availability=Availability.DEPARTURES,
        capacity=10,
        price=Decimal(38000),
        timezone="Asia/Barnaul",
        template_id=template.id,
        description="Конный поход по Алтаю на 5 дней; опыт верховой езды не нужен.",
        notes="Минимальный возраст участника — 12 лет. Можно с собакой до 15 кг.",
    )
    await service.create_resource(session, scope, altai)
    karelia = await service.create_resource(
        session,
        scope,
        ResourceIn(
            name="Карелия",
            kind=ResourceKind.TOUR,
            availability=Availability.DEPARTURES,
            capacity=18,
            price=Decimal(14500),
            timezone="Europe/Moscow",
            template_id=template.id,
            description="Тур «Карелия на выходные» (2 дня) из Санкт-Петербурга.",
            notes="Выезд в субботу в 7:00 от Московского вокзала, возвращение в воскресенье "
            "около 22:00. Можно с собакой до 15 кг.",
        ),
    )
    irkutsk, moscow = ZoneInfo("Asia/Irkutsk"), ZoneInfo("Europe/Moscow")
    today = utcnow().astimezone(irkutsk).date()
    for day in baikal_days(today):
        start = datetime.combine(day, time(10), irkutsk)
        body = DepartureIn(starts_at=start, ends_at=start + timedelta(days=7))
        await schedule.add_departure(session, scope, baikal.id, body)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    for week in range(16):
        start = datetime.combine(saturday + timedelta(weeks=week), time(7), moscow)
        body = DepartureIn(starts_at=start, ends_at=start + timedelta(hours=39))
        await schedule.add_departure(session, scope, karelia.id, body)
