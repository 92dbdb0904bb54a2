"""``frontline eval booking``: slot extraction measured on public booking data.

Data sets (the development halves in ``eval-data``):

- Restaurant-8k: single turns with span labels (date, time, people, first/last name). A
  prediction counts when its normalised value equals the gold span's normalised value
  (the gold span read by the same normaliser, as the bot would read it after asking for
  that slot); when the gold span has no normalisable value, an overlapping span counts.
  Name = first + last name, compared case-insensitively.
- Russian MultiWOZ: whole dialogues (the Russian text, and the parallel English for the
  gap); the booking's people, day (weekday) and, for restaurants, time, taken from the
  latest mention in the user's turns (the previous system turn tells which slot it asked
  for). Dialogues whose booked slots disagree with the user's goal are left out.
- SGD: the user turns before the final booking call; the call's date, end date, time and
  number of people among the slots the user stated; "today" is 2019-03-01 as in SGD.

Per data set: precision, recall and F1 per slot, and joint accuracy (every evaluated slot
of the item right), for the extractor and for a simple baseline (``dateparser``'s date
search, a clock regex and "N people") in the same run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from frontline.bookings import slots as sx

Extractor = Callable[..., sx.Slots]
R8K_TODAY = date(2018, 8, 1)  # its dates are of August 2018
SGD_TODAY = date(2019, 3, 1)
MWOZ_TODAY = date(2027, 6, 7)  # a Monday; gold days are weekdays only
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, gold: bool, correct: bool) -> None:
        if predicted and gold and correct:
            self.tp += 1
            return
        if predicted:
            self.fp += 1
        if gold:
            self.fn += 1

    def scores(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


@dataclass
class Score:
    slots: dict[str, Counts] = field(default_factory=dict)
    items: int = 0
    joint: int = 0

    def item(self, results: dict[str, tuple[bool, bool, bool]]) -> None:
        self.items += 1
        ok = True
        for slot, (predicted, gold, correct) in results.items():
            self.slots.setdefault(slot, Counts()).add(predicted, gold, correct)
            if predicted != gold or (gold and not correct):
                ok = False
        self.joint += ok

    def report(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "joint_accuracy": round(self.joint / self.items, 4) if self.items else 0.0,
            "slots": {k: v.scores() for k, v in sorted(self.slots.items())},
        }


def _jsonl(path: Path, limit: int | None) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                return
            if line.strip():
                yield json.loads(line)


# --- Restaurant-8k ----------------------------------------------------------------------


def _gold_value(slot: str, text: str) -> Any:
    found = sx.extract(text, today=R8K_TODAY, requested=[slot]).found.get(slot)
    return None if found is None else found.value


def evaluate_r8k(folder: Path, extractor: Extractor, limit: int | None = None) -> Score:
    score = Score()
    for row in _jsonl(folder / "test.jsonl", limit):
        text, labels = row["text"], row["labels"]
        got = extractor(text, today=R8K_TODAY, requested=row["requested_slots"]).found
        results: dict[str, tuple[bool, bool, bool]] = {}
        for slot in ("date", "time", "people"):
            gold = next((lab for lab in labels if lab["slot"] == slot), None)
            pred = got.get(slot)
            correct = False
            if gold is not None and pred is not None:
                value = _gold_value(slot, gold["value"])
                if value is not None:
                    correct = value == pred.value
                else:
                    correct = pred.start < gold["end"] and gold["start"] < pred.end
            results[slot] = (pred is not None, gold is not None, correct)
        names = [lab for lab in labels if lab["slot"] in ("first_name", "last_name")]
        gold_name = " ".join(lab["value"] for lab in sorted(names, key=lambda n: n["start"]))
        pred_name = got.get("name")
        results["name"] = (
            pred_name is not None,
            bool(names),
            pred_name is not None and str(pred_name.value).lower() == gold_name.lower(),
        )
        score.item(results)
    return score


# --- Russian MultiWOZ -------------------------------------------------------------------

_ASKS = [
    (
        re.compile(
            r"сколько (человек|гостей|людей|персон)|how many (people|guests|persons)|for how many|party size|сколько вас",  # noqa: E501
            re.I,
        ),
        "people",
    ),
    (
        re.compile(
            r"в какой день|какой день|на какой день|what day|which day|when would you like", re.I
        ),
        "date",
    ),
    (re.compile(r"во сколько|в какое время|на какое время|what time|which time", re.I), "time"),
]


def _requested(system_text: str) -> list[str]:
    return [slot for pattern, slot in _ASKS if pattern.search(system_text)]


def _clean(text: str) -> str:
    return text.replace("[", "").replace("]", "")


def _conversation(turns: Iterable[tuple[str, str]], extractor: Extractor, today: date) -> sx.Slots:
    """Slots of a dialogue: ``turns`` are (speaker, text), speaker ``user`` or ``system``."""
    found: list[sx.Slots] = []
    last_system = ""
    for speaker, text in turns:
        if speaker == "system":
            last_system = text
            continue
        found.append(extractor(_clean(text), today=today, requested=_requested(last_system)))
    return sx.merge(found)


def evaluate_mwoz(
    folder: Path, extractor: Extractor, language: str, limit: int | None = None
) -> Score:
    score = Score()
    key = f"text_{language}"
    for row in _jsonl(folder / "ru_multiwoz_booking.jsonl", limit):
        got = _conversation(
            ((t["speaker"], t.get(key) or "") for t in row["turns"]), extractor, MWOZ_TODAY
        ).found
        for domain, gold in row["gold_booking"].items():
            if not gold.get("book_slots_match_user_goal", True):
                continue
            values = gold["slots"]
            results: dict[str, tuple[bool, bool, bool]] = {}
            pred_day = got.get("date")
            day = WEEKDAY_NAMES[pred_day.value.weekday()] if pred_day else None
            results["day"] = (day is not None, bool(values.get("day")), day == values.get("day"))
            people = got.get("people")
            gold_people = str(values.get("people") or "")
            results["people"] = (
                people is not None,
                bool(gold_people),
                people is not None and str(people.value) == gold_people,
            )
            if domain == "restaurant":
                clock = got.get("time")
                shown = f"{clock.value:%H:%M}" if clock is not None else None
                results["time"] = (
                    clock is not None,
                    bool(values.get("time")),
                    shown == values.get("time"),
                )
            score.item(results)
    return score


# --- SGD --------------------------------------------------------------------------------

SGD_SLOTS = {
    "date": ("date", "appointment_date", "check_in_date", "departure_date", "show_date",
             "date_of_journey", "start_date", "visit_date"),
    "end_date": ("check_out_date", "end_date"),
    "time": ("time", "appointment_time", "departure_time", "show_time", "journey_start_time",
             "pickup_time"),
    "people": ("number_of_seats", "number_of_adults", "num_passengers", "number_of_tickets"),
}  # fmt: skip
_SGD_ASKS = {slot: ours for ours, names in SGD_SLOTS.items() for slot in names}


def _sgd_value(slot: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)


def evaluate_sgd(folder: Path, extractor: Extractor, limit: int | None = None) -> Score:
    score = Score()
    for row in _jsonl(folder / "test_booking_dialogues.jsonl", limit):
        call = row["gold_final_booking"]
        informed = set(call.get("slots_user_informed") or [])
        found: list[sx.Slots] = []
        requested: list[str] = []
        for turn in row["turns"][: call["turn_index"]]:
            if turn["speaker"] == "SYSTEM":
                requested = [
                    _SGD_ASKS[s]
                    for s in turn.get("requested_slots_by_system", [])
                    if s in _SGD_ASKS
                ]
                continue
            found.append(extractor(turn["text"], today=SGD_TODAY, requested=requested))
        got = sx.merge(found).found
        results: dict[str, tuple[bool, bool, bool]] = {}
        for ours, names in SGD_SLOTS.items():
            gold = next(
                (call["params"][n] for n in names if n in call["params"] and n in informed), None
            )
            if gold is None and not any(n in call["params"] for n in names):
                continue  # the service has no such slot
            pred = got.get(ours)
            shown = _sgd_value(ours, pred.value) if pred else None
            results[ours] = (pred is not None, gold is not None, shown == gold)
        score.item(results)
    return score


# --- the run ----------------------------------------------------------------------------


def run(data: Path, limit: int | None = None) -> dict[str, Any]:
    """Every data set found under ``data``, the extractor and the baseline."""
    report: dict[str, Any] = {}
    systems: dict[str, Extractor] = {"extractor": sx.extract, "baseline": _baseline}
    jobs: list[tuple[str, Callable[[Extractor], Score]]] = []
    if (data / "restaurant8k").is_dir():
        jobs.append(("restaurant8k", lambda e: evaluate_r8k(data / "restaurant8k", e, limit)))
    if (data / "ru_multiwoz_booking").is_dir():
        folder = data / "ru_multiwoz_booking"
        jobs.append(("ru_multiwoz_ru", lambda e: evaluate_mwoz(folder, e, "ru", limit)))
        jobs.append(("ru_multiwoz_en", lambda e: evaluate_mwoz(folder, e, "en", limit)))
    if (data / "sgd_booking").is_dir():
        jobs.append(("sgd", lambda e: evaluate_sgd(data / "sgd_booking", e, limit)))
    for name, job in jobs:
        report[name] = {system: job(fn).report() for system, fn in systems.items()}
    return report


def _baseline(text: str, *, today: date, requested: Iterable[str] = ()) -> sx.Slots:
    return baseline(text, today=today)


def baseline(text: str, *, today: date) -> sx.Slots:
    """The simple baseline the eval compares with: ``dateparser``'s date search, a clock
    regex and "N people"."""
    from dateparser.search import search_dates  # type: ignore[import-untyped]

    slots = sx.Slots()
    base = datetime.combine(today, time(12))
    found = search_dates(
        text,
        languages=["en", "ru"],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"},
    )
    for phrase, moment in found or []:
        start = text.find(phrase)
        if re.fullmatch(r"\s*\d{1,4}\s*", phrase):
            continue
        if re.search(r"\d[:.]\d\d|\b(?:am|pm)\b", phrase, re.I) and not re.search(
            r"[a-zа-я]{3,}", phrase.lower().replace("am", "").replace("pm", "")
        ):
            continue
        slots.found["date"] = sx.Found(moment.date(), start, start + len(phrase), phrase)
        break
    m = re.search(r"\b([01]?\d|2[0-3]):([0-5]\d)\b", text)
    if m:
        slots.found["time"] = sx.Found(
            time(int(m.group(1)), int(m.group(2))), m.start(), m.end(), m.group(0)
        )
    m = re.search(r"\b(\d{1,3})\s+(?:people|persons|guests|человек|гостей)\b", text, re.I)
    if m:
        slots.found["people"] = sx.Found(int(m.group(1)), m.start(), m.end(), m.group(0))
    return slots


def render(report: dict[str, Any]) -> str:
    lines = [f"{'data set':<16} {'slot':<9} {'system':<10} {'P':>6} {'R':>6} {'F1':>6}"]
    for name, systems in report.items():
        for slot in systems["extractor"]["slots"]:
            for system, result in systems.items():
                s = result["slots"].get(slot, {"precision": 0, "recall": 0, "f1": 0})
                lines.append(
                    f"{name:<16} {slot:<9} {system:<10} "
                    f"{s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f}"
                )
        for system, result in systems.items():
            lines.append(
                f"{name:<16} {'JOINT':<9} {system:<10} {'':>6} {'':>6} "
                f"{result['joint_accuracy']:>6.3f}  ({result['items']} items)"
            )
    return "\n".join(lines)
