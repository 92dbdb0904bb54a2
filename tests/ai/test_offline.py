"""The offline engine: language, requests for a person, upset customers, answers with
citations, clarifying questions, escalation, determinism, and the triage eval on real data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontline.ai.base import ChatMessage
from frontline.ai.offline import (
    Decision,
    HandoffReason,
    OfflineEngine,
    Passage,
    TriageResult,
    detect_language,
)
from frontline.ai.offline.evaluate import METRIC_NAMES, main, run_triage_eval
from tests.conftest import EVAL_DATA, EVAL_DATA_MISSING

KNOWLEDGE = [
    Passage(
        id="kb-checkin",
        title="Заезд и выезд",
        text="Заезд в гостевой дом с 14:00, выезд до 12:00. Ранний заезд возможен по "
        "договорённости за доплату 500 рублей.",
    ),
    Passage(
        id="kb-deposit",
        title="Предоплата и отмена бронирования",
        text="Для бронирования нужна предоплата 30%. При отмене бронирования за 7 дней "
        "предоплата возвращается полностью.",
    ),
    Passage(
        id="kb-pets",
        title="Pets policy",
        text="Pets are welcome in the garden cottages. Dogs stay free of charge; please "
        "tell us about your pet when you book.",
    ),
    Passage(
        id="kb-parking",
        title="Parking",
        text="Free parking is available next to the main building. Electric car charging "
        "costs 10 euros per night.",
        answer="Parking is free next to the main building; EV charging is 10 euros a night.",
    ),
]


@pytest.fixture(scope="module")
def engine() -> OfflineEngine:
    return OfflineEngine(KNOWLEDGE)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Здравствуйте, во сколько заезд?", "ru"),
        ("Hello, what time is check-in?", "en"),
        ("Можно ли приехать с собакой? У нас corgi", "ru"),
        ("Do you have parking near the дом?", "en"),
        ("ok", "en"),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_language_without_letters_follows_history(engine: OfflineEngine) -> None:
    history = (ChatMessage("user", "Здравствуйте, у вас есть парковка?"),)
    assert engine.triage("???", history).language == "ru"
    assert engine.triage("???").language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can I talk to a real person please?", "en"),
        ("operator", "en"),
        ("Just let me speak with a human already", "en"),
        ("get me your manager on the line", "en"),
        ("Позовите, пожалуйста, живого человека", "ru"),
        ("Соедините с оператором", "ru"),
        ("позовите менеджера", "ru"),
        ("Хочу поговорить с человеком, а не с ботом", "ru"),
    ],
)
def test_request_for_a_person_escalates(engine: OfflineEngine, text: str, language: str) -> None:
    analysis = engine.analyze(text)
    assert analysis.reason is HandoffReason.HUMAN_REQUESTED
    result = analysis.result
    assert result.decision is Decision.ESCALATE_TO_HUMAN
    assert result.language == language
    assert result.handoff_reason and "asked for a person" in result.handoff_reason
    assert result.citations == []


def test_declining_a_person_is_not_a_request(engine: OfflineEngine) -> None:
    analysis = engine.analyze("No, you don't need to transfer me to a person")
    assert analysis.reason is not HandoffReason.HUMAN_REQUESTED


@pytest.mark.parametrize(
    "text",
    [
        "This is unacceptable, I want a refund now",
        "Terrible service, the room was dirty",
        "WHERE IS MY BOOKING CONFIRMATION",
        "I paid twice!!!",
        "Это ужасно, номер грязный",
        "Безобразие, буду писать жалобу",
    ],
)
def test_upset_customer_escalates(engine: OfflineEngine, text: str) -> None:
    analysis = engine.analyze(text)
    assert analysis.reason is HandoffReason.CUSTOMER_UPSET
    assert analysis.result.decision is Decision.ESCALATE_TO_HUMAN
    assert analysis.result.handoff_reason


def test_confident_answer_quotes_and_cites_russian(engine: OfflineEngine) -> None:
    result = engine.triage("Во сколько заезд в гостевой дом и когда нужно выехать?")
    assert result.decision is Decision.FULL_ANSWER
    assert result.language == "ru"
    assert result.citations == ["kb-checkin"]
    assert "Заезд и выезд" in result.draft_reply
    assert "с 14:00, выезд до 12:00" in result.draft_reply
    assert result.handoff_reason is None


def test_confident_answer_quotes_and_cites_english(engine: OfflineEngine) -> None:
    result = engine.triage("Are pets welcome? Can my dog stay in the cottage?")
    assert result.decision is Decision.FULL_ANSWER
    assert result.language == "en"
    assert result.citations == ["kb-pets"]
    assert "Pets policy" in result.draft_reply
    assert "Dogs stay free of charge" in result.draft_reply


def test_answer_field_is_preferred_to_the_text(engine: OfflineEngine) -> None:
    result = engine.triage("Is there free parking near the main building?")
    assert result.citations == ["kb-parking"]
    assert "EV charging is 10 euros a night" in result.draft_reply


def test_inflected_russian_and_a_typo_still_match(engine: OfflineEngine) -> None:
    result = engine.triage("Возвращается ли предоплата при отмене брониравания?")
    assert result.decision is Decision.FULL_ANSWER
    assert result.citations == ["kb-deposit"]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [("help", "en", "more detail"), ("Вопрос", "ru", "подробнее"), ("Здравствуйте!", "ru", "")],
)
def test_vague_message_gets_a_question_in_its_language(
    engine: OfflineEngine, text: str, language: str, expected: str
) -> None:
    result = engine.triage(text)
    assert result.decision is Decision.NEED_MORE_INFO
    assert result.language == language
    assert result.draft_reply.rstrip().endswith("?")
    assert expected in result.draft_reply


def test_vague_follow_up_uses_the_previous_message(engine: OfflineEngine) -> None:
    history = (ChatMessage("user", "Do you allow pets in the garden cottages?"),)
    result = engine.triage("and dogs?", history)
    assert result.decision is Decision.FULL_ANSWER
    assert result.citations == ["kb-pets"]


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset the firmware of my washing machine model X200?",
        "Какая погода будет в Сочи на следующей неделе?",
    ],
)
def test_nothing_matches_escalates(engine: OfflineEngine, text: str) -> None:
    analysis = engine.analyze(text)
    assert analysis.reason is HandoffReason.NO_CONFIDENT_ANSWER
    assert analysis.result.decision is Decision.ESCALATE_TO_HUMAN
    assert analysis.result.language == detect_language(text)


def test_empty_knowledge_escalates() -> None:
    result = OfflineEngine(()).triage("What time is check-in?")
    assert result.decision is Decision.ESCALATE_TO_HUMAN


def test_full_name_and_summary() -> None:
    result = OfflineEngine(KNOWLEDGE).triage("Hi, my name is Anna Petrova. Do you take dogs?")
    assert result.full_name == "Anna Petrova"
    assert result.issue_summary.startswith("Hi, my name is Anna Petrova.")
    ru = OfflineEngine(KNOWLEDGE).triage(
        "Меня зовут Иван Смирнов, во сколько заезд в гостевой дом?"
    )
    assert ru.full_name == "Иван Смирнов"


def test_deterministic() -> None:
    texts = [
        "Во сколько заезд и выезд?",
        "Can I bring my dog?",
        "help",
        "operator",
        "refund now!!!",
    ]
    first = [OfflineEngine(KNOWLEDGE).triage(t).model_dump() for t in texts]
    second = [OfflineEngine(list(KNOWLEDGE)).triage(t).model_dump() for t in texts]
    assert first == second
    assert TriageResult.model_validate(first[0]).citations == ["kb-checkin"]


def _slice(source: Path, target: Path, step: int) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines[::step]), encoding="utf-8")


@EVAL_DATA_MISSING
@pytest.mark.slow
def test_triage_eval_on_the_held_out_half(tmp_path: Path) -> None:
    """``frontline eval triage``'s figures on the half of CLINC150's development lines the
    thresholds were not chosen on (the odd lines; about half a minute): in-scope accuracy
    0.750 and OOS recall 0.860 there when this was written (0.753 / 0.780 on all lines;
    before the out-of-scope class: 0.748 / 0.700 there, 0.743 / 0.700 on all lines)."""
    (tmp_path / "clinc150_oos").mkdir()
    (tmp_path / "nlupp").mkdir()
    clinc = EVAL_DATA / "clinc150_oos"
    (tmp_path / "clinc150_oos" / "train_fewshot10.jsonl").write_bytes(
        (clinc / "train_fewshot10.jsonl").read_bytes()
    )
    lines = (clinc / "val.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "clinc150_oos" / "val.jsonl").write_text("".join(lines[1::2]), encoding="utf-8")
    (tmp_path / "nlupp" / "nlupp_all.jsonl").write_bytes(
        (EVAL_DATA / "nlupp" / "nlupp_all.jsonl").read_bytes()
    )
    metrics = run_triage_eval(tmp_path)

    # baselines (BM25 nearest neighbour): 0.63 accuracy with no escalation; 0.42 accuracy
    # at 0.87 out-of-scope recall; the engine before the learned classifier: 0.672 at 0.87
    # and 0.726 at 0.65. The engine must beat them at once.
    assert metrics["clinc_in_scope_accuracy"] >= 0.745
    assert metrics["clinc_oos_recall"] >= 0.76
    assert metrics["clinc_oos_precision"] > 0.15
    assert metrics["handoff_recall"] >= 0.9
    assert metrics["handoff_precision"] >= 0.8


@EVAL_DATA_MISSING
def test_eval_command_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clinc150_oos").mkdir()
    (tmp_path / "nlupp").mkdir()
    clinc = EVAL_DATA / "clinc150_oos"
    # a knowledge base of a few intents keeps this quick
    _slice(clinc / "train_fewshot10.jsonl", tmp_path / "clinc150_oos" / "train_fewshot10.jsonl", 7)
    _slice(clinc / "val.jsonl", tmp_path / "clinc150_oos" / "val.jsonl", 50)
    _slice(EVAL_DATA / "nlupp" / "nlupp_all.jsonl", tmp_path / "nlupp" / "nlupp_all.jsonl", 20)
    assert main(["--data", str(tmp_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == set(METRIC_NAMES)


def test_out_of_scope_examples_are_learned_as_a_class_of_their_own() -> None:
    """Questions like the business's out-of-scope examples lose confidence in every
    passage (``Thresholds.reject_weight``), so they are handed off, while questions about
    the passages are still answered."""
    faq = [
        Passage(
            id="hours",
            title="Opening hours",
            text="When are you open?\nWhat are your opening hours?",
            answer="We are open 9:00-19:00 every day.",
        ),
        Passage(
            id="rent",
            title="Bike rental price",
            text="How much is a bike?\nBike rental cost per day",
            answer="A bike costs 800 rubles a day.",
        ),
        Passage(
            id="helmet",
            title="Helmets",
            text="Do you give helmets?\nIs a helmet included?",
            answer="Helmets are free with every bike.",
        ),
    ]
    rejects = [
        "how much does a car rental cost",
        "do you rent cars per day",
        "can i rent a car for a week",
        "what is the price of renting a scooter",
        "do you sell bikes",
        "how much to buy a bike",
    ]
    plain = OfflineEngine(faq)
    scoped = OfflineEngine(faq, out_of_scope=rejects)
    question = "how much is a car per day"
    assert scoped.classifier is not None and scoped.classifier.reject(question) > 0.2
    assert scoped.analyze(question).confidence < plain.analyze(question).confidence
    assert scoped.triage(question).decision is Decision.ESCALATE_TO_HUMAN
    answered = scoped.triage("how much is a bike per day")
    assert answered.decision is Decision.FULL_ANSWER and answered.citations == ["rent"]
