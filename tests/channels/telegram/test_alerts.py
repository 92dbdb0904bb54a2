"""Operator alerts in Telegram: the workspace's alert bot posts each handoff to the staff
chat (a durable job: a Telegram outage never blocks inbound messages) and its "Accept"
button assigns the conversation to the member linked to the presser's Telegram account."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from frontline.channels.telegram import alerts
from frontline.channels.telegram.poll import poll_alerts_once
from frontline.conversations import service as conversations_service
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.settings import Settings
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import TelegramChannel, conversations, create_channel
from tests.channels.telegram.fakebot import ALERT_BOT_TOKEN, FakeBotApi, fake_bot_api
from tests.conftest import Factory, TenantFixture

STAFF_CHAT = "-1001234567890"
OPERATOR_TG = {**p.USER, "id": 70001, "first_name": "Оля", "last_name": "", "username": "olya"}


@pytest.fixture
async def alert_bot() -> AsyncIterator[FakeBotApi]:
    async with fake_bot_api(ALERT_BOT_TOKEN) as api:
        yield api


async def set_alerts(
    factory: Factory, t: TenantFixture, alert_bot: FakeBotApi, **extra: Any
) -> Any:
    return await factory.client.put(
        "/api/v1/telegram/alerts",
        headers=t.owner,
        json={
            "bot_token": ALERT_BOT_TOKEN,
            "chat_id": STAFF_CHAT,
            "api_base_url": alert_bot.base,
            **extra,
        },
    )


async def press(
    factory: Factory, t: TenantFixture, secret: str, data: str, user: dict[str, Any]
) -> Any:
    update = p.callback_update(900, data, user=user, chat_id=int(STAFF_CHAT))
    return await factory.client.post(
        f"/api/v1/webhooks/telegram-alerts/{t.id}",
        content=json.dumps(update),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )


async def escalated(factory: Factory, t: TenantFixture, channel: TelegramChannel) -> int:
    r = await channel.post(p.text_update(1, 1, "Позовите оператора, пожалуйста"))
    assert r.status_code == 200
    [conversation] = await conversations(factory, t)
    return int(conversation["id"])


async def test_settings_are_validated_and_set_the_webhook(
    factory: Factory, alert_bot: FakeBotApi, settings: Settings
) -> None:
    t = await factory.tenant()
    r = await factory.client.get("/api/v1/telegram/alerts", headers=t.owner)
    assert r.json()["enabled"] is False
    for bad in [{"chat_id": "staff chat"}, {"bot_token": "nope"}]:
        r = await set_alerts(factory, t, alert_bot, **bad)
        assert r.status_code == 422, bad
    r = await factory.client.put(
        "/api/v1/telegram/alerts",
        headers=t.owner,
        json={"chat_id": STAFF_CHAT, "api_base_url": alert_bot.base},
    )
    assert r.status_code == 422 and "bot_token is required" in r.json()["error"]["message"]
    alert_bot.fail("setWebhook", 401, "Unauthorized")
    r = await set_alerts(factory, t, alert_bot)
    assert r.status_code == 422 and "Unauthorized" in r.json()["error"]["message"]
    assert (await factory.client.get("/api/v1/telegram/alerts", headers=t.owner)).json()[
        "enabled"
    ] is False
    # operators may not change it
    r = await factory.client.put(
        "/api/v1/telegram/alerts", headers=t.operator, json={"chat_id": STAFF_CHAT}
    )
    assert r.status_code == 403

    r = await set_alerts(factory, t, alert_bot)
    assert r.status_code == 200, r.text
    hook_url = f"{settings.public_url}/api/v1/webhooks/telegram-alerts/{t.id}"
    assert r.json() == {
        "configured": True,
        "enabled": True,
        "chat_id": STAFF_CHAT,
        "api_base_url": alert_bot.base + "/",
        "mode": "webhook",
        "bot_token": "**********",
        "webhook_url": hook_url,
    }
    hook = alert_bot.called("setWebhook")[-1]
    assert hook["url"] == hook_url and hook["allowed_updates"] == ["callback_query"]
    # saved again without the token: the stored token and secret are kept
    r = await factory.client.put(
        "/api/v1/telegram/alerts",
        headers=t.owner,
        json={"chat_id": "@staff_room", "api_base_url": alert_bot.base},
    )
    assert r.status_code == 200 and r.json()["chat_id"] == "@staff_room"
    assert alert_bot.called("setWebhook")[-1]["secret_token"] == hook["secret_token"]
    r = await factory.client.delete("/api/v1/telegram/alerts", headers=t.owner)
    assert r.status_code == 204
    assert (await factory.client.get("/api/v1/telegram/alerts", headers=t.owner)).json()[
        "enabled"
    ] is False


async def test_handoff_alert_and_accept_assigns_the_linked_operator(
    factory: Factory, bot: FakeBotApi, alert_bot: FakeBotApi, worker: Worker, settings: Settings
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    assert (await set_alerts(factory, t, alert_bot)).status_code == 200
    secret = alert_bot.called("setWebhook")[-1]["secret_token"]
    # the operator links their own Telegram account
    r = await factory.client.put(
        f"/api/v1/members/{t.operator_id}/telegram",
        headers=t.operator,
        json={"telegram_user_id": OPERATOR_TG["id"]},
    )
    assert r.status_code == 204, r.text

    cid = await escalated(factory, t, channel)
    await worker.run_until_idle()
    [alert] = alert_bot.called("sendMessage")
    assert alert["chat_id"] == STAFF_CHAT
    assert alert["parse_mode"] == "HTML"
    assert "Нужен оператор" in alert["text"] and f"#{cid}" in alert["text"]
    assert "Ирина Соколова" in alert["text"]
    assert "Telegram (telegram)" in alert["text"]
    assert f"{settings.public_url}/console/conversations/{cid}" in alert["text"]
    # the copilot's handoff summary (a job beside the alert's) is what an alert shows
    # once it is ready, with what the customer still needs
    detail = (await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.owner)).json()
    stored = detail["meta"]["handoff_summary"]
    async with factory.services.db.reader() as session:
        scope = TenantScope(t.id)
        conversation = await conversations_service.get(session, scope, cid)
        shown = await alerts.summary_for_alert(session, scope, conversation)
    assert shown.startswith(stored["summary"]) and "Передан оператору" in shown
    assert all(f"• {need}" in shown for need in stored["needs"])
    [[button]] = alert["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Принять", "callback_data": f"accept:{cid}"}

    # a stranger's press and a wrong secret change nothing
    stranger = {**p.USER, "id": 1234}
    r = await press(factory, t, secret, f"accept:{cid}", stranger)
    assert r.status_code == 200
    assert "не привязан" in r.json()["text"]
    r = await press(factory, t, "wrong", f"accept:{cid}", OPERATOR_TG)
    assert r.status_code == 401
    r = await factory.client.post(
        f"/api/v1/webhooks/telegram-alerts/{uuid.uuid4()}",
        json=p.callback_update(1, "accept:1"),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert r.status_code == 404
    detail = (await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.owner)).json()
    assert (detail["status"], detail["assignee_id"]) == ("pending", None)

    r = await press(factory, t, secret, f"accept:{cid}", OPERATOR_TG)
    assert r.status_code == 200
    assert r.json()["method"] == "answerCallbackQuery"
    assert r.json()["text"] == "Диалог назначен на вас."
    detail = (await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.owner)).json()
    assert (detail["status"], detail["assignee_id"]) == ("open", str(t.operator_id))

    # the owner, linked too, is late
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram",
        headers=t.owner,
        json={"telegram_user_id": 70002},
    )
    assert r.status_code == 204
    r = await press(factory, t, secret, f"accept:{cid}", {**OPERATOR_TG, "id": 70002})
    assert r.json()["text"] == "Диалог уже у другого оператора."


async def test_linking_rules(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram", headers=t.operator, json={"telegram_user_id": 5}
    )
    assert r.status_code == 403
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram", headers=t.owner, json={"telegram_user_id": 5}
    )
    assert r.status_code == 204
    r = await factory.client.put(
        f"/api/v1/members/{t.operator_id}/telegram", headers=t.owner, json={"telegram_user_id": 5}
    )
    assert r.status_code == 409
    for bad in [{"telegram_user_id": -5}, {"telegram_user_id": "abc"}, {}]:
        r = await factory.client.put(
            f"/api/v1/members/{t.operator_id}/telegram", headers=t.owner, json=bad
        )
        assert r.status_code == 422, bad
    r = await factory.client.put(
        f"/api/v1/members/{uuid.uuid4()}/telegram", headers=t.owner, json={"telegram_user_id": 6}
    )
    assert r.status_code == 404
    # unlinking frees the Telegram id
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram", headers=t.owner, json={"telegram_user_id": None}
    )
    assert r.status_code == 204
    r = await factory.client.put(
        f"/api/v1/members/{t.operator_id}/telegram", headers=t.owner, json={"telegram_user_id": 5}
    )
    assert r.status_code == 204


async def test_alert_bot_outage_never_blocks_inbound(
    factory: Factory, bot: FakeBotApi, alert_bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    assert (await set_alerts(factory, t, alert_bot)).status_code == 200
    for _ in range(3):
        alert_bot.fail("sendMessage", 502, "Bad Gateway")
    cid = await escalated(factory, t, channel)
    await worker.run_until_idle(max_rounds=3)
    # the customer was answered on their channel even though the alert bot is down
    assert bot.called("sendMessage")
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    [job] = [j for j in r.json() if j["kind"] == "telegram.handoff_alert"]
    assert job["status"] in ("queued", "done")
    assert job["attempts"] >= 1 and "502" in (job["last_error"] or "")
    detail = (await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.owner)).json()
    assert detail["status"] == "pending"


async def test_no_alert_job_without_the_setting(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    await escalated(factory, t, channel)
    await worker.run_until_idle()
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    assert [j for j in r.json() if j["kind"] == "telegram.handoff_alert"] == []
    detail = (await conversations(factory, t))[0]
    assert detail["status"] == "pending"


async def test_alert_bot_in_poll_mode(
    factory: Factory, bot: FakeBotApi, alert_bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    r = await set_alerts(factory, t, alert_bot, mode="poll")
    assert r.status_code == 200 and r.json()["mode"] == "poll"
    assert alert_bot.called("setWebhook") == []
    assert alert_bot.called("deleteWebhook") == [{"drop_pending_updates": False}]
    r = await factory.client.put(
        f"/api/v1/members/{t.operator_id}/telegram",
        headers=t.owner,
        json={"telegram_user_id": OPERATOR_TG["id"]},
    )
    assert r.status_code == 204
    cid = await escalated(factory, t, channel)
    await worker.run_until_idle()
    assert len(alert_bot.called("sendMessage")) == 1

    services = factory.services
    alert_bot.push_update(p.callback_update(300, f"accept:{cid}", user=OPERATOR_TG))
    done = await poll_alerts_once(
        services.db, services.secret_box, t.id, call_seconds=2.0, long_poll=0
    )
    assert done == 1
    [answer] = alert_bot.called("answerCallbackQuery")
    assert answer["text"] == "Диалог назначен на вас."
    detail = (await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.owner)).json()
    assert (detail["status"], detail["assignee_id"]) == ("open", str(t.operator_id))
    # the offset was kept: the next round asks past the handled update
    await poll_alerts_once(services.db, services.secret_box, t.id, call_seconds=2.0, long_poll=0)
    assert alert_bot.called("getUpdates")[-1]["offset"] == 301
    assert alert_bot.called("getUpdates")[0]["allowed_updates"] == ["callback_query"]
