"""WhatsApp outbound: the AI's answer and operators' replies go out as Cloud API text
messages to the local Graph API; 429, 5xx and the throughput codes are retried, other 4xx
end ``failed`` with Meta's error code."""

from __future__ import annotations

from typing import Any

from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import answer, use_fake_llm
from tests.channels.test_api_callback import run_jobs_until
from tests.channels.whatsapp.fake_graph import CUSTOMER, FakeGraph, payload
from tests.channels.whatsapp.helpers import conversations, post_webhook, thread, whatsapp_channel
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer


async def test_inbound_is_answered_by_the_ai_through_the_graph_api(
    factory: Factory, worker: Worker, graph: FakeGraph, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt="Куртка бывает чёрной и синей.")
    llm.script(OPENAI_PATH, answer("full_answer", "Да, есть чёрная и синяя.", language="en"))
    cid = await whatsapp_channel(factory, t, graph)
    r = await post_webhook(factory.client, cid, payload("text"))
    assert r.status_code == 200, r.text
    await worker.run_until_idle()
    [sent] = graph.sends()
    [conv] = await conversations(factory, t, cid)
    _customer, reply = await thread(factory, t, conv["id"])
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"preview_url": False, "body": "Да, есть чёрная и синяя."},
        "biz_opaque_callback_data": f"frontline:{reply['id']}",
    }
    assert reply["sender_type"] == "ai"
    assert reply["delivery_status"] == "sent"
    assert reply["external_id"] == "wamid.OUT0001"  # statuses[] will name it
    [request] = [q for q in graph.requests if q.method == "POST"]
    assert request.headers["authorization"] == "Bearer EAAJB-test-access-token"
    assert request.headers["content-type"] == "application/json"


async def operator_reply(factory: Factory, t: TenantFixture, cid: str) -> tuple[int, int]:
    r = await post_webhook(factory.client, cid, payload("text"))
    assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    r = await factory.client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        headers=t.operator,
        json={"text": "Сейчас проверю наличие."},
    )
    assert r.status_code == 201, r.text
    return int(conv["id"]), int(r.json()["id"])


async def reply_state(factory: Factory, t: TenantFixture, conv: int, mid: int) -> dict[str, Any]:
    [m] = [m for m in await thread(factory, t, conv) if m["id"] == mid]
    return dict(m)


async def test_rate_limits_and_server_errors_are_retried(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    graph.script += [
        Answer(429, {"error": {"message": "Too many calls", "code": 80007}}),
        Answer(400, {"error": {"message": "Throughput limit", "code": 130429}}),
        Answer(500, {"error": {"message": "An unknown error occurred", "code": 1}}),
        Answer(503, b"<html>upstream</html>"),
    ]
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    conv, mid = await operator_reply(factory, t, cid)

    async def sent() -> bool:
        return (await reply_state(factory, t, conv, mid))["delivery_status"] == "sent"

    await run_jobs_until(worker, sent)
    assert len(graph.sends()) == 5
    assert (await reply_state(factory, t, conv, mid))["external_id"] == "wamid.OUT0001"


async def test_a_refused_message_fails_with_the_error_code(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    graph.script.append(
        Answer(
            400,
            {
                "error": {
                    "message": "(#131047) Re-engagement message",
                    "type": "OAuthException",
                    "code": 131047,
                    "error_data": {
                        "messaging_product": "whatsapp",
                        "details": "Message failed to send because more than 24 hours have "
                        "passed since the customer last replied to this number.",
                    },
                    "fbtrace_id": "AbCdEf",
                }
            },
        )
    )
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    conv, mid = await operator_reply(factory, t, cid)
    await worker.run_until_idle()
    m = await reply_state(factory, t, conv, mid)
    assert m["delivery_status"] == "failed"
    assert "131047" in m["failure_reason"]
    assert "24 hours" in m["failure_reason"]
    assert len(graph.sends()) == 1  # a final failure: not retried


async def test_a_revoked_token_fails_without_retrying(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    r = await factory.client.patch(
        f"/api/v1/channels/{cid}", headers=t.owner, json={"config": {"access_token": "revoked"}}
    )
    assert r.status_code == 200, r.text
    conv, mid = await operator_reply(factory, t, cid)
    await worker.run_until_idle()
    m = await reply_state(factory, t, conv, mid)
    assert m["delivery_status"] == "failed"
    assert "190" in m["failure_reason"]
    assert len([q for q in graph.requests if q.method == "POST"]) == 1


async def test_a_reply_over_4096_characters_is_split_and_a_retry_resumes(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    r = await post_webhook(factory.client, cid, payload("text"))
    assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    paragraph = "Доставка по городу бесплатно от 3000 ₽, самовывоз из шоурума. " * 20
    text = "\n".join([paragraph] * 7)  # ~8700 characters: three parts
    # the second part is rate-limited once: the retry must not send the first one again
    r = await factory.client.post(
        f"/api/v1/conversations/{conv['id']}/messages", headers=t.operator, json={"text": text}
    )
    assert r.status_code == 201, r.text
    mid = int(r.json()["id"])
    original = graph.answer
    calls = 0

    def limited_second(request: Any) -> Answer:
        nonlocal calls
        if request.method == "POST" and request.path.endswith("/messages"):
            calls += 1
            if calls == 2:
                return Answer(429, {"error": {"message": "Too many calls", "code": 80007}})
        return original(request)

    graph.server.answer = limited_second

    async def sent() -> bool:
        return (await reply_state(factory, t, conv["id"], mid))["delivery_status"] == "sent"

    await run_jobs_until(worker, sent)
    bodies = [s["text"]["body"] for s in graph.sends()]
    assert len(bodies) == 4  # three parts, the second one twice (429, then sent)
    assert bodies[1] == bodies[2]
    parts = [bodies[0], bodies[2], bodies[3]]
    assert all(len(b) <= 4096 for b in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    assert {s["to"] for s in graph.sends()} == {CUSTOMER}
    # the message is named by its first part's wamid (statuses[] of it move its state)
    assert (await reply_state(factory, t, conv["id"], mid))["external_id"] == "wamid.OUT0001"
