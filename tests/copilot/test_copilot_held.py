"""The operator's copilot on a conversation moderation held: it works from the messages
moderation let through, and a held message (abuse, spam, perhaps an injection attempt) is
never sent to a model - suggest, rewrite, translate, summary and booking alike. When every
message it could read is held, the actions that read the conversation refuse with 409
``conversation_held`` (RU/EN message); rewriting or translating the operator's own draft
still works (the draft is all the model gets)."""

from __future__ import annotations

import json

from frontline.deps import Services
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.bookings.helpers import make_tour
from tests.conftest import Factory
from tests.conversations.test_moderation import RUDE, conversation, set_moderation
from tests.copilot.helpers import calls, copilot, use_llm

QUESTION = "Сколько стоит тур на Байкал?"


def said(text: str) -> Reply:
    return Reply(json=openai_completion(text, model="m-1"))


def sent_to_model(llm: FakeLLMServer) -> list[str]:
    return [json.dumps(r.json(), ensure_ascii=False) for r in llm.requests_to(OPENAI_PATH)]


async def test_the_copilot_works_without_the_held_message(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    await make_tour(factory.client, t, name="Байкал", days=30)
    await set_moderation(factory, t, profanity="hold")
    cid = (await factory.inbound(t, text=QUESTION))["conversation_id"]
    held = await factory.inbound(t, text=RUDE)
    assert held["conversation_id"] == cid
    assert (await conversation(factory, t, cid))["meta"]["moderation"]["mode"] == "hold"
    summary = {"summary": "Клиент спрашивает цену тура.", "needs": ["цена"]}
    llm.script(
        OPENAI_PATH,
        *[said("Тур стоит 45 000 ₽.") for _ in range(3)],
        said(json.dumps(summary, ensure_ascii=False)),
        *[said("{}") for _ in range(3)],
    )
    for action, body in (
        ("suggest", {}),
        ("suggest", {"stream": True}),
        ("rewrite", {"text": "тур стоит 45 тыщ", "mode": "formal"}),
        ("summary", {}),
        ("booking", {}),
    ):
        r = await copilot(factory.client, t, cid, action, **body)
        assert r.status_code == 200, (action, r.text)
    sent = sent_to_model(llm)
    assert sent, "the model was asked"
    assert not [body for body in sent if RUDE in body]
    assert any(QUESTION in body for body in sent)  # what moderation let through is read
    assert {c.purpose for c in await calls(services, t)} >= {"copilot.suggest", "copilot.summary"}


async def test_a_conversation_only_of_held_messages_is_409_and_no_model_reads_it(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    await make_tour(factory.client, t, name="Байкал", days=30)
    await set_moderation(factory, t, profanity="hold")
    cid = (await factory.inbound(t, text=RUDE))["conversation_id"]
    for action, body in (
        ("suggest", {}),
        ("suggest", {"stream": True}),
        ("summary", {}),
        ("booking", {}),
    ):
        r = await copilot(factory.client, t, cid, action, **body)
        assert r.status_code == 409, (action, r.text)
        error = r.json()["error"]
        assert error["code"] == "conversation_held"
        assert "held by moderation" in error["message"]
    r = await factory.client.post(
        f"/api/v1/conversations/{cid}/copilot/summary",
        headers={**t.operator, "Accept-Language": "ru"},
        json={},
    )
    assert r.status_code == 409
    assert "задержаны модерацией" in r.json()["error"]["message"]
    assert llm.requests_to(OPENAI_PATH) == []
    assert await calls(services, t) == []
    # the operator's own draft can still be rewritten: only the draft goes to the model
    llm.script(OPENAI_PATH, said("Здравствуйте! Чем можем помочь?"))
    r = await copilot(factory.client, t, cid, "rewrite", text="чё надо", mode="formal")
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "Здравствуйте! Чем можем помочь?"
    [sent] = sent_to_model(llm)
    assert "чё надо" in sent and RUDE not in sent
