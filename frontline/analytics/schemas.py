"""Analytics responses. Durations are seconds; days are UTC calendar days (``YYYY-MM-DD``)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel


class Range(BaseModel):
    start: date
    end: date  # inclusive
    channel_id: uuid.UUID | None = None


class SpreadOut(BaseModel):
    count: int
    median: float | None
    p90: float | None


class BookingCounts(BaseModel):
    """Bookings created in the range, and how many of those are confirmed now."""

    created: int
    confirmed: int


class BookingDayOut(BaseModel):
    day: str
    created: int
    confirmed: int


class BookingsOut(BaseModel):
    range: Range
    created: int
    confirmed: int
    # of the bookings created in the range, the confirmed share (null: none created)
    confirmed_share: float | None
    days: list[BookingDayOut]  # every day of the range, zeros included


class SummaryOut(BaseModel):
    range: Range
    conversations: int
    resolved: int
    # resolved by the AI alone (strict: never handed off, no operator message, not reopened
    # within 72 h, CSAT not negative) and its share of all conversations in the range
    ai_resolved: int
    ai_resolved_share: float | None
    handed_off: int
    handoff_rate: float | None
    csat_average: float | None
    csat_count: int
    ai_first_response: SpreadOut
    operator_first_response: SpreadOut
    resolution: SpreadOut
    bookings: BookingCounts


class DayOut(BaseModel):
    day: str
    conversations: int
    ai_resolved: int
    handed_off: int
    csat_average: float | None
    csat_count: int


class TimelineOut(BaseModel):
    range: Range
    days: list[DayOut]


class VolumeOut(BaseModel):
    range: Range
    by_hour: list[int]  # 24 values, UTC hours
    by_weekday: list[int]  # 7 values, Monday first


class CountOut(BaseModel):
    key: str
    label: str | None = None
    count: int


class CountsOut(BaseModel):
    range: Range
    items: list[CountOut]


class UsageDayOut(BaseModel):
    day: str
    provider: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost: float


class UsageOut(BaseModel):
    range: Range
    days: list[UsageDayOut]
