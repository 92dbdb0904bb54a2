"""Booking slot extraction: the phrases the product promises, and the eval's thresholds on
the development data (Restaurant-8k, Russian MultiWOZ), with the baseline beside it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, time

import pytest

from frontline.bookings import evaluation as ev
from frontline.bookings import slots as sx
from tests.conftest import EVAL_DATA, EVAL_DATA_MISSING

TODAY = date(2027, 6, 2)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Хочу забронировать Байкал на двоих с 9 июня", {"date": date(2027, 6, 9), "people": 2}),
        (
            "с 10 по 12 июля на троих",
            {"date": date(2027, 7, 10), "end_date": date(2027, 7, 12), "people": 3},
        ),
        (
            "next Friday at 7pm for 4 people",
            {"date": date(2027, 6, 4), "time": time(19), "people": 4},
        ),
        (
            "в следующую среду в 7 вечера, нас будет пятеро",
            {"date": date(2027, 6, 9), "time": time(19), "people": 5},
        ),
        ("tomorrow, me and my wife", {"date": date(2027, 6, 3), "people": 2}),
        ("через 3 дня на 2 ночи", {"date": date(2027, 6, 5), "end_date": date(2027, 6, 7)}),
        (
            "Меня зовут Иван Петров, телефон 8 (900) 123-45-67, ivan@example.com",
            {"name": "Иван Петров", "phone": "+79001234567", "email": "ivan@example.com"},
        ),
        (
            "My name is Nia Sayaphon, table for 9 at 18:30",
            {"name": "Nia Sayaphon", "people": 9, "time": time(18, 30)},
        ),
        ("Спасибо, на сегодня всё", {}),
        ("5 июня 2026", {"date": date(2026, 6, 5)}),
    ],
)
def test_phrases(text: str, expected: dict[str, object]) -> None:
    assert sx.extract(text, today=TODAY).values() == expected


def test_a_bare_answer_is_read_as_the_slot_asked_for() -> None:
    assert sx.extract("13", today=TODAY, requested=["people"]).values() == {"people": 13}
    assert sx.extract("13", today=TODAY, requested=["time"]).values() == {"time": time(13)}
    assert sx.extract("Ivey", today=TODAY, requested=["first_name"]).values() == {"name": "Ivey"}
    assert sx.extract("13", today=TODAY).values() == {}


def test_a_conversation_merges_its_messages_latest_first() -> None:
    merged = sx.merge(
        [
            sx.extract("с 10 по 12 июля", today=TODAY),
            sx.extract("нас двое", today=TODAY, requested=["people"]),
            sx.extract("ой, лучше с 11 июля", today=TODAY),
        ]
    )
    assert merged.values() == {"date": date(2027, 7, 11), "people": 2}


@EVAL_DATA_MISSING
def test_restaurant8k_and_ru_multiwoz_meet_their_targets() -> None:
    r8k = ev.evaluate_r8k(EVAL_DATA / "restaurant8k", sx.extract).report()
    for slot in ("date", "time", "people"):
        assert r8k["slots"][slot]["f1"] >= 0.85, (slot, r8k)
    mwoz = ev.evaluate_mwoz(EVAL_DATA / "ru_multiwoz_booking", sx.extract, "ru").report()
    for slot in ("day", "people"):
        assert mwoz["slots"][slot]["f1"] >= 0.80, (slot, mwoz)
    assert r8k["items"] > 1000 and mwoz["items"] > 300


@EVAL_DATA_MISSING
def test_the_cli_prints_every_data_set_with_the_baseline() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "frontline",
            "eval",
            "booking",
            "--data",
            str(EVAL_DATA),
            "--json",
            "--limit",
            "60",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    report = json.loads(out)
    assert set(report) == {"restaurant8k", "ru_multiwoz_ru", "ru_multiwoz_en", "sgd"}
    for systems in report.values():
        assert set(systems) == {"extractor", "baseline"}
    r8k = report["restaurant8k"]
    assert r8k["extractor"]["joint_accuracy"] > r8k["baseline"]["joint_accuracy"]


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (["I will be checking in on the 12th and leaving on the 14th"],
         {"date": date(2027, 6, 12), "end_date": date(2027, 6, 14)}),
        (["I need it until the 13th of June", "from the 8th please"],
         {"date": date(2027, 6, 8), "end_date": date(2027, 6, 13)}),
        (["check out on the 20th", "I'll check in on Friday next week"],
         {"date": date(2027, 6, 11), "end_date": date(2027, 6, 20)}),
        (["заезд 10 июля", "выезд 15 июля"],
         {"date": date(2027, 7, 10), "end_date": date(2027, 7, 15)}),
        (["from the 10th", "on the 3rd through the 5th of July"],
         {"date": date(2027, 7, 3), "end_date": date(2027, 7, 5)}),
        # one cued date with no start is the date itself (a bus "leaving on the 3rd")
        (["I want a bus leaving on the 3rd of July"], {"date": date(2027, 7, 3)}),
        # "to" after "change it" is not the end of a stay
        (["can I change it to the 28th of June"], {"date": date(2027, 6, 28)}),
        # an end said with its start goes when the start changes
        (["с 10 по 12 июля", "нет, с 20 июля"], {"date": date(2027, 7, 20)}),
        (["check in on the 12th", "and leave on the 10th of July"],
         {"date": date(2027, 6, 12), "end_date": date(2027, 7, 10)}),
    ],
)  # fmt: skip
def test_start_and_end_dates_by_their_cues(messages: list[str], expected: dict[str, date]) -> None:
    merged = sx.merge(sx.extract(text, today=TODAY) for text in messages)
    assert {k: v for k, v in merged.values().items() if k in ("date", "end_date")} == expected


def test_a_bare_date_answering_the_check_out_question_is_the_end() -> None:
    found = sx.extract("On the 11th of June.", today=TODAY, requested=["end_date"])
    assert found.values() == {"end_date": date(2027, 6, 11)}


@EVAL_DATA_MISSING
def test_sgd_end_dates_are_found() -> None:
    sgd = ev.evaluate_sgd(EVAL_DATA / "sgd_booking", sx.extract).report()
    assert sgd["slots"]["end_date"]["recall"] >= 0.8, sgd
    assert sgd["slots"]["date"]["f1"] >= 0.85, sgd
