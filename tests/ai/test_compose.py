"""Answers composed from knowledge sentences: the sentence that carries the answer (not the
whole passage), lists kept as lists, paraphrases, typos and transliteration, entities named
now or earlier, clarifying questions, and questions about what the business does not
offer declined."""

from __future__ import annotations

import pytest

from frontline.ai.base import ChatMessage
from frontline.ai.offline import DOCUMENT_THRESHOLDS, Decision, OfflineEngine, Passage
from frontline.ai.offline.compose import Composer
from frontline.ai.offline.lexicon import concepts, to_cyrillic
from frontline.ai.offline.retrieval import chunk_passage, search_query
from frontline.ai.offline.text import stem, words

KB = [
    chunk_passage(
        1,
        "Прокат",
        ("Байдарки",),
        "Байдарка «Таймень» сдаётся за 1 500 ₽ в сутки. Залог — 5 000 ₽, он возвращается "
        "при сдаче. Выдаём с 9:00 до 21:00 на причале у Онежского озера.",
    ),
    chunk_passage(
        2,
        "Прокат",
        ("Велосипеды",),
        "Горный велосипед Stels стоит 800 ₽ в сутки. Детские велосипеды — 400 ₽. "
        "Шлем выдаём бесплатно.",
    ),
    chunk_passage(
        3,
        "Прокат",
        ("Что взять",),
        "Что взять с собой:\n- документ, удостоверяющий личность;\n- воду;\n- солнцезащитный крем.",
    ),
    chunk_passage(
        4,
        "Rental",
        ("Kayaks",),
        "The Taimen kayak rents for 1,500 rubles a day. The deposit is 5,000 rubles, returned "
        "when you bring the kayak back.",
    ),
]


@pytest.fixture(scope="module")
def engine() -> OfflineEngine:
    return OfflineEngine(KB, thresholds=DOCUMENT_THRESHOLDS, default_language="ru")


def test_the_sentence_that_answers_not_the_whole_passage(engine: OfflineEngine) -> None:
    result = engine.triage("Сколько стоит прокат байдарки?")
    assert result.decision is Decision.FULL_ANSWER
    assert "1 500 ₽ в сутки" in result.draft_reply
    assert "9:00" not in result.draft_reply  # another sentence of the passage
    assert result.citations == ["1"]
    assert "Источник: «Прокат > Байдарки»" in result.draft_reply


def test_a_paraphrase_meets_the_sentence_on_its_concept(engine: OfflineEngine) -> None:
    result = engine.triage("Какой залог за байдарку?")
    assert result.decision is Decision.FULL_ANSWER
    assert "5 000 ₽" in result.draft_reply
    hours = engine.triage("Во сколько выдаёте байдарки?")
    assert "с 9:00 до 21:00" in hours.draft_reply


def test_english_question_gets_the_english_passage(engine: OfflineEngine) -> None:
    result = engine.triage("How much is the kayak deposit?")
    assert result.decision is Decision.FULL_ANSWER
    assert result.language == "en"
    assert "5,000 rubles" in result.draft_reply
    assert result.draft_reply.endswith("Source: Rental > Kayaks")


def test_a_list_is_kept_as_a_list(engine: OfflineEngine) -> None:
    result = engine.triage("Что нужно взять с собой?")
    assert result.decision is Decision.FULL_ANSWER
    assert "- воду;" in result.draft_reply.splitlines()
    assert "- солнцезащитный крем." in result.draft_reply.splitlines()


def test_the_entity_named_picks_the_passage(engine: OfflineEngine) -> None:
    result = engine.triage("Сколько стоит велосипед Stels?")
    assert "800 ₽" in result.draft_reply and "1 500" not in result.draft_reply


def test_without_an_entity_the_engine_asks_which_one(engine: OfflineEngine) -> None:
    result = engine.triage("Сколько стоит прокат в сутки?")
    assert result.decision is Decision.NEED_MORE_INFO
    assert "Байдарки" in result.draft_reply and "Велосипеды" in result.draft_reply
    assert result.draft_reply.endswith("?")


