"""A time range within a day from customer text, Russian and English, with no model: what an
hourly booking (equipment, a meeting room, a sauna) needs beside its date.

Understood: "с 14 до 16", "с 14:00 до 16:30", "с 10 утра до 2 дня", "14-16", "from 2 to
4 pm", "from 2pm till 4pm", "between 10 and 12", "2-4pm", and a start with a duration:
"в 14 на 2 часа", "at 3pm for 2 hours", "at 10 for an hour". A range followed by a month
("с 14 до 16 июля") is a range of dates, not of hours, and is left alone.

Imports no domain, models or settings: pure text in, values out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOUR = r"([01]?\d|2[0-4])(?::([0-5]\d)|\.(00|15|30|45))?(?![\d:])"
_MARK = r"(?:\s*(a\.?\s?m\.?|p\.?\s?m\.?|утра|дня|вечера|ночи|ч(?:ас(?:а|ов)?)?\.?|h\b|o'?clock))?"
_MONTHS = (
    r"янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек|jan|feb|mar|apr|may|jun|jul|aug|"
    r"sep|oct|nov|dec"
)
_NOT_HOURS = (
    rf"(?!\s*(?:{_MONTHS}|-?го|th\b|st\b|nd\b|rd\b|человек|гост|people|persons|guests|"
    r"ноч|сут|дн|день|nights?|days?|[./]\d))"
)
_RANGES = [
    re.compile(
        rf"(?:\b(?:с|со|from|between)\s+){_HOUR}{_MARK}\s*(?:-|–|—|до|to|till|until|and)\s*"
        rf"{_HOUR}{_MARK}\b{_NOT_HOURS}",
        re.I,
    ),
    re.compile(
        rf"(?<![\d./:-]){_HOUR}{_MARK}\s*(?:-|–|—)\s*{_HOUR}{_MARK}(?![\d./])\b{_NOT_HOURS}",
        re.I,
    ),
]
_WORD_COUNT = {
    "an": 1, "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "час": 1, "один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "полчаса": 0,
}  # fmt: skip
_DURATION = re.compile(
    rf"\b(?:в|к|at|from)\s+{_HOUR}{_MARK}\s*,?\s*(?:на|for)\s+"
    r"(\d{1,2}|an|a|one|two|three|four|five|six|два|три|четыре|пять|шесть)?\s*"
    r"(hours?|hrs?|час(?:а|ов)?|ч\b)",
    re.I,
)


@dataclass(frozen=True)
class Hours:
    """A time range within one day, in minutes from midnight (``end`` up to 24:00);
    ``text`` is the words it came from."""

    start: int
    end: int
    text: str

    def label(self) -> str:
        return f"{_hm(self.start)}–{_hm(self.end)}"


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _marker(raw: str | None) -> str:
    word = (raw or "").lower().replace(".", "").replace(" ", "")
    if word in ("am", "утра", "ночи"):
        return "am"
    if word in ("pm", "дня", "вечера"):
        return "pm"
    return ""


def _clock(hour: int, minute: int, marker: str) -> tuple[int, int] | None:
    if marker == "pm" and hour < 12:
        hour += 12
    elif marker == "am" and hour == 12:
        hour = 0
    if hour == 24 and minute == 0:
        return (24, 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return (hour, minute)


def _pair(groups: tuple[str | None, ...]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(start, end) as (hour, minute) from the groups hour, minute (":"), minute ("."),
    marker of each end."""
    h1, h2 = str(groups[0]), str(groups[4])
    m1, m2 = groups[1] or groups[2], groups[5] or groups[6]
    mark1, mark2 = _marker(groups[3]), _marker(groups[7])
    if not mark1 and mark2 == "pm" and int(h1) < int(h2) < 12:
        mark1 = "pm"  # "from 2 to 4 pm"
    start = _clock(int(h1), int(m1 or 0), mark1)
    end = _clock(int(h2), int(m2 or 0), mark2)
    if start is None or end is None:
        return None
    if not mark1 and not mark2 and 1 <= start[0] <= 6 and 1 <= end[0] <= 11:
        # "с 2 до 4": office hours, not the night
        start, end = (start[0] + 12, start[1]), (end[0] + 12, end[1])
    if end <= start and not mark2 and end[0] < 12:
        end = (end[0] + 12, end[1])  # "from 10 to 2"
    if end <= start or end > (24, 0) or start >= (24, 0):
        return None
    return start, end


def _minutes(hm: tuple[int, int]) -> int:
    return hm[0] * 60 + hm[1]


def extract(text: str) -> Hours | None:
    """The first time range in ``text`` (None when there is none)."""
    for pattern in _RANGES:
        for m in pattern.finditer(text):
            pair = _pair(m.groups())
            if pair is not None:
                return Hours(_minutes(pair[0]), _minutes(pair[1]), m.group(0).strip())
    for m in _DURATION.finditer(text):
        minute = int(m.group(2) or m.group(3) or 0)
        begin = _clock(int(m.group(1)), minute, _marker(m.group(4)))
        count_s = (m.group(5) or "").lower()
        count = int(count_s) if count_s.isdigit() else _WORD_COUNT.get(count_s, 1)
        if begin is None or not 1 <= count <= 24:
            continue
        if not _marker(m.group(4)) and 1 <= begin[0] <= 6:
            begin = (begin[0] + 12, begin[1])
        end = (begin[0] + count, begin[1])
        if end > (24, 0):
            continue
        return Hours(_minutes(begin), _minutes(end), m.group(0).strip())
    return None
