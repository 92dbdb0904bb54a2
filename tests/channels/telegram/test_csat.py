"""CSAT on Telegram: resolving a Telegram conversation sends a 1-5 inline keyboard; the
customer's press is stored as the rating and answered with answerCallbackQuery."""

from __future__ import annotations

import uuid
from typing import Any

from frontline.channels import service as channels
from frontline.channels.telegram.poll import poll_once
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import TelegramChannel, conversations, create_channel
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory, TenantFixture


async def resolved_conversation(
    factory: Factory, t: TenantFixture, channel: TelegramChannel, user: dict[str, Any] | None = None
) -> int:
    assert (await channel.post(p.text_update(1, 1, "Где мой заказ?", user=user))).status_code == 200
    [conversation] = await conversations(factory, t)
    cid = int(conversation["id"])
    r = await factory.client.post(
        f"/api/v1/conversations/{cid}/messages", headers=t.operator, json={"text": "Уже в пути"}
    )
    assert r.status_code == 201, r.text
    r = await factory.client.patch(
        f"/api/v1/conversations/{cid}", headers=t.operator, json={"status": "resolved"}
    )
    assert r.status_code == 200, r.text
    return cid


async def conversation(factory: Factory, t: TenantFixture, cid: int) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_resolving_sends_the_keyboard_and_a_press_is_stored(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    cid = await resolved_conversation(factory, t, channel)
    await worker.run_until_idle()
    # the reply and the rating request are two jobs, run concurrently: either may go first
    [reply] = [m for m in bot.called("sendMessage") if "reply_markup" not in m]
    [ask] = [m for m in bot.called("sendMessage") if "reply_markup" in m]
    assert reply["text"] == "Уже в пути"
    assert ask["chat_id"] == str(p.USER["id"])
    assert ask["text"].startswith("Вопрос решён")
    [row] = ask["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for b in row] == [
        (str(n), f"csat:{cid}:{n}") for n in range(1, 6)
    ]

    # someone else pressing a forwarded keyboard changes nothing
    stranger = {**p.USER, "id": 424242, "language_code": "en"}
    r = await channel.post(p.callback_update(10, f"csat:{cid}:1", user=stranger))
    assert r.status_code == 200
    assert r.json()["method"] == "answerCallbackQuery"
    assert (await conversation(factory, t, cid))["csat_rating"] is None

    r = await channel.post(p.callback_update(11, f"csat:{cid}:4"))
    assert r.status_code == 200
    assert r.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d911",
        "text": "Спасибо за оценку!",
    }
    assert (await conversation(factory, t, cid))["csat_rating"] == 4
    # garbage and unknown buttons are answered and ignored
    for data in ["csat:x:y", "csat:1", "nothing:1"]:
        r = await channel.post(p.callback_update(12, data))
        assert r.status_code == 200 and r.json()["method"] == "answerCallbackQuery"
    assert (await conversation(factory, t, cid))["csat_rating"] == 4


async def test_english_customer_and_reopened_conversation(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    english = {**p.USER, "id": 31337, "language_code": "en-GB"}
    cid = await resolved_conversation(factory, t, channel, user=english)
    await worker.run_until_idle()
    [ask] = [m for m in bot.called("sendMessage") if "reply_markup" in m]
    assert ask["text"].startswith("Your request is resolved")
    # the customer writes again: the conversation reopens, a late rating is refused
    assert (
        await channel.post(p.text_update(2, 2, "One more thing", user=english))
    ).status_code == 200
    r = await channel.post(p.callback_update(13, f"csat:{cid}:5", user=english))
    assert r.json()["text"].startswith("The conversation is open again")
    assert (await conversation(factory, t, cid))["csat_rating"] is None


async def test_other_channels_get_no_telegram_rating_job(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    inbound = await factory.inbound(t)
    cid = inbound["conversation_id"]
    r = await factory.client.patch(
        f"/api/v1/conversations/{cid}", headers=t.operator, json={"status": "resolved"}
    )
    assert r.status_code == 200
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    assert [j for j in r.json() if j["kind"] == "telegram.csat"] == []


async def test_poller_answers_the_button_itself(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot, mode="poll")
    services = factory.services
    async with services.db.reader() as session:
        runtime = await channels.runtime_for(
            session, TenantScope(t.id), services.secret_box, uuid.UUID(channel.id)
        )
    bot.push_update(p.text_update(1, 1, "Спасибо"))
    assert await poll_once(services.db, runtime, services.adapter_options, long_poll=0) == 1
    [conv] = await conversations(factory, t)
    r = await factory.client.patch(
        f"/api/v1/conversations/{conv['id']}", headers=t.operator, json={"status": "resolved"}
    )
    assert r.status_code == 200
    await worker.run_until_idle()
    bot.push_update(p.callback_update(2, f"csat:{conv['id']}:5"))
    assert await poll_once(services.db, runtime, services.adapter_options, long_poll=0) == 1
    [answer] = bot.called("answerCallbackQuery")
    assert answer == {"callback_query_id": "4382bfdwdsb323b2d92", "text": "Спасибо за оценку!"}
    assert (await conversation(factory, t, conv["id"]))["csat_rating"] == 5
