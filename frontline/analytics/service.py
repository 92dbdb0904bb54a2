"""Analytics over a date range: the range's rules (``end`` before ``start`` is refused,
at most :data:`MAX_DAYS`), the numbers, and each report as a table (the console's tables
and CSV export read the same rows)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.analytics.repository import AnalyticsRepository, Spread, Window
from frontline.analytics.schemas import (
    BookingCounts,
    BookingDayOut,
    BookingsOut,
    CountOut,
    CountsOut,
    DayOut,
    Range,
    SpreadOut,
    SummaryOut,
    TimelineOut,
    UsageDayOut,
    UsageOut,
    VolumeOut,
)
from frontline.bookings import service as bookings_service
from frontline.errors import Unprocessable
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_LIMIT = 20


def resolve_range(
    start: date | None, end: date | None, channel_id: uuid.UUID | None
) -> tuple[Range, Window]:
    """The inclusive day range asked for (default: the last 30 days up to today, UTC) and
    the matching half-open window of instants."""
    end = end or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        message = "the range's end is before its start"
        raise Unprocessable(
            message,
            code="range_end_before_start",
            fields=[_end_field(message, "range_end_before_start")],
        )
    if (end - start).days + 1 > MAX_DAYS:
        message = f"a range is at most {MAX_DAYS} days"
        raise Unprocessable(
            message,
            code="range_too_long",
            fields=[_end_field(message, "range_too_long", max_days=str(MAX_DAYS))],
        )
    window = Window(
        start=datetime.combine(start, time.min, UTC),
        end=datetime.combine(end + timedelta(days=1), time.min, UTC),
        channel_id=channel_id,
    )
    return Range(start=start, end=end, channel_id=channel_id), window


def _end_field(message: str, kind: str, **ctx: str) -> dict[str, Any]:
    """The failing field of a refused range (``end``), as a validation error names it, so
    the console shows it under the date and in its own language."""
    return {
        "loc": ["query", "end"],
        "message": message,
        "type": kind,
        **({"ctx": ctx} if ctx else {}),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _spread(s: Spread) -> SpreadOut:
    return SpreadOut(count=s.count, median=s.median, p90=s.p90)


async def summary(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> SummaryOut:
    repo = AnalyticsRepository(session, scope)
    totals = await repo.totals(window)
    per_day = await bookings_service.created_by_day(
        session, scope, window.start, window.end, window.channel_id
    )
    bookings = BookingCounts(
        created=sum(n for _d, n, _c in per_day), confirmed=sum(c for _d, _n, c in per_day)
    )
    average = totals["csat_average"]
    return SummaryOut(
        range=rng,
        conversations=totals["conversations"],
        resolved=totals["resolved"],
        ai_resolved=totals["ai_resolved"],
        ai_resolved_share=_share(totals["ai_resolved"], totals["conversations"]),
        handed_off=totals["handed_off"],
        handoff_rate=_share(totals["handed_off"], totals["conversations"]),
        csat_average=round(average, 2) if average is not None else None,
        csat_count=totals["csat_count"],
        ai_first_response=_spread(totals["ai_first_response"]),
        operator_first_response=_spread(totals["operator_first_response"]),
        resolution=_spread(totals["resolution"]),
        bookings=bookings,
    )


async def timeline(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> TimelineOut:
    """One row per day of the range, days without conversations included (zeros)."""
    rows = {r["day"]: r for r in await AnalyticsRepository(session, scope).timeline(window)}
    days = []
    current = rng.start
    while current <= rng.end:
        key = current.isoformat()
        days.append(
            DayOut(
                **rows.get(
                    key,
                    {
                        "day": key,
                        "conversations": 0,
                        "ai_resolved": 0,
                        "handed_off": 0,
                        "csat_average": None,
                        "csat_count": 0,
                    },
                )
            )
        )
        current += timedelta(days=1)
    return TimelineOut(range=rng, days=days)


async def bookings(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> BookingsOut:
    """Bookings created per day of the range (days without any included, zeros) and how
    many of them are confirmed; with a channel, those made from its conversations."""
    found = {
        d: (n, c)
        for d, n, c in await bookings_service.created_by_day(
            session, scope, window.start, window.end, window.channel_id
        )
    }
    days = []
    current = rng.start
    while current <= rng.end:
        n, c = found.get(current.isoformat(), (0, 0))
        days.append(BookingDayOut(day=current.isoformat(), created=n, confirmed=c))
        current += timedelta(days=1)
    created = sum(d.created for d in days)
    confirmed = sum(d.confirmed for d in days)
    return BookingsOut(
        range=rng,
        created=created,
        confirmed=confirmed,
        confirmed_share=_share(confirmed, created),
        days=days,
    )


async def volume(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> VolumeOut:
    by_hour, by_weekday = await AnalyticsRepository(session, scope).volume(window)
    return VolumeOut(range=rng, by_hour=by_hour, by_weekday=by_weekday)


async def handoff_reasons(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> CountsOut:
    rows = await AnalyticsRepository(session, scope).handoff_reasons(window)
    return CountsOut(range=rng, items=[CountOut(key=k, count=n) for k, n in rows])


async def categories(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> CountsOut:
    rows = await AnalyticsRepository(session, scope).categories(window, TOP_LIMIT)
    return CountsOut(
        range=rng,
        items=[CountOut(key=name or "", label=name, count=n) for name, n in rows],
    )


async def unanswered(
    session: AsyncSession, scope: TenantScope, rng: Range, window: Window
) -> CountsOut:
    rows = await AnalyticsRepository(session, scope).unanswered(window, TOP_LIMIT)
    return CountsOut(range=rng, items=[CountOut(key=q, count=n) for q, n in rows])


async def usage(session: AsyncSession, scope: TenantScope, rng: Range, window: Window) -> UsageOut:
    rows = await AnalyticsRepository(session, scope).usage(window)
    return UsageOut(range=rng, days=[UsageDayOut(**r) for r in rows])


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def table(report: str, data: Any) -> tuple[list[str], list[list[Any]]]:
    """A report as a header and rows (CSV export; the console renders the same)."""
    if isinstance(data, SummaryOut):
        rows: list[list[Any]] = [
            [name, getattr(data, name)]
            for name in (
                "conversations",
                "resolved",
                "ai_resolved",
                "ai_resolved_share",
                "handed_off",
                "handoff_rate",
                "csat_average",
                "csat_count",
            )
        ]
        for name in ("ai_first_response", "operator_first_response", "resolution"):
            spread: SpreadOut = getattr(data, name)
            rows += [[f"{name}_median_s", spread.median], [f"{name}_p90_s", spread.p90]]
        rows += [
            ["bookings_created", data.bookings.created],
            ["bookings_confirmed", data.bookings.confirmed],
        ]
        return ["metric", "value"], rows
    if isinstance(data, TimelineOut):
        header = ["day", "conversations", "ai_resolved", "handed_off", "csat_average", "csat_count"]
        return header, [[getattr(d, h) for h in header] for d in data.days]
    if isinstance(data, BookingsOut):
        return ["day", "created", "confirmed"], [[d.day, d.created, d.confirmed] for d in data.days]
    if isinstance(data, VolumeOut):
        hours = [[f"hour_{h:02d}", n] for h, n in enumerate(data.by_hour)]
        days = [[f"weekday_{WEEKDAYS[d]}", n] for d, n in enumerate(data.by_weekday)]
        return ["bucket", "conversations"], hours + days
    if isinstance(data, CountsOut):
        return ["key", "count"], [[i.key, i.count] for i in data.items]
    if isinstance(data, UsageOut):
        header = ["day", "provider", "calls", "tokens_in", "tokens_out", "cost"]
        return header, [[getattr(d, h) for h in header] for d in data.days]
    raise TypeError(f"no table for {report}")
