"""The AI answers from the tenant's knowledge base: the passages found for the customer's
message go into the prompt (and to the offline engine), and the result cites their ids."""

from __future__ import annotations

import json
from typing import Any

from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.ai.test_ai_reply import conversation, use_fake_llm
from tests.conftest import Factory, TenantFixture

PRICES = """# Цены

## Байкал
Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека. Авиабилеты в цену не входят.

## Отмена
Отмена бесплатна за 30 дней до начала тура.
"""


async def knowledge(factory: Factory, worker: Worker, t: TenantFixture) -> None:
    r = await factory.client.post(
        "/api/v1/knowledge/documents",
        headers=t.owner,
        files={"file": ("prices.md", PRICES.encode())},
    )
    assert r.status_code == 202, r.text
    await worker.run_until_idle()


async def chunk_id(factory: Factory, t: TenantFixture, q: str) -> int:
    r = await factory.client.get(
        "/api/v1/knowledge/search", params={"q": q, "k": 1}, headers=t.operator
    )
    return int(r.json()["passages"][0]["chunk_id"])


async def test_the_offline_engine_answers_from_the_knowledge_base(
    factory: Factory, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)  # no provider chain: the offline engine answers
    await knowledge(factory, worker, t)
    sent = await factory.inbound(t, text="Сколько стоит тур на Байкал?")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    [ai] = [m for m in c["messages"] if m["sender_type"] == "ai"]
    assert "45 000 ₽" in ai["text"] and ai["meta"]["decision"] == "full_answer"
    assert ai["meta"]["citations"] == [str(await chunk_id(factory, t, "Байкал цена"))]
    assert c["status"] == "bot"
    # not in the knowledge base: a person answers
    sent = await factory.inbound(t, text="Есть ли у вас туры в Египет на майские?", contact="c2")
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "pending"


async def test_the_model_gets_the_passages_and_cites_them(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await knowledge(factory, worker, t)
    body: dict[str, Any] = {
        "full_name": None,
        "issue_summary": "отмена",
        "decision": "full_answer",
        "draft_reply": "Отмена бесплатна за 30 дней до начала.",
        "language": "ru",
        "citations": ["K1", "K9"],
        "handoff_reason": None,
    }
    llm.script(OPENAI_PATH, Reply(json=openai_completion(json.dumps(body, ensure_ascii=False))))
    sent = await factory.inbound(t, text="Можно ли бесплатно отменить тур?")
    await worker.run_until_idle()
    prompt = "\n".join(m["content"] for m in llm.requests_to(OPENAI_PATH)[0].json()["messages"])
    assert "Отмена бесплатна за 30 дней" in prompt and "K1" in prompt
    c = await conversation(factory, t, sent["conversation_id"])
    [ai] = [m for m in c["messages"] if m["sender_type"] == "ai"]
    # K1 is the real chunk id; K9 was never given to the model and is dropped
    cited = ai["meta"]["citations"]
    assert len(cited) == 1 and cited[0].isdigit()
    r = await factory.client.get(
        "/api/v1/knowledge/search", params={"q": "отмена", "k": 5}, headers=t.operator
    )
    assert cited[0] in {str(p["chunk_id"]) for p in r.json()["passages"]}
