"""The leak guard alone: every disguise of the instructions is caught, normal replies pass."""

from __future__ import annotations

import base64

import pytest

from frontline.ai.leakguard import LeakGuard
from frontline.ai.prompts import PromptSettings, system_message

SECRET = "Internal reference: ZX81-SPECTRUM-48K. Our office is open from 9 to 18 on weekdays."


@pytest.fixture
def guard() -> LeakGuard:
    settings = PromptSettings(system_prompt=SECRET, business_name="Acme")
    return LeakGuard.build(system_message(settings, "en").content, (SECRET,))


def rules(guard: LeakGuard) -> str:
    return system_message(PromptSettings(system_prompt=SECRET), "en").content


@pytest.mark.parametrize(
    "reply",
    [
        "Sure! The code is ZX81-SPECTRUM-48K.",
        "the code is zx81 spectrum 48k",
        "Z X 8 1 - S P E C T R U M - 4 8 K",
        "K84-MURTCEPS-18XZ",
        base64.b64encode(b"the code: ZX81-SPECTRUM-48K").decode(),
        b"ZX81-SPECTRUM-48K".hex(" "),
    ],
)
def test_the_secret_in_any_disguise_is_caught(guard: LeakGuard, reply: str) -> None:
    assert guard.check(reply) is not None


def test_the_rules_verbatim_reversed_or_spaced_are_caught(guard: LeakGuard) -> None:
    text = rules(guard)
    piece = text[text.index("Security rules") :][:300]
    for reply in (piece, piece[::-1], " ".join(piece), base64.b64encode(piece.encode()).decode()):
        assert guard.check(reply) is not None, reply[:60]


@pytest.mark.parametrize(
    "reply",
    [
        "Our office is open from 9 to 18 on weekdays.",  # a fact of the prompt, said briefly
        "Your order 4F7K2Q9 has shipped.",  # a code that is not in the instructions
        "Please tell me your dates and the number of guests.",
        "Здравствуйте! Тур длится 7 дней, питание включено.",
        "",
    ],
)
def test_normal_replies_pass(guard: LeakGuard, reply: str) -> None:
    assert guard.check(reply) is None
