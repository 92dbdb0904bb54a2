"""What the console's Telegram set-up relies on: a test alert that reaches the staff chat
or fails with Telegram's own words, alerts switched off without losing their settings,
members listed with their linked Telegram ids, and a Telegram channel's inbound state as
Telegram reports it (``getWebhookInfo``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import create_channel
from tests.channels.telegram.fakebot import ALERT_BOT_TOKEN, FakeBotApi, fake_bot_api
from tests.channels.telegram.test_alerts import STAFF_CHAT, escalated, set_alerts
from tests.conftest import Factory


@pytest.fixture
async def alert_bot() -> AsyncIterator[FakeBotApi]:
    async with fake_bot_api(ALERT_BOT_TOKEN) as api:
        yield api


async def test_the_test_alert_reaches_the_chat_or_shows_telegrams_reason(
    factory: Factory, alert_bot: FakeBotApi
) -> None:
    t = await factory.tenant()
    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.owner)
    assert r.status_code == 422 and "not set up" in r.json()["error"]["message"]
    assert (await set_alerts(factory, t, alert_bot)).status_code == 200
    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.operator)
    assert r.status_code == 403

    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.owner)
    assert r.status_code == 200, r.text
    [sent] = alert_bot.called("sendMessage")
    assert sent["chat_id"] == STAFF_CHAT and "Frontline" in sent["text"]
    assert r.json() == {"ok": True, "chat_id": STAFF_CHAT, "message_id": alert_bot.next_message_id}

    alert_bot.fail("sendMessage", 400, "Bad Request: chat not found")
    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.owner)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "telegram_refused"
    assert "chat not found" in error["message"]
    alert_bot.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.owner)
    assert r.status_code == 422 and "bot was kicked" in r.json()["error"]["message"]


async def test_switched_off_alerts_keep_their_settings_and_post_nothing(
    factory: Factory, bot: FakeBotApi, alert_bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    r = await set_alerts(factory, t, alert_bot, enabled=False)
    assert r.status_code == 200, r.text
    assert (r.json()["configured"], r.json()["enabled"]) == (True, False)
    await escalated(factory, t, channel)
    await worker.run_until_idle()
    assert alert_bot.called("sendMessage") == []
    # the test alert still goes out while switched off (to check before switching on)
    r = await factory.client.post("/api/v1/telegram/alerts/test", headers=t.owner)
    assert r.status_code == 200, r.text

    # switched on again without re-entering the token
    r = await factory.client.put(
        "/api/v1/telegram/alerts",
        headers=t.owner,
        json={"chat_id": STAFF_CHAT, "api_base_url": alert_bot.base, "enabled": True},
    )
    assert r.status_code == 200 and r.json()["enabled"] is True
    update = p.text_update(2, 2, "Позовите оператора, пожалуйста", user={**p.USER, "id": 4242})
    assert (await channel.post(update)).status_code == 200
    await worker.run_until_idle()
    assert [m for m in alert_bot.called("sendMessage") if "reply_markup" in m]


async def test_members_show_their_linked_telegram_ids(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.put(
        f"/api/v1/members/{t.operator_id}/telegram",
        headers=t.owner,
        json={"telegram_user_id": 70001},
    )
    assert r.status_code == 204, r.text
    r = await factory.client.get("/api/v1/members", headers=t.owner)
    linked = {m["email"]: m["telegram_user_id"] for m in r.json()}
    assert linked == {t.operator_email: 70001, t.owner_email: None}
    # one member per Telegram user
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram", headers=t.owner, json={"telegram_user_id": 70001}
    )
    assert r.status_code == 409
    r = await factory.client.put(
        f"/api/v1/members/{t.owner_id}/telegram", headers=t.owner, json={"telegram_user_id": -5}
    )
    assert r.status_code == 422


async def test_telegram_channel_state_is_what_telegram_reports(
    factory: Factory, bot: FakeBotApi, settings: Settings
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    expected = f"{settings.public_url}/api/v1/webhooks/telegram/{channel.id}"
    url = f"/api/v1/channels/{channel.id}/telegram"
    r = await factory.client.get(url, headers=t.owner)
    assert r.status_code == 200, r.text
    state = r.json()
    assert (state["mode"], state["expected_url"], state["webhook_url"]) == (
        "webhook",
        expected,
        expected,
    )
    assert (state["healthy"], state["pending_update_count"], state["error"]) == (True, 0, None)
    # another workspace's admin does not see it, an operator of this one neither
    other = await factory.tenant()
    for path in ("telegram", "health"):
        r = await factory.client.get(f"/api/v1/channels/{channel.id}/{path}", headers=other.owner)
        assert r.status_code == 404, (path, r.text)
        r = await factory.client.get(f"/api/v1/channels/{channel.id}/{path}", headers=t.operator)
        assert r.status_code == 403, (path, r.text)

    # Telegram cannot reach us: it says so, with updates piling up
    bot.webhook_error = (1_765_000_000, "Connection refused")
    bot.pending_updates = 7
    state = (await factory.client.get(url, headers=t.owner)).json()
    assert state["healthy"] is False
    assert state["last_error_message"] == "Connection refused"
    assert state["pending_update_count"] == 7
    assert state["last_error_at"].startswith("2025-12-06")

    # a revoked token: Telegram's refusal is the state, not a 500
    bot.fail("getWebhookInfo", 401, "Unauthorized")
    state = (await factory.client.get(url, headers=t.owner)).json()
    assert state["healthy"] is False and "Unauthorized" in state["error"]

    # poll mode: no webhook may be set (getUpdates would get 409)
    r = await factory.client.patch(
        f"/api/v1/channels/{channel.id}", headers=t.owner, json={"config": {"mode": "poll"}}
    )
    assert r.status_code == 200, r.text
    bot.webhook_error = None
    state = (await factory.client.get(url, headers=t.owner)).json()
    assert (state["mode"], state["webhook_url"], state["healthy"]) == ("poll", None, True)
    bot.webhook_url = "https://elsewhere.example.com/hook"
    state = (await factory.client.get(url, headers=t.owner)).json()
    assert state["healthy"] is False and "getUpdates" in state["error"]
