"""The AI first line end to end: inbound message -> ai.reply job -> decision -> action."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from frontline import events
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.models import AiCall, Job
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.conftest import Factory, TenantFixture

# The tenant's own prompt states the price the scripted replies quote: a reply's figures
# must come from what the model was given (frontline.ai.grounding).
PRICE_PROMPT = "Вы — агент Демо Туров. Тур «Байкал» стоит 45 000 ₽ на человека."


def answer(decision: str, reply: str, language: str = "ru", **extra: Any) -> Reply:
    body = {
        "full_name": None,
        "issue_summary": "вопрос о цене",
        "decision": decision,
        "draft_reply": reply,
        "language": language,
        "citations": [],
        "handoff_reason": None,
        **extra,
    }
    return Reply(json=openai_completion(json.dumps(body, ensure_ascii=False), model="m-1"))


async def use_fake_llm(
    factory: Factory, t: TenantFixture, llm: FakeLLMServer, **settings: Any
) -> None:
    body = {
        "provider_chain": [
            {
                "kind": "openai_compatible",
                "model": "m-1",
                "config": {"base_url": f"{llm.base}/openai/v1"},
            }
        ],
        **settings,
    }
    r = await factory.client.put("/api/v1/ai/settings", headers=t.owner, json=body)
    assert r.status_code == 200, r.text


async def conversation(factory: Factory, t: TenantFixture, cid: int) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def ai_calls(services: Services, t: TenantFixture) -> list[AiCall]:
    async with services.db.transaction() as s:
        return list((await s.execute(select(AiCall).where(AiCall.tenant_id == t.id))).scalars())


async def test_model_answer_is_sent_as_the_ai(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    llm.script(OPENAI_PATH, answer("full_answer", "Тур на Байкал стоит 45 000 ₽."))
    sent = await factory.inbound(t, text="Сколько стоит тур на Байкал?")
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "bot"
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    ai = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert [m["text"] for m in ai] == ["Тур на Байкал стоит 45 000 ₽."]
    assert ai[0]["meta"]["decision"] == "full_answer"
    assert c["status"] == "bot"
    request = llm.requests_to(OPENAI_PATH)[0].json()
    assert request["messages"][0]["role"] == "system"
    assert "Сколько стоит тур на Байкал?" in request["messages"][-1]["content"]
    [call] = await ai_calls(services, t)
    assert (call.provider, call.model, call.decision, call.error) == (
        "openai_compatible",
        "m-1",
        "full_answer",
        None,
    )
    assert call.conversation_id == sent["conversation_id"] and call.tokens_in > 0


async def test_escalation_hands_the_conversation_to_operators(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    llm.script(
        OPENAI_PATH,
        answer("escalate_to_human", "", handoff_reason="refund dispute"),
    )
    received: list[dict[str, Any]] = []

    async def collect() -> None:
        async for event in services.broker.subscribe(events.inbox_topic(t.id)):
            received.append(event)

    import asyncio

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        sent = await factory.inbound(t, text="Верните деньги за отменённый тур")
        await worker.run_until_idle()
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
    c = await conversation(factory, t, sent["conversation_id"])
    assert (c["status"], c["handoff_reason"]) == ("pending", "refund dispute")
    ai = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert len(ai) == 1 and "сотрудник" in ai[0]["text"]  # the localized "a person will answer"
    assert events.CONVERSATION_HANDOFF_REQUESTED in [e["type"] for e in received]
    # a pending conversation is the operators': the next customer message gets no AI turn
    await factory.inbound(t, text="Жду ответа", contact="cust-1")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert len([m for m in c["messages"] if m["sender_type"] == "ai"]) == 1
    # the model was asked twice: the AI turn, then the copilot's summary of the handoff
    _turn, summary = llm.requests_to(OPENAI_PATH)
    assert "Summarize the conversation" in summary.json()["messages"][0]["content"]


async def test_failing_provider_falls_back_to_the_offline_engine(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    llm.script(OPENAI_PATH, Reply(status=500, json={"error": {"message": "down"}}))
    sent = await factory.inbound(t, text="Позовите оператора, пожалуйста")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "pending"
    assert "оператор" in (c["handoff_reason"] or "")
    calls = await ai_calls(services, t)
    assert {(call.provider, call.error is None) for call in calls} == {
        ("openai_compatible", False),
        ("offline", True),
    }


async def test_vague_message_gets_a_question_from_the_offline_engine(
    factory: Factory, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)  # no chain configured: the offline engine answers
    sent = await factory.inbound(t, text="Привет")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    ai = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert len(ai) == 1 and ai[0]["meta"]["decision"] == "need_more_info"
    assert "?" in ai[0]["text"] or "подробнее" in ai[0]["text"]
    assert c["status"] == "bot"


async def test_ai_is_silent_once_an_operator_took_the_conversation(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    sent = await factory.inbound(t, text="Сколько стоит тур?")
    r = await factory.client.post(
        f"/api/v1/conversations/{sent['conversation_id']}/assign",
        headers=t.operator,
        json={"assignee_id": str(t.operator_id)},
    )
    assert r.json()["status"] == "open"
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert [m for m in c["messages"] if m["sender_type"] == "ai"] == []
    assert llm.requests_to(OPENAI_PATH) == []
    async with services.db.transaction() as s:
        status = (await s.execute(select(Job.status).where(Job.kind == "ai.reply"))).scalar_one()
    assert status == "done"


async def test_auto_reply_off_keeps_the_draft_as_an_internal_suggestion(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, auto_reply=False)
    llm.script(OPENAI_PATH, answer("full_answer", "Черновик ответа"))
    sent = await factory.inbound(t, text="Есть ли скидки для детей?")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    [draft] = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert (draft["text"], draft["is_internal"], draft["delivery_status"]) == (
        "Черновик ответа",
        True,
        "not_sent",
    )
    assert draft["meta"]["suggestion"] is True


async def test_escalation_keyword_skips_the_model(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, escalation_keywords=["юрист"])
    sent = await factory.inbound(t, text="Мой юрист свяжется с вами")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "pending"
    assert c["handoff_reason"] == "escalation keyword: юрист"
    # no AI turn: the only request is the copilot's summary of the handoff
    [summary] = llm.requests_to(OPENAI_PATH)
    assert "Summarize the conversation" in summary.json()["messages"][0]["content"]


async def test_ai_off_for_the_tenant_or_contact_means_no_ai_turn(
    factory: Factory, services: Services, worker: Worker
) -> None:
    off = await factory.tenant()  # AI off for the tenant
    sent = await factory.inbound(off, text="Здравствуйте")
    assert (await conversation(factory, off, sent["conversation_id"]))["status"] == "pending"

    on = await factory.tenant(ai=True)
    first = await factory.inbound(on, text="Здравствуйте", contact="quiet")
    c = await conversation(factory, on, first["conversation_id"])
    r = await factory.client.patch(
        f"/api/v1/contacts/{c['contact_id']}", headers=on.operator, json={"ai_enabled": False}
    )
    assert r.status_code == 200
    await worker.run_until_idle()
    c = await conversation(factory, on, first["conversation_id"])
    assert [m for m in c["messages"] if m["sender_type"] == "ai"] == []
    async with services.db.transaction() as s:
        kinds = list((await s.execute(select(Job.kind).where(Job.tenant_id == off.id))).scalars())
    assert "ai.reply" not in kinds


async def test_status_shows_what_would_answer_and_provider_health(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    r = await factory.client.get("/api/v1/ai/status", headers=t.operator)
    assert r.status_code == 200, r.text
    status = r.json()
    assert [(c["kind"], c["state"]) for c in status["chain"]] == [
        ("openai_compatible", "closed"),
        ("offline", "closed"),
    ]
    assert status["answering"]["kind"] == "openai_compatible"
    # three failures open the provider's circuit: the offline engine would answer now
    for n in range(3):
        # the turn, and the handoff summary when the offline engine escalates
        busy = Reply(status=503, json={"error": {"message": "busy"}})
        llm.script(OPENAI_PATH, busy, busy)
        await factory.inbound(t, text=f"Вопрос {n}: сколько стоит тур?", contact=f"c{n}")
        await worker.run_until_idle()
    status = (await factory.client.get("/api/v1/ai/status", headers=t.operator)).json()
    assert status["chain"][0]["state"] == "open"
    assert status["answering"]["kind"] == "offline"