def test_an_entity_named_earlier_carries_over(engine: OfflineEngine) -> None:
    history = (ChatMessage("user", "Расскажите про велосипед Stels"),)
    result = engine.triage("а сколько он стоит?", history)
    assert result.decision is Decision.FULL_ANSWER
    assert "800 ₽" in result.draft_reply


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("Сколко стоит байдарка?", "1 500 ₽"),  # typo
        ("baidarka tsena", "1 500 ₽"),  # Russian in Latin letters
        ("байдарка цена", "1 500 ₽"),  # terse
    ],
)
def test_typos_transliteration_and_terse_forms(engine: OfflineEngine, text: str, fact: str) -> None:
    result = engine.triage(text)
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert fact in result.draft_reply


@pytest.mark.parametrize(
    "text",
    [
        "Сколько стоит прокат сапборда?",  # a thing the business does not rent out
        "Можно оплатить биткоином?",  # a payment method it does not list
        "Do you rent tents?",
    ],
)
def test_what_the_business_does_not_offer_is_not_answered(engine: OfflineEngine, text: str) -> None:
    analysis = engine.analyze(text)
    assert analysis.result.decision is Decision.ESCALATE_TO_HUMAN
    assert analysis.result.handoff_reason and "unknown words" in analysis.result.handoff_reason


@pytest.mark.parametrize(
    "text", ["Мне дважды списали залог за байдарку", "I was charged twice for the kayak"]
)
def test_billing_disputes_go_to_a_person_at_once(engine: OfflineEngine, text: str) -> None:
    result = engine.triage(text)
    assert result.decision is Decision.ESCALATE_TO_HUMAN
    assert result.handoff_reason and result.handoff_reason.startswith("Billing dispute")


def test_lexicon_concepts_and_transliteration() -> None:
    def named(text: str) -> frozenset[str]:
        return concepts([stem(w) for w in words(text)])

    assert named("почём байдарка?") == {"price"}
    assert named("how much is it") == {"price"}
    assert "included" in named("что входит в стоимость") and "price" not in named(
        "что входит в стоимость"
    )
    assert named("можно вернуть деньги") == {"refund"}
    assert to_cyrillic("tsena") == "цена" and to_cyrillic("altai") == "алтай"


def test_search_query_adds_context_synonyms_and_cyrillic() -> None:
    query = search_query("а сколько он стоит?", ["Расскажите про велосипед Stels"])
    assert "велосипед" in query and "цена" in query
    assert "алтай" in search_query("altai tsena")


def test_composer_reads_the_question() -> None:
    composer = Composer([Passage(id="p", title="Kayaks", text="The Taimen kayak is rented out.")])
    query = composer.read("taimen prise?")
    assert query.concepts == {"price"}  # "prise" is one letter from "price"
    assert "taimen" in query.entities


TREKS = [
    chunk_passage(
        11,
        "Treks",
        ("Sayan glacier trek",),
        "The Sayan glacier trek costs 52,000 rubles per person. The trek takes 6 days, two "
        "of them on the glacier. Groups leave from Arshan every Saturday in July.",
    ),
    chunk_passage(
        12,
        "Походы",
        ("Поход к Саянскому леднику",),
        "Поход к Саянскому леднику стоит 52 000 ₽ на человека. Поход длится 6 дней, из них "
        "два — на леднике. Группы выходят из Аршана по субботам в июле.",
    ),
    chunk_passage(
        13,
        "Оплата",
        ("Предоплата",),
        "Для брони нужна предоплата 20% стоимости. Отмена бесплатна за 30 дней до начала: "
        "предоплата возвращается полностью.",
    ),
]


