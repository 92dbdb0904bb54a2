"""The Telegram webhook and outbound path against a local fake Bot API: setWebhook on
create/rotate, the secret header, dedup of redeliveries, ignored updates, inbound -> AI
answer -> sendMessage, splitting, pacing, 429/5xx/403 handling."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any

from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import (
    conversations,
    create_channel,
    messages,
    run_jobs_until,
)
from tests.channels.telegram.fakebot import BOT_TOKEN, FakeBotApi
from tests.conftest import Factory

CHAT = str(p.USER["id"])


async def test_create_and_rotate_call_set_webhook(
    factory: Factory, bot: FakeBotApi, settings: Settings
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    [hook] = bot.called("setWebhook")
    assert hook == {
        "url": f"{settings.public_url}/api/v1/webhooks/telegram/{channel.id}",
        "secret_token": channel.secret,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }
    r = await factory.client.get(f"/api/v1/channels/{channel.id}", headers=t.owner)
    assert r.json()["config"]["bot_token"] == "**********"

    r = await factory.client.post(f"/api/v1/channels/{channel.id}/rotate-secret", headers=t.owner)
    assert r.status_code == 200, r.text
    new_secret = r.json()["secret"]
    assert bot.called("setWebhook")[-1]["secret_token"] == new_secret != channel.secret
    # the old secret no longer works, the new one does
    assert (await channel.post(p.text_update(1, 11, "hi"))).status_code == 401
    assert (await channel.post(p.text_update(1, 11, "hi"), secret=new_secret)).status_code == 200


async def test_poll_mode_deletes_the_webhook(factory: Factory, bot: FakeBotApi) -> None:
    t = await factory.tenant()
    await create_channel(factory, t, bot, mode="poll")
    assert bot.called("setWebhook") == []
    assert bot.called("deleteWebhook") == [{"drop_pending_updates": False}]


async def test_bad_config_and_refused_webhook_are_422(factory: Factory, bot: FakeBotApi) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={"type": "telegram", "name": "T", "config": {"bot_token": "not a token"}},
    )
    assert r.status_code == 422
    assert "bot_token" in r.json()["error"]["message"]
    bot.fail("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={
            "type": "telegram",
            "name": "T",
            "config": {"bot_token": BOT_TOKEN, "api_base_url": bot.base},
        },
    )
    assert r.status_code == 422
    assert "HTTPS url must be provided" in r.json()["error"]["message"]
    # nothing was created
    r = await factory.client.get("/api/v1/channels", headers=t.owner)
    assert [c["type"] for c in r.json()] == ["api", "email"]


async def test_wrong_secret_is_401_and_nothing_stored(factory: Factory, bot: FakeBotApi) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    for secret in ["", "wrong", channel.secret + "x", channel.secret[:-1]]:
        r = await channel.post(p.text_update(1, 11, "hi"), secret=secret)
        assert r.status_code == 401, secret
    assert await conversations(factory, t) == []


async def test_unknown_channel_is_404(factory: Factory, bot: FakeBotApi) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    r = await factory.client.post(
        "/api/v1/webhooks/telegram/00000000-0000-4000-8000-000000000000",
        json=p.text_update(1, 11, "hi"),
        headers={"X-Telegram-Bot-Api-Secret-Token": channel.secret},
    )
    assert r.status_code == 404
    # an API channel's id is not a Telegram channel
    r = await factory.client.post(
        f"/api/v1/webhooks/telegram/{t.api_channel_id}",
        json=p.text_update(1, 11, "hi"),
        headers={"X-Telegram-Bot-Api-Secret-Token": t.api_channel_secret},
    )
    assert r.status_code == 404


async def test_malformed_and_unhandled_updates_are_200_and_ignored(
    factory: Factory, bot: FakeBotApi
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    bot_user = {**p.USER, "id": 999, "is_bot": True}
    group = p.text_update(5, 15, "hi all")
    group["message"]["chat"] = {"id": -100200, "type": "group", "title": "Friends"}
    for update in [
        b"{not json",
        b"[]",
        {"no": "update_id"},
        {"update_id": 1, "poll": {"id": "1"}},
        p.channel_post(2),
        p.text_update(3, 13, "I am a bot", user=bot_user),
        {
            "update_id": 4,
            "message": {
                "message_id": 14,
                "chat": {"id": 1, "type": "private"},
                "from": p.USER,
                "date": 1,
                "new_chat_title": "x",
            },
        },
        group,
        {"update_id": 6, "message": "text"},
    ]:
        r = await channel.post(update)
        assert r.status_code == 200, update
    assert await conversations(factory, t) == []


async def test_twenty_concurrent_redeliveries_store_one_message(
    factory: Factory, bot: FakeBotApi
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    update = p.text_update(42, 77, "Есть ли свободные номера на выходные?")
    answers = await asyncio.gather(*(channel.post(update) for _ in range(20)))
    assert [r.status_code for r in answers] == [200] * 20
    [conversation] = await conversations(factory, t)
    stored = await messages(factory, t, conversation["id"])
    assert [(m["text"], m["external_id"]) for m in stored] == [
        ("Есть ли свободные номера на выходные?", f"{CHAT}:77")
    ]
    # the same message id in another chat is another message
    other = {**p.USER, "id": 777000}
    assert (await channel.post(p.text_update(43, 77, "hello", user=other))).status_code == 200
    assert len(await conversations(factory, t)) == 2


async def test_inbound_ai_answer_goes_out_with_send_message(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    r = await channel.post(p.text_update(100, 1, "Здравствуйте! Как забронировать номер?"))
    assert r.status_code == 200

    async def answered() -> bool:
        return bool(bot.called("sendMessage"))

    await run_jobs_until(worker, answered)
    [sent] = bot.called("sendMessage")
    assert sent["chat_id"] == CHAT
    [conversation] = await conversations(factory, t)
    stored = await messages(factory, t, conversation["id"])
    reply = [m for m in stored if m["sender_type"] == "ai" and not m["is_internal"]]
    assert reply and reply[-1]["text"] == sent["text"]
    assert reply[-1]["delivery_status"] == "sent"
    assert reply[-1]["external_id"] == f"{CHAT}:{bot.next_message_id}"
    contact = stored[0]
    assert contact["sender_type"] == "contact"
    assert contact["meta"]["telegram"]["username"] == "irina_s"


async def _operator_reply(factory: Factory, t: Any, channel: Any, text: str) -> tuple[int, int]:
    assert (await channel.post(p.text_update(1, 1, "Помогите"))).status_code == 200
    [conversation] = await conversations(factory, t)
    r = await factory.client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        headers=t.operator,
        json={"text": text},
    )
    assert r.status_code == 201, r.text
    return conversation["id"], r.json()["id"]


async def _status(
    factory: Factory, t: Any, conversation_id: int, message_id: int
) -> dict[str, Any]:
    [found] = [m for m in await messages(factory, t, conversation_id) if m["id"] == message_id]
    return found


async def test_long_reply_is_split_at_4096_and_paced(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot, chat_pacing_seconds=0.2)
    paragraph = "Условия бронирования: предоплата 30%, отмена за 7 дней бесплатно. " * 20
    text = "\n".join([paragraph] * 7)  # ~9700 characters
    conversation_id, reply_id = await _operator_reply(factory, t, channel, text)
    await worker.run_until_idle()
    sent = bot.called("sendMessage")
    assert len(sent) == 3
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert "".join(s["text"] for s in sent).replace("\n", "").replace(" ", "") == text.replace(
        "\n", ""
    ).replace(" ", "")
    times = bot.sent_at()
    assert all(b - a >= 0.18 for a, b in itertools.pairwise(times))
    assert (await _status(factory, t, conversation_id, reply_id))["delivery_status"] == "sent"


async def test_429_retry_after_sets_the_next_attempt(
    factory: Factory, bot: FakeBotApi, worker: Worker, settings: Settings
) -> None:
    worker.backoff_max = 30.0
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    conversation_id, reply_id = await _operator_reply(factory, t, channel, "Секунду")
    bot.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    # the next attempt is set from the moment of the 429, which lies between these two
    # readings; "now" at read time would shrink the wait on a loaded machine
    before = datetime.now(UTC)
    await worker.run_until_idle(max_rounds=1)
    after = datetime.now(UTC)
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    [job] = [j for j in r.json() if j["kind"] == "message.deliver"]
    assert job["status"] == "queued"
    assert "retry after 7" in job["last_error"]
    run_at = datetime.fromisoformat(job["run_at"]).replace(tzinfo=UTC)
    # retry_after=7 wins over the first backoff step (about a second): not sooner than 7 s
    # after the call, and not the 30 s backoff cap either
    assert (run_at - before).total_seconds() >= 6.9
    assert (run_at - after).total_seconds() <= 7.5
    assert (await _status(factory, t, conversation_id, reply_id))["delivery_status"] == "queued"


async def test_5xx_is_retried_then_sent(factory: Factory, bot: FakeBotApi, worker: Worker) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    bot.fail("sendMessage", 502, "Bad Gateway")
    bot.fail("sendMessage", 500, "Internal Server Error")
    conversation_id, reply_id = await _operator_reply(factory, t, channel, "Уже проверяем")

    async def sent() -> bool:
        status = (await _status(factory, t, conversation_id, reply_id))["delivery_status"]
        return bool(status == "sent")

    await run_jobs_until(worker, sent)
    assert len(bot.called("sendMessage")) == 3


async def test_blocked_bot_403_is_a_final_failure_with_the_reason(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    bot.blocked_chats.add(CHAT)
    conversation_id, reply_id = await _operator_reply(factory, t, channel, "Ответ")
    await worker.run_until_idle()
    found = await _status(factory, t, conversation_id, reply_id)
    assert found["delivery_status"] == "failed"
    assert "Forbidden: bot was blocked by the user" in found["failure_reason"]
    assert len(bot.called("sendMessage")) == 1  # not retried
