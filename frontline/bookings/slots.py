"""Booking slot extraction from customer text, Russian and English, with no model.

:func:`extract` finds the date (or a date range), time, number of people, customer name,
phone and e-mail in one message; :func:`merge` folds a conversation's messages into one
request (the latest mention of a slot wins). Rules, not a model: each slot has a handful of
patterns, and ``dateparser`` turns a date expression into a calendar date relative to
"today" in the resource's time zone. ``requested`` (the slots the bot has just asked for)
lets a bare answer ("13", "Ivey") be read as that slot.

Imports no domain, models or settings: pure text in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from frontline.bookings import dateroles

SLOTS = ("date", "end_date", "time", "people", "name", "phone", "email")


@dataclass(frozen=True)
class Found:
    """One slot value: its normalised ``value`` and the span of text it came from."""

    value: Any
    start: int
    end: int
    text: str


@dataclass
class Slots:
    found: dict[str, Found] = field(default_factory=dict)

    def value(self, slot: str) -> Any:
        hit = self.found.get(slot)
        return None if hit is None else hit.value

    def values(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.found.items()}


# --- numbers ----------------------------------------------------------------------------

EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "a couple": 2, "couple": 2, "a dozen": 12, "dozen": 12, "single": 1,
}  # fmt: skip
RU_NUMBERS = {
    "один": 1, "одного": 1, "одна": 1, "одну": 1, "два": 2, "двое": 2, "двух": 2, "две": 2,
    "три": 3, "трое": 3, "трёх": 3, "трех": 3, "четыре": 4, "четверо": 4, "четырёх": 4,
    "четырех": 4, "пять": 5, "пятеро": 5, "пяти": 5, "шесть": 6, "шестеро": 6, "шести": 6,
    "семь": 7, "семеро": 7, "семи": 7, "восемь": 8, "восьмеро": 8, "восьми": 8, "девять": 9,
    "девяти": 9, "десять": 10, "десяти": 10, "одиннадцать": 11, "двенадцать": 12,
}  # fmt: skip
RU_COLLECTIVE = {
    "одного": 1, "двоих": 2, "троих": 3, "четверых": 4, "пятерых": 5, "шестерых": 6,
    "семерых": 7, "восьмерых": 8, "девятерых": 9, "десятерых": 10,
}  # fmt: skip
RU_TOGETHER = {"вдвоём": 2, "вдвоем": 2, "втроём": 3, "втроем": 3, "вчетвером": 4, "впятером": 5}
NUMBER_WORDS = {**EN_NUMBERS, **RU_NUMBERS}
_NUM = r"(\d{1,3}|" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + r")"


def number(token: str) -> int | None:
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token) or RU_COLLECTIVE.get(token)


# --- people -----------------------------------------------------------------------------

_PEOPLE_WORDS = (
    r"(?:people|persons?|guests?|adults?|pax|diners|ppl|seats?|tickets?|passengers?|"
    r"of us|individuals|members|folks|человека?|гост(?:ей|я|ь)|взрослых|взрослы[йх]|"
    r"персон[аы]?|чел\.?|мест[а]?|билет(?:а|ов)?|пассажир(?:а|ов)?)"
)
_PEOPLE = [
    (re.compile(rf"\b{_NUM}\s+{_PEOPLE_WORDS}(?!\w)", re.I), 1),
    (
        re.compile(
            r"\b(?:party|table|group|reservation|booking)\s+(?:of|for)\s+"
            + _NUM
            + r"\b(?!\s*(?::|am|pm|a\.m|p\.m|o'clock|\d))",
            re.I,
        ),
        1,
    ),
    (re.compile(r"\bна\s+(" + "|".join(RU_COLLECTIVE) + r")\b", re.I), 1),
    (re.compile(r"\b(" + "|".join(RU_TOGETHER) + r")\b", re.I), 1),
    (re.compile(r"\bнас\s+(?:будет\s+)?" + _NUM + r"\b", re.I), 1),
    (
        re.compile(
            r"\b(?:for|на)\s+"
            + _NUM
            + r"\b(?!\s*(?::|\.\d|am|pm|a\.m|p\.m|o'clock|h\b|hrs?\b|ноч|дн|час|утра|вечера|дня|-?го|th|st|nd|rd|/|янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|пон|вто|сре|чет|пят|суб|вос|days?|nights?|weeks?|minutes?|mins?|hours?|in the|tonight|tomorrow|today))",  # noqa: E501
            re.I,
        ),
        1,
    ),
]
_ALONE = re.compile(
    r"\b(?:(?:just|only)\s+me|by myself|myself|alone|on my own|solo|just one|один|одна|"
    r"одному|одной)\b",
    re.I,
)
_ME_AND = re.compile(
    r"\b(?:me|myself|I)\s+and\s+(?:my\s+)?(?:(" + _NUM[1:-1] + r")\s+)?"
    r"(friends?|others?|wife|husband|partner|girlfriend|boyfriend|mom|mother|dad|father|"
    r"son|daughter|colleagues?|kids?|children|guests?|sister|brother|friend|family)",
    re.I,
)
_AND_ME = re.compile(
    r"\b(?:я\s+и\s+(?:моя|мой)\s+\w+|я\s+с\s+(?:женой|мужем|другом|подругой))", re.I
)


def _people(text: str, requested: Sequence[str]) -> Found | None:
    m: re.Match[str] | None
    best: Found | None = None
    for pattern, group in _PEOPLE:
        for m in pattern.finditer(text):
            n = number(m.group(group))
            if n is None or not 0 < n <= 200:
                continue
            if best is None or m.start() < best.start:
                best = Found(n, m.start(), m.end(), m.group(0))
    if best is not None:
        return best
    m = _ME_AND.search(text)
    if m:
        n = number(m.group(1)) if m.group(1) else None
        return Found((n or 1) + 1, m.start(), m.end(), m.group(0))
    m = _AND_ME.search(text)
    if m:
        return Found(2, m.start(), m.end(), m.group(0))
    m = _ALONE.search(text)
    if m and not re.search(r"\bone\s+(?:of|more|day|night)", text, re.I):
        return Found(1, m.start(), m.end(), m.group(0))
    if (
        "people" in requested[:1]
        or requested == ["people"]
        or (requested and requested[0] == "people")
    ):
        m = re.fullmatch(r"\s*(?:just\s+)?" + _NUM + r"\s*[.!]?\s*", text, re.I)
        if m:
            n = number(m.group(1))
            if n is not None and 0 < n <= 200:
                return Found(n, m.start(1), m.end(1), m.group(1))
    return None


# --- time -------------------------------------------------------------------------------

_AMPM = r"(a\.?\s?m\.?|p\.?\s?m\.?)"
_TIMES = [
    re.compile(rf"\b([01]?\d|2[0-3])[:.]([0-5]\d)\s*{_AMPM}?(?![\d])", re.I),
    re.compile(rf"\b(1[0-2]|0?[1-9])\s*{_AMPM}", re.I),
    re.compile(r"\b([01]?\d|2[0-3])\s*(?:o'?clock|h\b|hrs?\b|час(?:ов|а)?)", re.I),
    re.compile(
        r"\b(?:в|к|at|@|by|around)\s+([01]?\d|2[0-3])\s*(утра|вечера|дня|ночи)?\b(?![:./\d]|\s*(?:people|persons|guests|of us|человек|гост|"  # noqa: E501
        r"янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|th\b|st\b|nd\b|rd\b|-?го))",
        re.I,
    ),
]
_NAMED_TIMES = {
    "noon": time(12), "midday": time(12), "midnight": time(0), "полдень": time(12),
    "полночь": time(0), "lunchtime": time(12), "lunch time": time(12),
}  # fmt: skip
_NAMED_TIME = re.compile(r"\b(" + "|".join(_NAMED_TIMES) + r")\b", re.I)
_HALF_PAST = re.compile(r"\bhalf past\s+(\d{1,2}|" + "|".join(EN_NUMBERS) + r")\b", re.I)
_COMPACT = re.compile(r"^\s*(?:at\s+)?([01]?\d|2[0-3])([0-5]\d)\s*" + _AMPM + r"?\s*$", re.I)
_BARE_HOUR = re.compile(
    r"^\s*(?:at\s+|в\s+|in\s+)?([01]?\d|2[0-3])\s*" + _AMPM + r"?\s*[.!]?\s*$", re.I
)


def _clock(hour: int, minute: int, ampm: str | None, context: str = "") -> time | None:
    marker = (ampm or "").lower().replace(".", "").replace(" ", "")
    if marker == "pm" or (context in ("вечера", "дня") and hour < 12):
        if hour < 12:
            hour += 12
    elif marker == "am" or context in ("утра", "ночи"):
        if hour == 12:
            hour = 0
    elif 1 <= hour <= 6 and not marker:  # "at 7" for dinner; "at 5" is five in the afternoon
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _time(text: str, requested: Sequence[str]) -> Found | None:
    m: re.Match[str] | None
    hits: list[Found] = []
    for i, pattern in enumerate(_TIMES):
        for m in pattern.finditer(text):
            groups = m.groups()
            if i == 0:
                value = _clock(int(groups[0]), int(groups[1]), groups[2])
            elif i == 1:
                value = _clock(int(groups[0]), 0, groups[1])
            elif i == 2:
                value = _clock(int(groups[0]), 0, None if int(groups[0]) > 12 else "")
            else:
                value = _clock(int(groups[0]), 0, None, (groups[1] or "").lower())
            if value is not None:
                start = m.start(1) if i == 3 else m.start()
                hits.append(Found(value, start, m.end(), text[start : m.end()]))
    for m in _NAMED_TIME.finditer(text):
        hits.append(Found(_NAMED_TIMES[m.group(1).lower()], m.start(), m.end(), m.group(0)))
    for m in _HALF_PAST.finditer(text):
        h = number(m.group(1)) or 0
        value = _clock(h, 30, None)
        if value is not None:
            hits.append(Found(value, m.start(), m.end(), m.group(0)))
    if hits:
        return min(hits, key=lambda f: (f.start, -f.end))
    if requested and requested[0] == "time":
        m = _COMPACT.match(text)
        if m:
            value = _clock(int(m.group(1)), int(m.group(2)), m.group(3))
            if value is not None:
                return Found(value, m.start(1), m.end(), m.group(0).strip())
        m = _BARE_HOUR.match(text)
        if m:
            value = _clock(int(m.group(1)), 0, m.group(2))
            if value is not None:
                return Found(value, m.start(1), m.end(), m.group(0).strip())
    return None


# --- dates ------------------------------------------------------------------------------

EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1,
    "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
RU_MONTHS = {
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7, "август": 8,
    "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sat": 5, "sunday": 6, "sun": 6, "понедельник": 0, "вторник": 1, "среда": 2, "среду": 2,
    "четверг": 3, "пятница": 4, "пятницу": 4, "суббота": 5, "субботу": 5, "воскресенье": 6,
    "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 4 + 1, "вс": 6, "понедельника": 0,
    "вторника": 1, "среды": 2, "четверга": 3, "пятницы": 4, "субботы": 5, "воскресенья": 6,
    "понедельникам": 0, "вторникам": 1, "средам": 2, "четвергам": 3, "пятницам": 4,
    "субботам": 5, "воскресеньям": 6, "mondays": 0, "tuesdays": 1, "wednesdays": 2,
    "thursdays": 3, "fridays": 4, "saturdays": 5, "sundays": 6,
}  # fmt: skip
_EN_MONTH = r"(" + "|".join(sorted(EN_MONTHS, key=len, reverse=True)) + r")\.?"
_RU_MONTH = r"(январ[яьею]|феврал[яьею]|марта?|апрел[яьею]|ма[яйе]|июн[яьею]|июл[яьею]|август[ае]?|сентябр[яьею]|октябр[яьею]|ноябр[яьею]|декабр[яьею])"  # noqa: E501
_WEEKDAY = (
    r"(mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|mon|tues?|wed|"
    r"thur?s?|fri|sat|sun|понедельник(?:ам|а)?|вторник(?:ам|а)?|сред(?:у|а|ы|ам)|"
    r"четверг(?:ам|а)?|пятниц(?:у|а|ы|ам)|суббот(?:у|а|ы|ам)|воскресень(?:е|я|ям))"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th|-?го|-?е)?"
_YEAR = r"(?:,?\s+(\d{4})(?:\s*(?:г\.?|года))?)?"
_RANGE_SEP = r"\s*(?:-|–|—|to|till|until|through|по|до)\s*"

_RANGE_PATTERNS = [
    # с 10 по 12 июля / 10-12 июля / from 10 to 12 July
    re.compile(
        rf"(?:\b(?:с|from)\s+)?\b{_DAY}{_RANGE_SEP}(?:the\s+)?{_DAY}\s+(?:of\s+)?{_RU_MONTH}{_YEAR}",
        re.I,
    ),
    re.compile(
        rf"(?:\b(?:с|from)\s+)?\b{_DAY}{_RANGE_SEP}(?:the\s+)?{_DAY}\s+(?:of\s+)?{_EN_MONTH}{_YEAR}",
        re.I,
    ),
    # July 10-12 / from July 10 to 12
    re.compile(rf"(?:\bfrom\s+)?\b{_EN_MONTH}\s+{_DAY}{_RANGE_SEP}{_DAY}\b{_YEAR}", re.I),
]
_MONTH_DATES = [
    # (weekday,) 9 июня (2027) / the 18th day of August / 24th of December / 23 Aug 2018
    (
        re.compile(
            rf"(?:\b{_WEEKDAY},?\s+)?(?:the\s+)?\b{_DAY}(?:\s+day)?\s+(?:of\s+)?{_RU_MONTH}{_YEAR}",
            re.I,
        ),
        "dm",
    ),
    (
        re.compile(
            rf"(?:\b{_WEEKDAY},?\s+)?(?:the\s+)?\b{_DAY}(?:\s+day)?\s+(?:of\s+)?{_EN_MONTH}{_YEAR}",
            re.I,
        ),
        "dm",
    ),
    # (Sunday,) August 26th(, 2018)
    (re.compile(rf"(?:\b{_WEEKDAY},?\s+)?\b{_EN_MONTH}\s+(?:the\s+)?{_DAY}\b{_YEAR}", re.I), "md"),
]
_NUMERIC_DATE = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})([./])(\d{1,2})(?:\5(\d{2,4}))?\b"
)
_ORDINAL_DAY = re.compile(
    r"\b(?:the|on the|for the)\s+(\d{1,2})(?:st|nd|rd|th)\b|\b(\d{1,2})-?го(?!\s*\w*(?:час|челов))\b",  # noqa: E501
    re.I,
)
_RELATIVE = [
    (re.compile(r"\b(?:the\s+)?day after tomorrow\b|\bпослезавтра\b", re.I), 2),
    (re.compile(r"\btomorrow\b|\bзавтра\b", re.I), 1),
    (re.compile(r"\btoday\b|\btonight\b|\bthis evening\b|\bсегодня\b", re.I), 0),
]
_IN_DAYS = re.compile(
    r"\b(?:in\s+"
    + _NUM
    + r"\s+(days?|weeks?)|"
    + _NUM
    + r"\s+(days?|weeks?)\s+from\s+(?:now|today)|"
    r"через\s+" + _NUM + r"?\s*(дн(?:я|ей|ь)|недел[юиь]))\b",
    re.I,
)
_WEEKDAY_REF = re.compile(
    r"(?:\b(this coming|coming|this|next|on|в\s+следующ(?:ую|ий|ее)|в\s+эт(?:у|от|о)|в|во|"
    r"к|на|с|со|по|начиная\s+с|начиная\s+со)\s+)?\b" + _WEEKDAY + r"\b",
    re.I,
)
_NIGHTS = re.compile(r"\b(?:for|на)\s+" + _NUM + r"\s+(nights?|ноч(?:ь|и|ей)|сут(?:ок|ки))", re.I)


_FILLER = re.compile(
    r"thank|that'?s all|that is all|all i need|help|anything else|спасибо|благодар|вс[её],? что|"
    r"на сегодня вс|помо[чгщ]|всё на сегодня|все на сегодня",
    re.I,
)


def _sentence(text: str, index: int) -> str:
    start = max(text.rfind(c, 0, index) for c in ".!?\n") + 1
    ends = [i for i in (text.find(c, index) for c in ".!?\n") if i != -1]
    return text[start : min(ends) if ends else len(text)]


def _month_number(word: str) -> int | None:
    word = word.lower().rstrip(".")
    if word in EN_MONTHS:
        return EN_MONTHS[word]
    for stem, n in RU_MONTHS.items():
        if word.startswith(stem) and (stem != "ма" or len(word) <= 3):
            return n
    return None


def _resolve(day: int, month: int, year: str | None, today: date) -> date | None:
    try:
        if year:
            return date(int(year), month, day)
        found = date(today.year, month, day)
        return found if found >= today - timedelta(days=1) else date(today.year + 1, month, day)
    except ValueError:
        return None


_NEXT_WEEK = re.compile(r",?\s+(?:of\s+)?(?:next\s+week|на\s+следующей\s+неделе)\b", re.I)


def _weekday(target: int, modifier: str, today: date) -> date:
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and modifier.lower().startswith(("next", "в следующ")):
        ahead = 7
    return today + timedelta(days=ahead)


def _dates(
    text: str, today: date, requested: Sequence[str] = ()
) -> tuple[Found | None, Found | None]:
    """The start date and the end date mentioned in ``text`` (either may be None)."""
    for pattern in _RANGE_PATTERNS:
        m = pattern.search(text)
        if m is None:
            continue
        g = m.groups()
        if pattern is _RANGE_PATTERNS[2]:
            month, d1, d2, year = _month_number(g[0]), int(g[1]), int(g[2]), g[3]
        else:
            d1, d2, month, year = int(g[0]), int(g[1]), _month_number(g[2]), g[3]
        if month is None:
            continue
        start, end = _resolve(d1, month, year, today), _resolve(d2, month, year, today)
        if start and end and end > start:
            return Found(start, m.start(), m.end(), m.group(0)), Found(
                end, m.start(), m.end(), m.group(0)
            )
    return _by_role(text, date_hits(text, today), requested)


def date_hits(text: str, today: date) -> list[Found]:
    """Every single date mentioned in ``text`` (not ranges), in order."""
    hits: list[Found] = []
    for pattern, order in _MONTH_DATES:
        for m in pattern.finditer(text):
            g = m.groups()
            day_s, month_s = (g[1], g[2]) if order == "dm" else (g[2], g[1])
            month = _month_number(month_s)
            value = _resolve(int(day_s), month, g[3], today) if month else None
            if value is not None:
                hits.append(Found(value, m.start(), m.end(), m.group(0)))
    for m in _NUMERIC_DATE.finditer(text):
        if m.group(1):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            a, b = int(m.group(4)), int(m.group(6))
            d, mo = (a, b) if m.group(5) == "." or a > 12 else (b, a)
            y = int(m.group(7)) if m.group(7) else 0
            if y and y < 100:
                y += 2000
        value = _resolve(d, mo, str(y) if y else None, today) if 1 <= mo <= 12 else None
        if value is not None:
            hits.append(Found(value, m.start(), m.end(), m.group(0)))
    for pattern, days in _RELATIVE:
        for m in pattern.finditer(text):
            if days == 0 and _FILLER.search(_sentence(text, m.start())):
                continue  # "that's all I need today", "спасибо за помощь сегодня"
            hits.append(Found(today + timedelta(days=days), m.start(), m.end(), m.group(0)))
    for m in _IN_DAYS.finditer(text):
        g = m.groups()
        count_s, unit = next(((g[i], g[i + 1]) for i in (0, 2, 4) if g[i + 1]), (None, ""))
        count = number(count_s) if count_s else 1
        if count is None:
            continue
        weeks = unit.lower().startswith(("week", "недел"))
        hits.append(
            Found(
                today + timedelta(days=count * (7 if weeks else 1)), m.start(), m.end(), m.group(0)
            )
        )
    for m in _WEEKDAY_REF.finditer(text):
        target = WEEKDAYS.get(m.group(2).lower())
        if target is None:
            continue
        if any(h.start <= m.start(2) < h.end for h in hits):
            continue
        begin = (
            m.start(2)
            if not m.group(1) or m.group(1).lower() in ("on", "в", "во", "к", "на")
            else m.start()
        )
        value = _weekday(target, m.group(1) or "", today)
        if _NEXT_WEEK.match(text, m.end()):  # "Friday next week": that day of next week
            value = today + timedelta(days=7 - today.weekday() + target)
        hits.append(Found(value, begin, m.end(), text[begin : m.end()]))
    for m in _ORDINAL_DAY.finditer(text):
        number_at = m.start(1) if m.group(1) else m.start(2)  # "on the 3rd of July" is July's
        if any(h.start <= number_at < h.end for h in hits):
            continue
        day = int(m.group(1) or m.group(2))
        month = today.month if day >= today.day else today.month % 12 + 1
        year = today.year + (1 if month < today.month else 0)
        try:
            value = date(year, month, day)
        except ValueError:
            continue
        hits.append(Found(value, m.start(), m.end(), m.group(0)))
    return sorted(hits, key=lambda f: (f.start, -f.end))


def _by_role(
    text: str, hits: list[Found], requested: Sequence[str]
) -> tuple[Found | None, Found | None]:
    """The start and the end among single dates, by the cue before each
    (:mod:`frontline.bookings.dateroles`); a bare date answering "when do you leave?" is
    the end; "for 3 nights" ends a stay that has a start."""
    roles = [dateroles.role(text, h.start) for h in hits]
    ends = [h for i, h in enumerate(hits) if roles[i] == "end" or (roles[i] == "range_end" and i)]
    starts = [h for h in hits if h not in ends]
    if not ends and len(hits) == 1 and requested[:1] == ["end_date"]:
        return None, hits[0]
    first = starts[0] if starts else None
    end = next((h for h in ends if first is None or h.value > first.value), None)
    nights = _NIGHTS.search(text)
    if first is not None and end is None and nights:
        n = number(nights.group(1))
        if n:
            end = Found(first.value + timedelta(days=n), nights.start(), nights.end(), nights[0])
    return first, end


# --- names and contacts -----------------------------------------------------------------

_NAME_WORD_EN = r"[A-Z][a-z'\-]+"
_NAME_WORD_RU = r"[А-ЯЁ][а-яё\-]+"
_NOT_NAMES = {
    "Looking", "Going", "Good", "Fine", "Sorry", "Not", "Just", "Here", "Interested", "Okay",
    "Ok", "Yes", "No", "Thanks", "Thank", "Hi", "Hello", "Sure", "The", "A", "An", "In", "At",
    "Planning", "Calling", "Trying", "Afraid", "Happy", "Glad", "Ready", "Booking",
}  # fmt: skip
_NAME_PATTERNS = [
    re.compile(
        rf"(?i:my name is|my name's|name is|name's|i am|i'm|this is|under(?: the name)?(?: of)?|in the name of|it's for|booked by|name:|call me)\s+({_NAME_WORD_EN}(?:\s+{_NAME_WORD_EN})?)"  # noqa: E501
    ),
    re.compile(
        rf"(?i:меня зовут|моё имя|мое имя|на имя|на фамилию|имя:|я\s*[-—]|это)\s+({_NAME_WORD_RU}(?:\s+{_NAME_WORD_RU})?)"  # noqa: E501
    ),
]
_BARE_NAME = re.compile(
    rf"^\s*(?:(?i:it's|its|name is)\s+)?((?:{_NAME_WORD_EN}|{_NAME_WORD_RU})(?:\s+(?:{_NAME_WORD_EN}|{_NAME_WORD_RU})){{0,2}})\s*(?:[,.;!]|$)"  # noqa: E501
)
_PHONE = re.compile(r"(?<![\d\w])(\+?\d[\d\-\s()]{8,18}\d)(?!\d)")
_EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")


def _name(text: str, requested: Sequence[str]) -> Found | None:
    m: re.Match[str] | None
    for pattern in _NAME_PATTERNS:
        for m in pattern.finditer(text):
            words = m.group(1).split()
            while words and words[-1] in _NOT_NAMES:
                words.pop()
            if not words or words[0] in _NOT_NAMES:
                continue
            value = " ".join(words)
            return Found(value, m.start(1), m.start(1) + len(value), value)
    if requested and requested[0] in ("first_name", "last_name", "name"):
        m = _BARE_NAME.match(text)
        if m and m.group(1).split()[0] not in _NOT_NAMES:
            return Found(m.group(1), m.start(1), m.end(1), m.group(1))
    return None


def _contacts(text: str) -> dict[str, Found]:
    m: re.Match[str] | None
    found: dict[str, Found] = {}
    m = _EMAIL.search(text)
    if m:
        found["email"] = Found(m.group(0).lower(), m.start(), m.end(), m.group(0))
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if 10 <= len(digits) <= 15:
            if len(digits) == 11 and digits[0] == "8":
                digits = "7" + digits[1:]
            found["phone"] = Found("+" + digits, m.start(1), m.end(1), m.group(1))
            break
    return found


# --- the face ---------------------------------------------------------------------------


def extract(text: str, *, today: date, requested: Sequence[str] = ()) -> Slots:
    """The booking slots in one message; ``today`` anchors relative dates."""
    requested = list(requested)
    slots = Slots()
    first, end = _dates(text, today, requested)
    if first is not None:
        slots.found["date"] = first
    if end is not None:
        slots.found["end_date"] = end
    hit = _time(text, requested)
    if hit is not None and not (first and first.start <= hit.start < first.end):
        slots.found["time"] = hit
    people = _people(text, requested)
    if people is not None and not any(
        f.start <= people.start < f.end for f in (first, hit, end) if f is not None
    ):
        slots.found["people"] = people
    name = _name(text, requested)
    if name is not None:
        slots.found["name"] = name
    slots.found.update(_contacts(text))
    return slots


def merge(messages: Iterable[Slots]) -> Slots:
    """One request from a conversation's messages, oldest first: later mentions win; a new
    start drops an end said with the old start, or one not after the new start."""
    result = Slots()
    paired = False  # the end was said with the start
    for slots in messages:
        new, end = slots.found.get("date"), result.found.get("end_date")
        has_date, has_end = new is not None, "end_date" in slots.found
        if new and end and not has_end and (paired or end.value <= new.value):
            result.found.pop("end_date")
        result.found.update(slots.found)
        if has_end or has_date:  # said together: a range, or "for 3 nights" from the start
            e = slots.found.get("end_date")
            paired = bool(new and e and (e.start == new.start or _NIGHTS.fullmatch(e.text)))
    end, start = result.found.get("end_date"), result.found.get("date")
    if end is not None and (start is None or end.value <= start.value):
        # an "end" with no start before it is the date itself ("I leave on the 3rd" for a
        # bus), and one said later that is not after the start moves the date
        result.found["date"] = result.found.pop("end_date")
    return result