@pytest.mark.parametrize(
    ("question", "expected", "not_expected"),
    [
        ("How long is the Sayan glacier trek?", "6 days", "52,000"),
        ("How many days is the glacier trek?", "6 days", "52,000"),
        ("Сколько длится поход к леднику?", "6 дней", "52 000"),
        ("How much is the Sayan glacier trek?", "52,000", "6 days"),
        ("Какая нужна предоплата?", "20%", "возвращается"),
        ("Вернут ли предоплату при отмене?", "возвращается", "20%"),
    ],
)
def test_the_sentence_shows_the_slot_asked_for(
    question: str, expected: str, not_expected: str
) -> None:
    """A duration question gets the duration sentence, a price question the price one; an
    amount asked about a deposit is the deposit's, its refund is another question."""
    engine = OfflineEngine(TREKS, thresholds=DOCUMENT_THRESHOLDS, default_language="ru")
    result = engine.triage(question)
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert expected in result.draft_reply
    assert not_expected not in result.draft_reply


PROSE = [
    chunk_passage(
        21,
        "Company history",
        (),
        "The workshop was founded in 1994 by two carpenters from Vologda. It moved to its "
        "current building on the river bank in 2003, when the old barn became too small.",
    ),
    chunk_passage(
        22,
        "Materials",
        (),
        "Our furniture is made of Karelian birch and pine dried for at least two years.",
    ),
]


def test_prose_answers_a_question_in_its_own_words() -> None:
    """A year is the date a "when" question asks for; a question in other words than the
    passage's is answered by the most similar passage's sentence."""
    engine = OfflineEngine(PROSE, thresholds=DOCUMENT_THRESHOLDS, default_language="en")
    result = engine.triage("When did the workshop move to the current building?")
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert "2003" in result.draft_reply
    assert "Karelian" not in result.draft_reply
    assert result.citations == ["21"]
    # no sentence shows the words "wood" or "made of": the similar passage answers
    result = engine.triage("What wood is the furniture made of?")
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert "Karelian birch" in result.draft_reply
    assert result.citations == ["22"]
    assert engine.triage("How long is the pine dried?").draft_reply.startswith("Our furniture")


def test_prose_without_the_value_asked_is_not_an_answer() -> None:
    engine = OfflineEngine(PROSE, thresholds=DOCUMENT_THRESHOLDS, default_language="en")
    result = engine.triage("How much does the workshop building cost?")
    assert result.decision is not Decision.FULL_ANSWER, result.draft_reply


def test_a_heading_glued_to_the_first_sentence_is_not_part_of_the_answer() -> None:
    """A parser may join a heading line to the paragraph under it; the answer starts with
    the sentence itself."""
    glued = chunk_passage(
        31,
        "Treks",
        ("Sayan glacier trek",),
        "Sayan glacier trek The trek takes 6 days. It costs 52,000 rubles per person.",
    )
    engine = OfflineEngine([glued], thresholds=DOCUMENT_THRESHOLDS, default_language="en")
    result = engine.triage("How long is the Sayan glacier trek?")
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert result.draft_reply.startswith("The trek takes 6 days.")


def test_a_name_stemmed_differently_in_two_passages_is_one_name() -> None:
    """The stemmer cuts "Байкал" to "байка" but "Байкале" to "байкал": a question whose
    adjective ("байкальского") is read as the longer stem still fits the passage that only
    has the shorter one (the demo's "Какая стоимость байкальского тура?" was handed off
    whenever another retrieved passage said "на Байкале")."""
    assert stem("байкал") != stem("байкале")
    passages = [
        chunk_passage(1, "Туры", ("Байкал",), "Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека."),
        chunk_passage(2, "Туры", ("Снаряжение",), "Что взять с собой в тур на Байкале: дождевик."),
    ]
    engine = OfflineEngine(passages, thresholds=DOCUMENT_THRESHOLDS, default_language="ru")
    result = engine.triage("Какая стоимость байкальского тура?")
    assert result.decision is Decision.FULL_ANSWER, result.draft_reply
    assert "45 000 ₽" in result.draft_reply
