"""The AI's behaviour rules a tenant sets beside the provider chain: the languages it may
answer in, auto-reply per channel, the confidence below which it hands off, and the
operators' working hours (outside them a handoff tells the customer when people are back).
Pure functions over validated settings; the AI turn (``frontline.ai.flows``) applies them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ReplyLanguage = Literal["ru", "en"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

WEEKDAYS: dict[ReplyLanguage, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ru": ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"),
}


class DayHours(BaseModel):
    """One day's opening hours, local time, ``start`` before ``end`` (``HH:MM``)."""

    model_config = ConfigDict(extra="forbid")

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("a time is HH:MM, 00:00 to 23:59")
        return value

    @model_validator(mode="after")
    def _order(self) -> DayHours:
        if self.end <= self.start:
            raise ValueError("the end of the day's hours must be after their start")
        return self


class WorkingHours(BaseModel):
    """When operators work: an IANA time zone and, Monday first, seven days each with its
    hours or ``null`` (closed)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(min_length=1, max_length=64)
    days: list[DayHours | None] = Field(min_length=7, max_length=7)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _some_day(self) -> WorkingHours:
        if all(d is None for d in self.days):
            raise ValueError("at least one day needs working hours")
        return self

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def is_open(self, now: datetime) -> bool:
        local = self._local(now)
        day = self.days[local.weekday()]
        return day is not None and day.start <= local.strftime("%H:%M") < day.end

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment (local time zone) operators start work; ``None`` while open."""
        if self.is_open(now):
            return None
        local = self._local(now)
        for ahead in range(8):
            when = local + timedelta(days=ahead)
            day = self.days[when.weekday()]
            if day is None:
                continue
            hour, minute = (int(x) for x in day.start.split(":"))
            opening = when.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if opening > local:
                return opening
        return None  # unreachable: validation requires an open day


def back_message(hours: WorkingHours, now: datetime, language: ReplyLanguage) -> str | None:
    """The sentence telling the customer when operators are back; ``None`` while open."""
    opening = hours.next_opening(now)
    if opening is None:
        return None
    local = hours._local(now)
    at = opening.strftime("%H:%M")
    if opening.date() == local.date():
        when = {"en": f"today at {at}", "ru": f"сегодня в {at}"}[language]
    elif opening.date() == (local + timedelta(days=1)).date():
        when = {"en": f"tomorrow at {at}", "ru": f"завтра в {at}"}[language]
    else:
        name = WEEKDAYS[language][opening.weekday()]
        when = {"en": f"on {name} at {at}", "ru": f"в {name} в {at}"}[language]
    zone = hours.timezone
    if language == "ru":
        return f"Сейчас наши сотрудники не работают; они ответят вам {when} ({zone})."
    return f"Our team is away right now; a person will answer you {when} ({zone})."


def auto_reply_for(default: bool, per_channel: Mapping[str, bool], channel_id: uuid.UUID) -> bool:
    """Auto-reply on a channel: its own switch when set, else the tenant's."""
    return per_channel.get(str(channel_id), default)


LOW_CONFIDENCE_REASON = "No confident answer in the knowledge base"


def low_confidence_reason(confidence: float, threshold: float) -> str:
    """A handoff reason the analytics file under ``no_confident_answer``."""
    return f"{LOW_CONFIDENCE_REASON} (confidence {confidence:.2f} < threshold {threshold:.2f})"


def language_reason(language: str) -> str:
    return f"the customer writes in a language the AI does not answer in ({language})"
