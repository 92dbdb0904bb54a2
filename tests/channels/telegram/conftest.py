"""Telegram test fixtures: a local fake Bot API and a Telegram channel created over the
real admin API (which calls ``setWebhook`` on the fake)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from frontline.jobs.worker import Worker
from tests.channels.telegram.fakebot import BOT_TOKEN, FakeBotApi, fake_bot_api
from tests.conftest import Factory, TenantFixture


@pytest.fixture
async def bot() -> AsyncIterator[FakeBotApi]:
    async with fake_bot_api() as api:
        yield api


@dataclass
class TelegramChannel:
    id: str
    secret: str
    client: httpx.AsyncClient

    @property
    def url(self) -> str:
        return f"/api/v1/webhooks/telegram/{self.id}"

    async def post(self, update: Any, secret: str | None = None) -> httpx.Response:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        return await self.client.post(
            self.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret,
            },
        )


async def create_channel(
    factory: Factory, t: TenantFixture, bot: FakeBotApi, **config: Any
) -> TelegramChannel:
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={
            "type": "telegram",
            "name": "Telegram",
            "config": {
                "bot_token": BOT_TOKEN,
                "api_base_url": bot.base,
                "chat_pacing_seconds": 0.05,
                **config,
            },
        },
    )
    assert r.status_code == 201, r.text
    return TelegramChannel(r.json()["id"], r.json()["secret"], factory.client)


async def run_jobs_until(
    worker: Worker, done: Callable[[], Awaitable[bool]], timeout: float = 5.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await worker.run_until_idle()
        if await done():
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def conversations(factory: Factory, t: TenantFixture) -> list[dict[str, Any]]:
    r = await factory.client.get("/api/v1/conversations", headers=t.operator)
    assert r.status_code == 200, r.text
    data = r.json()
    items: list[dict[str, Any]] = data["items"] if isinstance(data, dict) else data
    return items


async def messages(
    factory: Factory, t: TenantFixture, conversation_id: int
) -> list[dict[str, Any]]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result
