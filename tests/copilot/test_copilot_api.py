"""The copilot API against the fake OpenAI-compatible server (recorded-style payloads) and
on the offline engine: grounded suggestions with their passages, rewrites, translations,
summaries; every call in the AI log with its purpose; nothing ever sent to the customer."""

from __future__ import annotations

import json

from frontline.deps import Services
from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion, openai_stream
from tests.conftest import Factory
from tests.copilot.helpers import (
    calls,
    copilot,
    empty_conversation,
    knowledge,
    message_count,
    sse_events,
    use_llm,
)

QUESTION = "Сколько стоит тур на Байкал?"
SUGGESTION = "Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека [K1]."
# what the operator gets: the passage markers become the passages' ``cited`` flags
SHOWN = "Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека."


def said(text: str) -> Reply:
    return Reply(json=openai_completion(text, model="m-1"))


async def test_a_suggestion_is_grounded_in_the_knowledge_base_and_never_sent(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    await knowledge(factory, t, worker)
    sent = await factory.inbound(t, text=QUESTION)
    cid = sent["conversation_id"]
    before = await message_count(services, cid)
    llm.script(OPENAI_PATH, said(SUGGESTION))
    r = await copilot(factory.client, t, cid, "suggest")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["text"] == SHOWN
    assert (out["provider"], out["model"], out["degraded"]) == ("openai_compatible", "m-1", False)
    assert out["language"] == "ru"
    cited = [p for p in out["passages"] if p["cited"]]
    assert [p["label"] for p in cited] == ["K1"]
    assert "45 000" in cited[0]["excerpt"]
    assert cited[0]["url"] == f"/api/v1/knowledge/documents/{cited[0]['document_id']}"
    # what the model was given: rules in the system message, the rest as delimited data
    [request] = llm.requests_to(OPENAI_PATH)
    system, user = request.json()["messages"]
    assert system["role"] == "system" and QUESTION not in system["content"]
    assert '<<<DATA kind="knowledge" id="K1"' in user["content"]
    assert '<<<DATA kind="conversation">>>' in user["content"] and QUESTION in user["content"]
    # logged with its purpose; no message was added to the conversation
    [call] = await calls(services, t)
    assert (call.purpose, call.conversation_id, call.answer) == ("copilot.suggest", cid, SUGGESTION)
    assert call.tokens_in == 21 and call.error is None
    assert await message_count(services, cid) == before
    r = await factory.client.get("/api/v1/ai/calls", headers=t.owner)
    assert r.json()["items"][0]["purpose"] == "copilot.suggest"


async def test_every_provider_down_the_offline_engine_suggests_and_says_so(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    await knowledge(factory, t, worker)
    cid = (await factory.inbound(t, text=QUESTION))["conversation_id"]
    llm.script(OPENAI_PATH, *[Reply(status=503, json={"error": {"message": "down"}})] * 5)
    r = await copilot(factory.client, t, cid, "suggest")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["provider"] == "offline" and out["degraded"] is True
    assert "AI-провайдеры недоступны" in out["notice"]
    assert "45 000 ₽" in out["text"]
    assert any(p["cited"] for p in out["passages"])
    rows = await calls(services, t)
    assert [c.provider for c in rows] == ["openai_compatible", "offline"]
    assert rows[0].error and rows[1].error is None
    assert {c.purpose for c in rows} == {"copilot.suggest"}


async def test_without_providers_the_offline_engine_is_the_copilot(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t = await factory.tenant()
    await knowledge(factory, t, worker)
    cid = (await factory.inbound(t, text=QUESTION))["conversation_id"]
    r = await copilot(factory.client, t, cid, "suggest")
    out = r.json()
    assert out["provider"] == "offline" and out["degraded"] is False and out["notice"] is None
    assert "45 000 ₽" in out["text"]
    # a rewrite needs a language model: a clear 409 (a setting, not an outage), not a
    # pretend rewrite
    r = await copilot(factory.client, t, cid, "rewrite", text="привет", mode="formal")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ai_not_configured"
    assert "add a provider" in r.json()["error"]["message"]
    r = await factory.client.post(
        f"/api/v1/conversations/{cid}/copilot/translate",
        headers={**t.operator, "Accept-Language": "ru"},
        json={"text": "привет"},
    )
    assert r.status_code == 409
    assert "добавьте провайдера" in r.json()["error"]["message"]
    # the summary is extractive
    r = await copilot(factory.client, t, cid, "summary")
    assert r.status_code == 200
    out = r.json()
    assert QUESTION in out["summary"] and out["needs"] == [QUESTION]


async def test_rewrite_keeps_the_original_and_translate_targets_the_customer(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    cid = (await factory.inbound(t, text="Hello, can I bring my dog on the tour?"))[
        "conversation_id"
    ]
    draft = "да можно собаку брать но в наморднике"
    llm.script(OPENAI_PATH, said('"Да, собаку взять можно, но в наморднике."'))
    r = await copilot(factory.client, t, cid, "rewrite", text=draft, mode="spelling")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["text"] == "Да, собаку взять можно, но в наморднике."  # quotes removed
    assert out["original"] == draft and out["language"] == "ru"
    [request] = llm.requests_to(OPENAI_PATH)
    system, user = request.json()["messages"]
    assert "spelling" in system["content"] and draft in user["content"]
    assert draft not in system["content"]
    llm.reset()
    llm.script(OPENAI_PATH, said("Yes, you can bring your dog, on a muzzle."))
    r = await copilot(factory.client, t, cid, "translate", text=out["text"])
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "en"  # the customer writes English
    [request] = llm.requests_to(OPENAI_PATH)
    assert "into English" in request.json()["messages"][0]["content"]
    purposes = [c.purpose for c in await calls(services, t)]
    assert purposes == ["copilot.rewrite.spelling", "copilot.translate.en"]


async def test_rewrite_with_every_provider_down_is_503_and_logged(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    cid = (await factory.inbound(t, text="Привет"))["conversation_id"]
    llm.script(OPENAI_PATH, Reply(status=401, json={"error": {"message": "bad key"}}))
    r = await copilot(factory.client, t, cid, "translate", text="привет", language="en")
    assert r.status_code == 503
    assert "every AI provider is down" in r.json()["error"]["message"]
    [call] = await calls(services, t)
    assert call.purpose == "copilot.translate.en" and "AuthFailed" in (call.error or "")


async def test_summary_and_what_the_customer_still_needs(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    cid = (await factory.inbound(t, text="Хочу тур на Байкал в июле на двоих"))["conversation_id"]
    await factory.inbound(t, text="А скидки для студентов есть?")
    body = {"summary": "Клиент хочет тур на Байкал в июле на двоих.", "needs": ["скидка"]}
    llm.script(OPENAI_PATH, said(json.dumps(body, ensure_ascii=False)))
    r = await copilot(factory.client, t, cid, "summary")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["summary"], out["needs"]) == (body["summary"], ["скидка"])
    [request] = llm.requests_to(OPENAI_PATH)
    assert request.json()["response_format"]["type"] == "json_schema"
    # a model that does not answer the JSON: logged as invalid, the extractive summary stands
    llm.reset()
    llm.script(OPENAI_PATH, said("Конечно! Вот краткое содержание..."))
    r = await copilot(factory.client, t, cid, "summary")
    out = r.json()
    assert out["provider"] == "offline"
    assert out["needs"] == ["А скидки для студентов есть?"]
    rows = await calls(services, t)
    assert [c.error is not None for c in rows] == [False, True, False]


async def test_streaming_suggestion_arrives_in_pieces(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    await knowledge(factory, t, worker)
    cid = (await factory.inbound(t, text=QUESTION))["conversation_id"]
    parts = [SUGGESTION[i : i + 8] for i in range(0, len(SUGGESTION), 8)]
    llm.script(
        OPENAI_PATH,
        Reply(lines=openai_stream(parts, model="m-1"), content_type="text/event-stream"),
    )
    r = await copilot(factory.client, t, cid, "suggest", stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    got = sse_events(r.text)
    deltas = [d["text"] for e, d in got if e == "delta"]
    assert len(deltas) > 1 and "".join(deltas) == SUGGESTION
    event, done = got[-1]
    assert event == "done" and done["text"] == SHOWN
    assert [p["label"] for p in done["passages"] if p["cited"]] == ["K1"]
    [call] = await calls(services, t)
    assert call.purpose == "copilot.suggest" and call.answer == SUGGESTION
    assert llm.requests_to(OPENAI_PATH)[0].json()["stream"] is True


async def test_streaming_rewrite_with_providers_down_ends_with_an_error_event(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    cid = (await factory.inbound(t, text="Привет"))["conversation_id"]
    llm.script(OPENAI_PATH, Reply(status=401, json={"error": {"message": "bad key"}}))
    r = await copilot(factory.client, t, cid, "rewrite", text="ok", mode="shorter", stream=True)
    [(event, data)] = sse_events(r.text)
    assert event == "error" and data["code"] == "ai_unavailable"
    assert [c.purpose for c in await calls(services, t)] == ["copilot.rewrite.shorter"]


async def test_another_tenants_conversation_is_404_and_an_empty_one_409(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    theirs = (await factory.inbound(other, text="secret"))["conversation_id"]
    for action, body in (
        ("suggest", {}),
        ("summary", {}),
        ("rewrite", {"text": "x", "mode": "formal"}),
        ("translate", {"text": "x"}),
    ):
        r = await copilot(factory.client, t, theirs, action, **body)
        assert r.status_code == 404, (action, r.text)
    empty = await empty_conversation(services, t)
    r = await copilot(factory.client, t, empty, "suggest")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conversation_empty"
    assert "no messages" in r.json()["error"]["message"]
    r = await copilot(factory.client, t, empty, "rewrite", text="x", mode="loud")
    assert r.status_code == 422
    assert await calls(services, t) == []
