"""A model's answer is checked against what it was given: numbers and dates in a reply must
appear in the knowledge passages (or the business data, the tenant's prompt, the customer's
words); otherwise the model is asked once more, and a second invented figure hands the
conversation to a person. Recorded OpenAI-compatible answers from the fake server."""

from __future__ import annotations

import pytest

from frontline.ai.grounding import facts, ungrounded
from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_knowledge import knowledge
from tests.ai.test_ai_reply import answer, conversation, use_fake_llm
from tests.conftest import Factory


@pytest.mark.parametrize(
    ("reply", "source", "missing"),
    [
        ("Тур стоит 45 000 ₽.", "стоит 45 000 ₽ на человека", []),
        ("The tour costs 45,000 rubles.", "Тур стоит 45 000 ₽", []),
        ("Тур стоит 50 000 ₽.", "стоит 45 000 ₽", ["50000"]),
        ("Выезд в 07:00, 2 июня.", "Выезд в 7:00. Заезды с 2 июня.", []),
        ("Departures from June 3.", "Заезды с 2 июня", ["date:03.06"]),
        ("Скидка 15%.", "Скидка 20%.", ["15"]),
        ("Бронь подтверждаем за 1 день.", "в течение одного рабочего дня", []),  # < 10
    ],
)
def test_figures_must_be_in_the_sources(reply: str, source: str, missing: list[str]) -> None:
    assert ungrounded(reply, [source]) == missing


def test_facts_normalise_numbers_times_and_dates() -> None:
    assert facts("45 000 ₽, 45,000 and 45000") == {"45000"}
    assert facts("с 9:00 до 19:00") == {"time:09:00", "time:19:00"}
    assert facts("June 2 and 25 августа") == {"date:02.06", "date:25.08"}


async def test_an_invented_price_is_asked_again_and_the_grounded_answer_sent(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await knowledge(factory, worker, t)
    llm.script(
        OPENAI_PATH,
        answer("full_answer", "Тур на Байкал стоит 50 000 ₽."),
        answer("full_answer", "Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека."),
    )
    sent = await factory.inbound(t, text="Сколько стоит тур на Байкал?")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    [ai] = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert ai["text"] == "Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека."
    assert c["status"] == "bot"
    first, second = llm.requests_to(OPENAI_PATH)
    note = second.json()["messages"][-1]["content"]
    assert "50000" in note and "справочных данных" in note
    assert len(second.json()["messages"]) == len(first.json()["messages"]) + 1


async def test_a_second_invented_figure_hands_off(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await knowledge(factory, worker, t)
    llm.script(
        OPENAI_PATH,
        answer("full_answer", "Отмена бесплатна за 60 дней."),
        answer("full_answer", "Отмена бесплатна за 45 дней до начала."),
    )
    sent = await factory.inbound(t, text="Когда можно бесплатно отменить тур?")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "pending"
    assert "not in the knowledge base" in (c["handoff_reason"] or "")
    [ai] = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert "45" not in ai["text"] and "60" not in ai["text"]
    # the turn asked twice; then the handoff was summarized for the operator
    asked = [r.json()["messages"][0]["content"] for r in llm.requests_to(OPENAI_PATH)]
    assert len(asked) == 3 and "Summarize the conversation" in asked[2]
