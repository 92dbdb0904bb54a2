"""The business's own out-of-scope examples: questions it does not answer, set in the AI
settings (API and owner console), make the offline engine hand such a question to a
person instead of answering it with a neighbouring passage."""

from __future__ import annotations

import httpx

from frontline.ai.offline import DOCUMENT_THRESHOLDS, Decision, OfflineEngine, Passage
from frontline.aisettings.service import load_runtime_settings
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from tests.conftest import Factory, TenantFixture

URL = "/api/v1/ai/settings"

PASSAGES = [
    Passage(
        id="1",
        title="Туры > Байкал",
        text="Тур на Байкал длится 7 дней и стоит 45 000 рублей с человека. "
        "Заезды каждую субботу с июня по сентябрь.",
    ),
    Passage(
        id="2",
        title="Оплата",
        text="Оплатить можно банковской картой или переводом. Предоплата 30% подтверждает бронь.",
    ),
    Passage(
        id="3",
        title="Payment",
        text="We accept payment by bank card or by bank transfer. "
        "A deposit of 30% confirms the booking.",
    ),
]
EXAMPLES = ["Есть ли корпоративные туры?", "Можно ли оплатить наличными?", "Can I pay in cash?"]
CORPORATE = "Сколько стоит корпоративный тур на Байкал для группы 40 человек?"


def engine(examples: list[str]) -> OfflineEngine:
    return OfflineEngine(
        PASSAGES, thresholds=DOCUMENT_THRESHOLDS, default_language="ru", out_of_scope=examples
    )


def test_without_examples_a_neighbouring_passage_answers() -> None:
    """The case the examples are for: the price of the regular tour answers a question
    about a corporate one."""
    result = engine([]).triage(CORPORATE)
    assert result.decision is Decision.FULL_ANSWER
    assert "45 000" in result.draft_reply


def test_a_question_like_an_example_is_handed_off() -> None:
    for question, example in (
        (CORPORATE, EXAMPLES[0]),
        ("Можно заплатить наличными при встрече?", EXAMPLES[1]),
        ("Is it possible to pay with cash?", EXAMPLES[2]),
    ):
        result = engine(EXAMPLES).triage(question)
        assert result.decision is Decision.ESCALATE_TO_HUMAN, question
        assert result.handoff_reason is not None and example in result.handoff_reason


def test_questions_the_knowledge_answers_still_get_answers() -> None:
    """Sharing words with an example ("pay", "тур") is not enough: an example's own words
    are the ones the passages lack ("cash", "корпоративные")."""
    for question, fact in (
        ("Сколько стоит тур на Байкал?", "45 000"),
        ("Можно оплатить картой?", "картой"),
        ("Can I pay by card?", "bank card"),
        ("Когда начинается тур на Байкал?", "субботу"),
    ):
        result = engine(EXAMPLES).triage(question)
        assert result.decision is Decision.FULL_ANSWER, question
        assert fact in result.draft_reply, question


def test_an_example_the_knowledge_covers_entirely_matches_nothing() -> None:
    """An example made only of words the passages contain names nothing they lack."""
    result = engine(["Сколько стоит тур на Байкал?"]).triage("Сколько стоит тур на Байкал?")
    assert result.decision is Decision.FULL_ANSWER


async def put(client: httpx.AsyncClient, t: TenantFixture, body: object) -> httpx.Response:
    return await client.put(URL, json=body, headers=t.owner)


async def test_the_api_stores_them_cleaned(factory: Factory, services: Services) -> None:
    t = await factory.tenant(ai=True)
    r = await factory.client.get(URL, headers=t.owner)
    assert r.status_code == 200 and r.json()["out_of_scope_examples"] == []
    r = await put(
        factory.client,
        t,
        {
            "out_of_scope_examples": [
                "  Есть ли   корпоративные туры? ",
                "",
                "Есть ли корпоративные туры?",
                "Can I pay in cash?",
            ]
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["out_of_scope_examples"] == [
        "Есть ли корпоративные туры?",
        "Can I pay in cash?",
    ]
    # other settings left out keep their values, and the examples survive a later change
    r = await put(factory.client, t, {"temperature": 0.3})
    assert r.json()["out_of_scope_examples"] == [
        "Есть ли корпоративные туры?",
        "Can I pay in cash?",
    ]
    async with services.db.transaction() as session:
        runtime = await load_runtime_settings(session, TenantScope(t.id), services.secret_box)
    assert runtime.out_of_scope_examples == ("Есть ли корпоративные туры?", "Can I pay in cash?")
    r = await put(factory.client, t, {"out_of_scope_examples": []})
    assert r.json()["out_of_scope_examples"] == []
    # an operator may not change them
    r = await factory.client.put(URL, json={"out_of_scope_examples": ["x"]}, headers=t.operator)
    assert r.status_code == 403


async def test_bad_examples_are_refused_with_a_clear_message(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    for body, where in (
        ({"out_of_scope_examples": ["x" * 501]}, "out_of_scope_examples"),
        ({"out_of_scope_examples": ["a question"] * 201}, "out_of_scope_examples"),
        ({"out_of_scope_examples": "Can I pay in cash?"}, "out_of_scope_examples"),
        ({"out_of_scope_examples": [42]}, "out_of_scope_examples"),
    ):
        r = await put(factory.client, t, body)
        assert r.status_code == 422, r.text
        assert where in r.text
    r = await factory.client.get(URL, headers=t.owner)
    assert r.json()["out_of_scope_examples"] == []


PRICES = """# Цены

## Байкал
Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека. Заезды каждую субботу.
"""


async def test_the_test_box_and_a_real_turn_hand_such_a_question_off(
    factory: Factory, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)  # no provider chain: the offline engine answers
    r = await factory.client.post(
        "/api/v1/knowledge/documents",
        headers=t.owner,
        files={"file": ("prices.md", PRICES.encode())},
    )
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    ask = {"question": CORPORATE}
    r = await factory.client.post("/api/v1/ai/test", json=ask, headers=t.owner)
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "full_answer"  # the regular price, for a corporate group

    r = await put(factory.client, t, {"out_of_scope_examples": ["Есть ли корпоративные туры?"]})
    assert r.status_code == 200, r.text
    r = await factory.client.post("/api/v1/ai/test", json=ask, headers=t.owner)
    assert r.json()["decision"] == "escalate_to_human"
    assert "Есть ли корпоративные туры?" in r.json()["handoff_reason"]
    r = await factory.client.post(
        "/api/v1/ai/test", json={"question": "Сколько стоит тур на Байкал?"}, headers=t.owner
    )
    assert r.json()["decision"] == "full_answer"

    sent = await factory.inbound(t, text=CORPORATE)
    await worker.run_until_idle()
    r = await factory.client.get(
        f"/api/v1/conversations/{sent['conversation_id']}", headers=t.operator
    )
    assert r.json()["status"] == "pending"  # handed to a person, no AI answer
