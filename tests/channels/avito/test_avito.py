"""The Avito Messenger channel against a local Avito API: webhook subscription on
creation, token-authenticated inbound deduplicated by message id, own and system messages
ignored, the listing kept on the conversation and given to the AI, outbound with a cached
OAuth token refreshed on 401, 429/5xx retried."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.models import Message
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import answer, use_fake_llm
from tests.channels.avito.fake_avito import (
    CHAT,
    CLIENT_ID,
    CLIENT_SECRET,
    ITEM,
    JPEG,
    USER_ID,
    FakeAvito,
)
from tests.channels.test_api_callback import run_jobs_until
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer


async def avito_channel(factory: Factory, t: TenantFixture, avito: FakeAvito) -> tuple[str, str]:
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={
            "type": "avito",
            "name": "Авито",
            "config": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "user_id": USER_ID,
                "api_base_url": avito.base,
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["config"]["client_secret"] == "**********"
    return str(r.json()["id"]), str(r.json()["secret"])


async def notify(
    client: httpx.AsyncClient, cid: str, secret: str | None, body: dict[str, Any] | bytes
) -> httpx.Response:
    params = {"token": secret} if secret is not None else {}
    raw = body if isinstance(body, bytes) else None
    return await client.post(
        f"/api/v1/webhooks/avito/{cid}",
        params=params,
        content=raw,
        json=None if raw is not None else body,
    )


async def message_count(services: Services) -> int:
    async with services.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(Message))).scalar_one())


async def only_conversation(factory: Factory, t: TenantFixture, cid: str) -> dict[str, Any]:
    r = await factory.client.get(
        "/api/v1/conversations", headers=t.operator, params={"channel_id": cid}
    )
    assert r.status_code == 200, r.text
    [conv] = r.json()["items"]
    r = await factory.client.get(f"/api/v1/conversations/{conv['id']}", headers=t.operator)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_creating_the_channel_subscribes_its_webhook(
    factory: Factory, worker: Worker, avito: FakeAvito, services: Services
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    await worker.run_until_idle()
    public = services.settings.public_url.rstrip("/")
    assert avito.subscriptions == [f"{public}/api/v1/webhooks/avito/{cid}?token={secret}"]
    assert len(avito.token_calls()) == 1
    # a new secret is a new URL: subscribed again (the cached token is reused)
    r = await factory.client.post(f"/api/v1/channels/{cid}/rotate-secret", headers=t.owner)
    assert r.status_code == 200, r.text
    await worker.run_until_idle()
    new = r.json()["secret"]
    assert avito.subscriptions[-1] == f"{public}/api/v1/webhooks/avito/{cid}?token={new}"
    assert len(avito.token_calls()) == 1
    # new credentials (perhaps another account): subscribed again with them
    r = await factory.client.patch(
        f"/api/v1/channels/{cid}", headers=t.owner, json={"config": {"client_id": "other"}}
    )
    assert r.status_code == 200, r.text
    await worker.run_until_idle()
    assert len(avito.subscriptions) == 2  # the fake refuses the unknown client
    [dead] = await failed_jobs(factory, t)
    assert "refused the client credentials" in dead["last_error"]


async def failed_jobs(factory: Factory, t: TenantFixture) -> list[dict[str, Any]]:
    r = await factory.client.get("/api/v1/jobs", headers=t.owner, params={"status": "dead"})
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_wrong_or_missing_token_stores_nothing(
    factory: Factory, avito: FakeAvito, services: Services
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    body = avito.payload("text")
    assert (await notify(factory.client, cid, None, body)).status_code == 401
    assert (await notify(factory.client, cid, secret + "x", body)).status_code == 401
    assert (await notify(factory.client, cid, t.api_channel_secret, body)).status_code == 401
    assert await message_count(services) == 0
    r = await notify(factory.client, str(uuid.uuid4()), secret, body)
    assert r.status_code == 404
    r = await notify(factory.client, cid, secret, body)
    assert r.status_code == 200, r.text
    assert r.json() == {"stored": 1, "duplicates": 0, "ignored": 0}


async def test_message_opens_a_conversation_about_the_listing(
    factory: Factory, avito: FakeAvito
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    r = await notify(factory.client, cid, secret, avito.payload("text"))
    assert r.status_code == 200, r.text
    conv = await only_conversation(factory, t, cid)
    assert conv["meta"] == {"avito_chat_id": CHAT, "avito_item_id": ITEM}
    [m] = conv["messages"]
    assert m["text"] == "Здравствуйте! Дом ещё свободен на выходные?"
    assert m["external_id"] == "2f9c6a0e8d1b4e7aa3c5b1d2e4f60789"
    assert m["meta"] == {"avito_type": "text", "avito_author_id": "53252723"}


async def test_twenty_concurrent_redeliveries_store_one_message(
    factory: Factory, avito: FakeAvito, services: Services
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    body = avito.payload("text")
    answers = await asyncio.gather(*(notify(factory.client, cid, secret, body) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    assert sum(a.json()["stored"] for a in answers) == 1
    assert await message_count(services) == 1


async def test_own_system_foreign_and_malformed_notifications_are_ignored(
    factory: Factory, avito: FakeAvito, services: Services
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    for body in (
        avito.payload("text", author_id=USER_ID, id="own-reply-echo"),
        avito.payload("system"),
        avito.payload("text", user_id=11111, id="another-account"),
        avito.payload("text", type="voice", content={"voice": {"voice_id": "v1"}}, id="voice"),
        {"payload": {"type": "chat_read"}},
        avito.payload("text", type="link", content={"link": "a string"}, id="odd-link"),
        avito.payload("text", content="not an object", id="odd-content"),
        {"payload": {"type": "message", "value": {"id": {}, "chat_id": [], "type": 1}}},
        b"not json",
    ):
        r = await notify(factory.client, cid, secret, body)
        assert r.status_code == 200, r.text
        assert r.json() == {"stored": 0, "duplicates": 0, "ignored": 1}
    assert await message_count(services) == 0


async def test_image_is_downloaded_from_the_largest_rendition(
    factory: Factory, avito: FakeAvito, worker: Worker
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    r = await notify(factory.client, cid, secret, avito.payload("image"))
    assert r.status_code == 200, r.text
    await worker.run_until_idle()
    conv = await only_conversation(factory, t, cid)
    [m] = conv["messages"]
    [image] = m["attachments"]
    assert (image["status"], image["content_type"], image["size"]) == (
        "stored",
        "image/jpeg",
        len(JPEG),
    )
    assert [q.path for q in avito.server.requests if q.path.startswith("/img/")] == [
        "/img/1280x960/5f1a.jpg"
    ]


async def test_ai_answers_about_the_listing_through_the_messenger_api(
    factory: Factory, avito: FakeAvito, worker: Worker, llm: FakeLLMServer
) -> None:
    t = await factory.tenant(ai=True)
    await use_fake_llm(factory, t, llm, system_prompt="Дом у озера свободен на выходные.")
    llm.script(OPENAI_PATH, answer("full_answer", "Да, дом свободен на выходные."))
    cid, secret = await avito_channel(factory, t, avito)
    r = await notify(factory.client, cid, secret, avito.payload("text"))
    assert r.status_code == 200, r.text
    await worker.run_until_idle()
    prompt = json2text(llm.requests_to(OPENAI_PATH)[0].json())
    assert f"объявлению на Авито № {ITEM}" in prompt
    [sent] = avito.sends()
    assert sent.json() == {"message": {"text": "Да, дом свободен на выходные."}, "type": "text"}
    assert sent.headers["authorization"] == "Bearer token-1"
    conv = await only_conversation(factory, t, cid)
    reply = conv["messages"][-1]
    assert (reply["sender_type"], reply["delivery_status"]) == ("ai", "sent")
    assert reply["external_id"] == "out-1"
    # Avito echoes our own message back to the webhook: ignored
    echo = avito.payload("text", id="out-1", author_id=USER_ID, content={"text": "Да"})
    r = await notify(factory.client, cid, secret, echo)
    assert r.json()["ignored"] == 1


def json2text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content")) for m in body["messages"])


async def operator_reply(
    factory: Factory, avito: FakeAvito, t: TenantFixture, cid: str, secret: str
) -> int:
    body = avito.payload("text", id=f"in-{uuid.uuid4().hex}")
    r = await notify(factory.client, cid, secret, body)
    assert r.status_code == 200, r.text
    conv = await only_conversation(factory, t, cid)
    r = await factory.client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        headers=t.operator,
        json={"text": "Добрый день! Свободен."},
    )
    assert r.status_code == 201, r.text
    return int(conv["id"])


async def reply_status(factory: Factory, t: TenantFixture, conv: int) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/conversations/{conv}", headers=t.operator)
    return dict(r.json()["messages"][-1])


async def test_token_is_cached_and_fetched_again_after_a_401(
    factory: Factory, avito: FakeAvito, worker: Worker
) -> None:
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    await worker.run_until_idle()  # the subscription took the first token
    conv = await operator_reply(factory, avito, t, cid, secret)
    await worker.run_until_idle()
    assert len(avito.token_calls()) == 1  # the cached token sent the reply
    avito.revoke_tokens()
    conv = await operator_reply(factory, avito, t, cid, secret)
    await worker.run_until_idle()
    assert (await reply_status(factory, t, conv))["delivery_status"] == "sent"
    assert len(avito.token_calls()) == 2
    auths = [q.headers["authorization"] for q in avito.sends()]
    assert auths == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


async def test_rate_limits_and_server_errors_are_retried_forbidden_fails(
    factory: Factory, avito: FakeAvito, worker: Worker
) -> None:
    avito.script += [
        Answer(429, {"error": {"code": 429, "message": "Too Many Requests"}}, {"Retry-After": "0"}),
        Answer(502, b"Bad Gateway"),
    ]
    t = await factory.tenant()
    cid, secret = await avito_channel(factory, t, avito)
    conv = await operator_reply(factory, avito, t, cid, secret)

    async def sent() -> bool:
        return (await reply_status(factory, t, conv))["delivery_status"] == "sent"

    await run_jobs_until(worker, sent)
    assert len(avito.sends()) == 3
    avito.script.append(Answer(403, {"error": {"code": 403, "message": "chat is blocked"}}))
    conv = await operator_reply(factory, avito, t, cid, secret)
    await worker.run_until_idle()
    failed = await reply_status(factory, t, conv)
    assert failed["delivery_status"] == "failed"
    assert "403" in failed["failure_reason"]
    assert len(avito.sends()) == 4
