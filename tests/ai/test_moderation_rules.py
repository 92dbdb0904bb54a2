"""The moderation detectors: profanity (RU/EN, inflections, disguises), flood, repeated
spam and link-only messages, and the verdict's mode and reason codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from frontline.ai.moderation import (
    Mode,
    ModerationIn,
    ModerationSettings,
    Recent,
    Rule,
    find_profanity,
    is_link_only,
    load_settings,
    moderate,
)
from frontline.ai.moderation.profanity import lexicon, parse_list

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

PROFANE = [
    # Russian, inflected and derived
    "ну ты и сука",
    "Хуй вам, а не возврат",
    "пошел нахуй",
    "заебали уже со своей бронью",
    "пиздец какой-то сервис",
    "я охуел от цен",
    "отъебись",
    "ебаный сервис",
    "мудаки",
    "долбоёб",
    "бляяя",
    # English
    "Fucking booking again",
    "you are an asshole!",
    "motherfucker",
    "this is bullshit",
    # disguises: masks, separators, look-alikes, digits, repeats, spacing
    "х*й",
    "п**да",
    "бл*ть",
    "е*ать",
    "f**k",
    "f.u.c.k you",
    "х-у-й",
    "fuсk",  # Cyrillic "с"
    "xуй",  # Latin "x"
    "cyka blyat",
    "6ля",
    "п1здец",
    "sh1t",
    "$hit",
    "fuuuuck",
    "сууука",
    "f u c k",
    "х у й",
]

CLEAN = [
    "Как отменить бронь?",
    "Please send the link to pay",
    "Скидка для детей?",
    "Здравствуйте! Хочу забронировать тур на 3 дня, 2 взрослых и 1 ребенок",
    "Когда будет возврат? Стоимость 500 рублей, сдача два рубля",
    # stems inside ordinary words
    "застрахуйте меня, пожалуйста",
    "требую вернуть деньги",
    "для себя и себе",
    "веб-сайт не работает, вебинар отменили",
    "Тур в Херсон",
    "педикюр и маникюр",
    "употребляю, корабля, гребля, колебания, небольшой, учеба",
    "хлеб, небо, победа, лебедь, сукно, скидки",
    "shiitake sushi in Scunthorpe",
    "classic class assessment, Dickens, cocktail",
    "ebay ebb e-mail",
    "оценка 5* — **важно**, т.е. и т.д.",
]


@pytest.mark.parametrize("text", PROFANE)
def test_profanity_is_found(text: str) -> None:
    assert find_profanity(text) is not None


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_support_messages_are_clean(text: str) -> None:
    assert find_profanity(text) is None


def test_the_word_lists_are_packaged_data() -> None:
    lex = lexicon()
    assert "сука" in lex.exact
    assert "fuck" in lex.infixes
    assert any(p.startswith("пизд") for p in lex.prefixes)
    # a prefix-marked stem also matches after a Russian verbal prefix, others do not
    parsed = parse_list("+еб*\nмудак*\nсука\n~fuck\n# comment\n")
    assert parsed.matches("заебал") and parsed.matches("еблан")
    assert parsed.matches("мудаки") and not parsed.matches("намудаки")
    assert parsed.matches("сука") and not parsed.matches("суками")
    assert parsed.matches("motherfucker")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com", True),
        ("www.site.ru/tours  http://a.b/c", True),
        ("https://t.me/somechannel !!!", True),
        ("сайт.рф", True),
        ("see https://example.com", False),
        ("Please send the link to pay", False),
        ("ivan@mail.ru", False),
        ("т.е. 1.5", False),
        ("", False),
    ],
)
def test_link_only(text: str, expected: bool) -> None:
    assert is_link_only(text) is expected


def _recent(*ages_and_texts: tuple[int, str]) -> list[Recent]:
    return [Recent(NOW - timedelta(seconds=age), text) for age, text in ages_and_texts]


def test_flood_counts_the_contacts_messages_in_the_window() -> None:
    s = ModerationSettings(flood_messages=4, flood_seconds=30)
    three = _recent((1, "a1"), (5, "b2"), (10, "c3"))
    verdict = moderate("ещё вопрос", three, NOW, s)
    assert verdict is not None
    assert verdict.reasons == (Rule.FLOOD,) and verdict.mode is Mode.HOLD
    # the same number spread over more than the window is no flood
    assert moderate("ещё вопрос", _recent((1, "a1"), (5, "b2"), (31, "c3")), NOW, s) is None


def test_spam_is_the_same_or_nearly_the_same_text_repeated() -> None:
    s = ModerationSettings(spam_repeats=3)
    ad = "Купите наши окна по лучшей цене! Звоните 8-800"
    near = "купите наши окна по лучшей цене!! звоните 8-801"
    verdict = moderate(ad, _recent((60, near), (120, ad)), NOW, s)
    assert verdict is not None and verdict.reasons == (Rule.SPAM,)
    # twice is not yet spam, nor are different messages, nor repeats outside the window
    assert moderate(ad, _recent((60, ad)), NOW, s) is None
    assert moderate(ad, _recent((60, "Когда тур?"), (90, "Сколько стоит?")), NOW, s) is None
    assert moderate(ad, _recent((700, ad), (800, ad)), NOW, s) is None
    # short replies repeated ("да", "ok") are not spam
    assert moderate("да", _recent((10, "да"), (20, "да")), NOW, s) is None


def test_the_strongest_mode_wins_and_every_reason_is_kept() -> None:
    s = ModerationSettings(flood_messages=2, flood_seconds=30)
    verdict = moderate("https://spam.example/x", _recent((1, "hi")), NOW, s)
    assert verdict is not None
    assert verdict.reasons == (Rule.FLOOD, Rule.LINK_ONLY)
    assert verdict.mode is Mode.HOLD  # flood holds, link-only only flags
    assert verdict.as_meta() == {"mode": "hold", "reasons": ["flood", "link_only"]}


def test_defaults_and_rules_turned_off() -> None:
    s = ModerationSettings()
    assert (s.profanity, s.flood, s.spam, s.link_only) == (
        Mode.FLAG,
        Mode.HOLD,
        Mode.HOLD,
        Mode.FLAG,
    )
    flagged = moderate("ну ты сука", [], NOW, s)
    assert flagged is not None and flagged.mode is Mode.FLAG
    assert flagged.reasons == (Rule.PROFANITY,)
    off = s.model_copy(update={"profanity": Mode.OFF})
    assert moderate("ну ты сука", [], NOW, off) is None
    assert off.history_seconds == 600
    quiet = ModerationSettings(flood=Mode.OFF, spam=Mode.OFF)
    assert quiet.history_seconds == 0


def test_settings_changes_and_validation() -> None:
    current = ModerationSettings()
    changed = ModerationIn(profanity=Mode.HOLD, flood_messages=5).apply(current)
    assert changed.profanity is Mode.HOLD and changed.flood_messages == 5
    assert changed.spam is Mode.HOLD  # left out: kept
    with pytest.raises(ValidationError):
        ModerationIn.model_validate({"profanity": "block"})
    with pytest.raises(ValidationError):
        ModerationIn.model_validate({"unknown_rule": "flag"})
    # stored values a release no longer knows fall back to the defaults
    assert load_settings({"profanity": "weird"}) == ModerationSettings()
    assert load_settings(None) == ModerationSettings()
    assert load_settings({"spam": "off"}).spam is Mode.OFF
