"""Time ranges within a day (hourly bookings), Russian and English, from customer text."""

from __future__ import annotations

import pytest

from frontline.bookings import hours


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("завтра с 14 до 16", "14:00–16:00"),
        ("tomorrow from 14 to 16", "14:00–16:00"),
        ("с 14:00 до 16:30", "14:00–16:30"),
        ("с 9.30 до 11", "09:30–11:00"),
        ("с 10 утра до 2 дня", "10:00–14:00"),
        ("с 14 часов до 16 часов", "14:00–16:00"),
        ("нужна на 14-16", "14:00–16:00"),
        ("from 2 to 4 pm", "14:00–16:00"),
        ("from 2pm till 4pm", "14:00–16:00"),
        ("from 9:00 a.m. to 11 a.m.", "09:00–11:00"),
        ("between 10 and 12", "10:00–12:00"),
        ("2-4pm please", "14:00–16:00"),
        ("с 2 до 4", "14:00–16:00"),
        ("from 10 to 2", "10:00–14:00"),
        ("с 22 до 24", "22:00–24:00"),
        ("в 14 на 2 часа", "14:00–16:00"),
        ("at 3pm for 2 hours", "15:00–17:00"),
        ("at 10 for an hour", "10:00–11:00"),
        ("к 9 утра на три часа", "09:00–12:00"),
    ],
)
def test_time_ranges(text: str, label: str) -> None:
    found = hours.extract(text)
    assert found is not None, text
    assert found.label() == label


@pytest.mark.parametrize(
    "text",
    [
        "с 14 до 16 июля",  # dates, not hours
        "from 10 to 12 August",
        "с 14.07 до 16.07",
        "телефон +7 999 123-45-67",
        "на 2 человек с 10 по 12 июля",
        "Хочу забронировать переговорную",
        "с 16 до 14",  # the end before the start
        "from 10 to 12 people",
        "в 23 на 3 часа",  # past midnight
    ],
)
def test_no_time_range(text: str) -> None:
    assert hours.extract(text) is None, text
