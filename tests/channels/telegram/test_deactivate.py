"""A Telegram channel switched off calls ``deleteWebhook`` at Telegram, from a durable job:
the admin's change never waits on Telegram, and Telegram's failure is retried and logged
without undoing or blocking the change."""

from __future__ import annotations

import logging

import pytest

from frontline.jobs.worker import Worker
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import create_channel, run_jobs_until
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory, TenantFixture


async def _switch(factory: Factory, t: TenantFixture, channel_id: str, active: bool) -> None:
    r = await factory.client.patch(
        f"/api/v1/channels/{channel_id}", headers=t.owner, json={"is_active": active}
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is active


async def _jobs(factory: Factory, t: TenantFixture) -> list[dict[str, object]]:
    r = await factory.client.get("/api/v1/jobs", headers=t.owner)
    assert r.status_code == 200, r.text
    return [j for j in r.json() if j["kind"] == "telegram.delete_webhook"]


async def test_deactivating_calls_delete_webhook_from_a_job(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    await _switch(factory, t, channel.id, False)
    # the change answered without calling Telegram: the job does
    assert bot.called("deleteWebhook") == []
    [job] = await _jobs(factory, t)
    assert job["status"] == "queued"
    await worker.run_until_idle()
    assert bot.called("deleteWebhook") == [{"drop_pending_updates": False}]
    [job] = await _jobs(factory, t)
    assert job["status"] == "done"
    # the webhook of a switched-off channel is refused
    assert (await channel.post(p.text_update(5, 50, "hi"))).status_code == 404

    # switching it on again sets the webhook again; saving it while inactive queues nothing
    await _switch(factory, t, channel.id, True)
    assert len(bot.called("setWebhook")) == 2
    await _switch(factory, t, channel.id, True)
    assert len(await _jobs(factory, t)) == 1


async def test_a_channel_switched_on_again_before_the_job_keeps_its_webhook(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    await _switch(factory, t, channel.id, False)
    await _switch(factory, t, channel.id, True)
    await worker.run_until_idle()
    assert bot.called("deleteWebhook") == []
    assert (await channel.post(p.text_update(6, 60, "hi"))).status_code == 200


async def test_telegram_failure_is_retried_then_logged_and_blocks_nothing(
    factory: Factory, bot: FakeBotApi, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    t = await factory.tenant()
    channel = await create_channel(factory, t, bot)
    bot.fail("deleteWebhook", 502, "Bad Gateway")
    bot.fail("deleteWebhook", 401, "Unauthorized")  # e.g. the token was revoked meanwhile
    await _switch(factory, t, channel.id, False)

    async def dead() -> bool:
        return [j["status"] for j in await _jobs(factory, t)] == ["dead"]

    with caplog.at_level(logging.WARNING):
        await run_jobs_until(worker, dead)
    assert len(bot.called("deleteWebhook")) == 2  # the 502 retried, the 401 final
    [job] = await _jobs(factory, t)
    assert job["status"] == "dead"
    assert "Unauthorized" in str(job["last_error"])
    failures = [r for r in caplog.records if r.getMessage() == "Telegram deleteWebhook failed"]
    assert len(failures) == 2
    r = await factory.client.get(f"/api/v1/channels/{channel.id}", headers=t.owner)
    assert r.json()["is_active"] is False
