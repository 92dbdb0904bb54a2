"""Which end of a stay a date is: the start ("from", "check in on", "pick it up", "с",
"заезд") or the end ("until", "till", "leaving on", "check out", "drop it off", "до",
"выезд"), read from the words just before the date in its clause. A general cue lexicon,
Russian and English, the same for every domain (hotels, houses, cars, rooms): the nearest
cue wins; "to", "до", "по" and a dash count only right before the date ("to the 5th"), not
in "I want to book ...", and "to" or a dash end a stay only after a start ("from the 3rd to
the 5th", not "change it to the 5th").

Imports no domain, models or settings: pure text in, a role out.
"""

from __future__ import annotations

import re
from typing import Literal

# "range_end": the end only after a start ("from the 3rd to the 5th"), not in "change it to
# the 5th"
Role = Literal["start", "end", "range_end"]

_OBJECT = r"(?:\s+(?:it|them|the\s+\w+|my\s+\w+))?"
_END = re.compile(
    r"\b(?:until|till|til|through|thru|up\s+to|leav(?:e|es|ing)|left|departing|"
    r"check(?:s|ing|ed)?[\s-]*out|checkout|drop(?:s|ping|ped)?" + _OBJECT + r"\s+off|"
    r"return(?:s|ing|ed)?|end(?:s|ing)?|finish(?:es|ing)?|"
    r"выезд\w*|выеха\w*|выезжа\w*|уезжа\w*|уед\w*|съезжа\w*|съед\w*|выселен\w*|"
    r"выселя\w*|сда(?:ть|м|дим)|верн\w*|возвра\w*)\b",
    re.I,
)
_START = re.compile(
    r"\b(?:from|since|starting|start(?:s|ing)?|beginning|check(?:s|ing|ed)?[\s-]*in|checkin|"
    r"arriv\w*|pick(?:s|ing|ed)?" + _OBJECT + r"\s+up|get\s+there|"
    r"заезд\w*|заеха\w*|заезжа\w*|засел\w*|приезжа\w*|прибыва\w*|приед\w*|начина\w*|"
    r"забер\w*|взять)\b",
    re.I,
)
_RIGHT_BEFORE_END = re.compile(r"\b(?:до|по)\s*$", re.I)
_RIGHT_BEFORE_RANGE_END = re.compile(r"(?:\b(?:to|and)|[-–—])\s*(?:the\s+)?$", re.I)
_RIGHT_BEFORE_START = re.compile(r"\b(?:с|со|from|since)\s*(?:the\s+)?$", re.I)
_CLAUSE = re.compile(r"[.!?;]")
WINDOW = 60  # characters before the date that may hold its cue


def role(text: str, start: int) -> Role | None:
    """The role of the date mentioned at ``text[start:]``; None when no cue says."""
    before = text[max(0, start - WINDOW) : start]
    cut = [m.end() for m in _CLAUSE.finditer(before)]
    if cut:
        before = before[cut[-1] :]
    if _RIGHT_BEFORE_END.search(before):
        return "end"
    if _RIGHT_BEFORE_START.search(before):
        return "start"
    ends = [m.end() for m in _END.finditer(before)]
    starts = [m.end() for m in _START.finditer(before)]
    cued: Role | None = None
    if ends or starts:
        cued = "end" if max(ends, default=-1) > max(starts, default=-1) else "start"
    if cued != "end" and _RIGHT_BEFORE_RANGE_END.search(before):
        return "range_end"  # "change the check-out date to the 8th" stays an end
    return cued
