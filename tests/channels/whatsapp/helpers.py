"""Shared steps of the WhatsApp channel tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from frontline.deps import Services
from frontline.models import Message
from tests.channels.whatsapp.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraph,
    sign,
)
from tests.conftest import Factory, TenantFixture


async def whatsapp_channel(factory: Factory, t: TenantFixture, graph: FakeGraph | None) -> str:
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={
            "type": "whatsapp",
            "name": "WhatsApp",
            "config": {
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "graph_base_url": graph.base if graph else "https://graph.facebook.com",
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["config"]["access_token"] == "**********"
    return str(r.json()["id"])


async def post_webhook(
    client: httpx.AsyncClient, channel_id: str, body: dict[str, Any] | bytes, **headers: str
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        f"/api/v1/webhooks/whatsapp/{channel_id}", content=raw, headers={**sign(raw), **headers}
    )


async def message_count(services: Services) -> int:
    async with services.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(Message))).scalar_one())


async def conversations(factory: Factory, t: TenantFixture, channel_id: str) -> list[Any]:
    r = await factory.client.get(
        "/api/v1/conversations", headers=t.operator, params={"channel_id": channel_id}
    )
    assert r.status_code == 200, r.text
    data = r.json()
    return list(data["items"] if isinstance(data, dict) else data)


async def thread(factory: Factory, t: TenantFixture, conversation_id: int) -> list[Any]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    return list(r.json())
