"""Prices by model name: an answer is priced at the first name the table prices."""

from __future__ import annotations

import pytest

from frontline.ai.base import ModelPrice, PriceTable, Usage

PRICES = PriceTable(
    models={
        "gpt-4o-mini": ModelPrice(input_per_1k=0.15, output_per_1k=0.6),
        "yandexgpt-lite": ModelPrice(input_per_1k=0.2, output_per_1k=0.2),
    }
)
USAGE = Usage(input_tokens=1000, output_tokens=500)


def test_the_first_priced_name_wins() -> None:
    # the answering model's dated name is priced by its prefix, before the requested one
    assert PRICES.first_cost(("gpt-4o-mini-2024-07-18", "yandexgpt-lite"), USAGE) == (
        pytest.approx(0.15 + 0.3)
    )
    # an unpriced answering model falls back to the next name
    assert PRICES.first_cost(("mystery-model", "yandexgpt-lite"), USAGE) == pytest.approx(0.3)


def test_no_priced_name_is_no_cost() -> None:
    assert PRICES.first_cost(("mystery-model", "other"), USAGE) is None
    assert PRICES.first_cost((), USAGE) is None
