"""The streaming path: while the model writes its answer, the conversation's live viewers get
the reply text as ``message.delta`` events; the stored message then replaces it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from frontline import events
from frontline.ai.triage import DraftReplyStream
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.realtime.broker import MemoryBroker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_stream
from tests.ai.test_ai_reply import PRICE_PROMPT, answer, conversation, use_fake_llm
from tests.conftest import Factory, TenantFixture

REPLY = 'Тур "Байкал" стоит 45 000 ₽ на человека 😀.\nЧем ещё помочь?'


def triage_json(decision: str, reply: str, **extra: Any) -> str:
    body = {
        "full_name": None,
        "issue_summary": "вопрос о цене",
        "decision": decision,
        "draft_reply": reply,
        "language": "ru",
        "citations": [],
        "handoff_reason": None,
        **extra,
    }
    return json.dumps(body, ensure_ascii=True)  # \u escapes, as some models write them


def streamed(text: str, size: int = 9, line_delay: float = 0.0) -> Reply:
    parts = [text[i : i + size] for i in range(0, len(text), size)]
    return Reply(
        lines=openai_stream(parts, model="m-1"),
        content_type="text/event-stream",
        line_delay=line_delay,
    )


@asynccontextmanager
async def watching(
    services: Services, t: TenantFixture, conversation_id: int
) -> AsyncIterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    async def collect() -> None:
        async for event in services.broker.subscribe(
            events.conversation_topic(t.id, conversation_id)
        ):
            received.append(event)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        yield received
        await asyncio.sleep(0.05)
    finally:
        task.cancel()


def deltas(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in received if e["type"] == events.MESSAGE_DELTA]


async def first_turn(factory: Factory, t: TenantFixture, llm: FakeLLMServer) -> int:
    """A conversation whose first AI turn is done, so a test can watch the second."""
    llm.script(OPENAI_PATH, answer("full_answer", "Здравствуйте!"))
    sent = await factory.inbound(t, text="Здравствуйте", contact="cust-s")
    return int(sent["conversation_id"])


async def test_a_watched_conversation_gets_the_reply_as_it_is_written(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt=PRICE_PROMPT)
    cid = await first_turn(factory, t, llm)
    await worker.run_until_idle()
    llm.reset()
    llm.script(OPENAI_PATH, streamed(triage_json("full_answer", REPLY), line_delay=0.02))
    async with watching(services, t, cid) as received:
        sent = await factory.inbound(t, text="Сколько стоит тур?", contact="cust-s")
        await worker.run_until_idle()
    [request] = llm.requests_to(OPENAI_PATH)
    assert request.json()["stream"] is True
    stream_id = f"ai-{sent['message_id']}"
    parts = deltas(received)
    pieces = [p["delta"] for p in parts if "delta" in p]
    assert len(pieces) > 1, parts  # it arrived in pieces, not at once
    assert "".join(pieces) == REPLY
    assert all(p["stream_id"] == stream_id and p["conversation_id"] == cid for p in parts)
    assert parts[-1] == {
        "conversation_id": cid,
        "stream_id": stream_id,
        "done": True,
        "discarded": False,
    }
    created = [e["data"] for e in received if e["type"] == events.MESSAGE_CREATED]
    ai = [m for m in created if m["sender_type"] == "ai"]
    assert [m["text"] for m in ai] == [REPLY]
    assert ai[0]["meta"]["stream_id"] == stream_id
    # the stored conversation has the reply once, complete
    c = await conversation(factory, t, cid)
    assert [m["text"] for m in c["messages"] if m["sender_type"] == "ai"][-1] == REPLY


async def test_nobody_watching_means_no_streaming(
    factory: Factory, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    await first_turn(factory, t, llm)
    await worker.run_until_idle()
    llm.reset()
    llm.script(OPENAI_PATH, answer("full_answer", "Ответ"))
    await factory.inbound(t, text="Вопрос", contact="cust-s")
    await worker.run_until_idle()
    [request] = llm.requests_to(OPENAI_PATH)
    assert "stream" not in request.json() or request.json()["stream"] is False


async def test_an_escalation_streams_no_text(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm)
    cid = await first_turn(factory, t, llm)
    await worker.run_until_idle()
    llm.reset()
    text = triage_json("escalate_to_human", "Передаю ваш вопрос сотруднику.", handoff_reason="x")
    llm.script(OPENAI_PATH, streamed(text))
    async with watching(services, t, cid) as received:
        await factory.inbound(t, text="Верните деньги", contact="cust-s")
        await worker.run_until_idle()
    assert deltas(received) == []
    c = await conversation(factory, t, cid)
    assert c["status"] == "pending"


async def test_a_provider_failing_mid_answer_is_reset_and_the_next_one_answers(
    factory: Factory, services: Services, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    chain = [
        {
            "kind": "openai_compatible",
            "model": "m-1",
            "config": {"base_url": f"{llm.base}/openai/v1"},
        },
        {
            "kind": "openai_compatible",
            "model": "m-2",
            "config": {"base_url": f"{llm.base}/openai/v1"},
        },
    ]
    r = await factory.client.put(
        "/api/v1/ai/settings",
        headers=t.owner,
        json={"provider_chain": chain, "system_prompt": PRICE_PROMPT},
    )
    assert r.status_code == 200, r.text
    cid = await first_turn(factory, t, llm)
    await worker.run_until_idle()
    llm.reset()
    good = triage_json("full_answer", REPLY)
    cut = good.index("draft_reply") + 40  # part of the reply is out when m-1 breaks
    broken = [*openai_stream([good[:cut]], model="m-1")[:2], "data: {not json\n\n"]
    llm.script(
        OPENAI_PATH,
        Reply(lines=broken, content_type="text/event-stream"),
        streamed(good),
    )
    async with watching(services, t, cid) as received:
        await factory.inbound(t, text="Сколько стоит тур?", contact="cust-s")
        await worker.run_until_idle()
    parts = deltas(received)
    reset_at = next(i for i, p in enumerate(parts) if p.get("reset"))
    before = "".join(p.get("delta", "") for p in parts[:reset_at])
    after = "".join(p.get("delta", "") for p in parts[reset_at + 1 :])
    assert before and REPLY.startswith(before)
    assert after == REPLY
    assert parts[-1]["done"] is True and parts[-1]["discarded"] is False


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 1000])
def test_draft_reply_stream_decodes_any_split(size: int) -> None:
    text = "Sure, here it is:\n```json\n" + triage_json("need_more_info", REPLY) + "\n```"
    parser = DraftReplyStream()
    out = "".join(parser.feed(text[i : i + size]) for i in range(0, len(text), size))
    assert out == REPLY == parser.text
    assert parser.decision == "need_more_info" and parser.done


def test_draft_reply_stream_ignores_the_key_inside_other_strings() -> None:
    text = triage_json("full_answer", "Да.", issue_summary='says "draft_reply": "nope"')
    parser = DraftReplyStream()
    assert parser.feed(text) == "Да."


async def test_memory_broker_knows_whether_a_topic_is_watched() -> None:
    broker = MemoryBroker()
    assert not await broker.watched("t")
    iterator = broker.subscribe("t")
    task = asyncio.create_task(anext(iterator))
    await asyncio.sleep(0)
    assert await broker.watched("t")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await iterator.aclose()
    assert not await broker.watched("t")
