"""Shared steps of the copilot tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from frontline.deps import Services
from frontline.models import AiCall, Contact, Conversation, Message
from tests.ai.fakes import FakeLLMServer
from tests.conftest import Factory, TenantFixture

PRICES = """# Цены

## Байкал
Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека. Авиабилеты в цену не входят.

## Отмена
Отмена бесплатна за 30 дней до начала тура.
"""


async def knowledge(factory: Factory, t: TenantFixture, worker: Any) -> None:
    r = await factory.client.post(
        "/api/v1/knowledge/documents",
        headers=t.owner,
        files={"file": ("prices.md", PRICES.encode())},
    )
    assert r.status_code == 202, r.text
    await worker.run_until_idle()


async def use_llm(factory: Factory, t: TenantFixture, llm: FakeLLMServer) -> None:
    body = {
        "provider_chain": [
            {
                "kind": "openai_compatible",
                "model": "m-1",
                "config": {"base_url": f"{llm.base}/openai/v1"},
            }
        ],
        "ai_enabled": False,  # a person handles the conversation; the copilot helps
    }
    r = await factory.client.put("/api/v1/ai/settings", headers=t.owner, json=body)
    assert r.status_code == 200, r.text


async def copilot(
    client: httpx.AsyncClient, t: TenantFixture, cid: int, action: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{cid}/copilot/{action}", headers=t.operator, json=body
    )


async def calls(services: Services, t: TenantFixture) -> list[AiCall]:
    async with services.db.transaction() as s:
        stmt = select(AiCall).where(AiCall.tenant_id == t.id).order_by(AiCall.id)
        return list((await s.execute(stmt)).scalars())


async def message_count(services: Services, cid: int) -> int:
    async with services.db.transaction() as s:
        rows = (await s.execute(select(Message.id).where(Message.conversation_id == cid))).all()
        return len(rows)


async def empty_conversation(services: Services, t: TenantFixture) -> int:
    async with services.db.transaction() as s:
        contact = Contact(id=uuid.uuid4(), tenant_id=t.id)
        s.add(contact)
        await s.flush()
        conversation = Conversation(
            tenant_id=t.id, channel_id=uuid.UUID(t.api_channel_id), contact_id=contact.id
        )
        s.add(conversation)
        await s.flush()
        return conversation.id


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out
