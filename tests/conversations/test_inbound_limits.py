"""Per-contact and per-tenant rate limits on inbound messages (frontline.conversations.limits):
the REST API and the customer API refuse a flood with 429 + Retry-After and store nothing;
the e-mail webhook (a provider) still gets its 2xx and the message is stored, but the AI is
not asked to answer it; the counts are shared through Redis by several API processes."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from frontline import events
from frontline.app import create_app
from frontline.deps import Services
from frontline.kit.crypto import sign
from frontline.models import Job, Message
from frontline.settings import Settings
from tests.conftest import Factory, TenantFixture
from tests.customers.test_customer_api import mint, web_channel

pytestmark = pytest.mark.usefixtures("fresh_rate_window")

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")
CONTACT_LIMIT = 3
TENANT_LIMIT = 8


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "inbound_contact_messages_per_minute": CONTACT_LIMIT,
            "inbound_tenant_messages_per_minute": TENANT_LIMIT,
        }
    )


async def api_send(
    client: httpx.AsyncClient, t: TenantFixture, contact: str, text: str = "Hello"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/channels/{t.api_channel_id}/messages",
        headers=t.api_channel,
        json={"external_id": uuid.uuid4().hex, "contact": {"external_id": contact}, "text": text},
    )


async def count(services: Services, model: Any, *where: Any) -> int:
    async with services.db.reader() as s:
        return int(
            (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_api_channel_refuses_a_flooding_contact_with_429_and_stores_nothing(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    for _ in range(CONTACT_LIMIT):
        assert (await api_send(factory.client, t, "flood")).status_code == 202
    r = await api_send(factory.client, t, "flood")
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    error = r.json()["error"]
    assert error["code"] == "too_many_requests"
    assert f"at most {CONTACT_LIMIT} a minute" in error["message"]
    assert "contact" in error["message"]
    assert await count(factory.services, Message) == CONTACT_LIMIT
    # another contact of the same workspace is not punished for it
    assert (await api_send(factory.client, t, "calm")).status_code == 202


async def test_a_workspace_flooded_through_many_contacts_is_limited_too(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    for i in range(TENANT_LIMIT):
        assert (await api_send(factory.client, t, f"c{i}")).status_code == 202
    r = await api_send(factory.client, t, "one-more")
    assert r.status_code == 429
    assert "workspace" in r.json()["error"]["message"]
    # the limit is per workspace: another one is unaffected
    assert (await api_send(factory.client, other, "c0")).status_code == 202


async def post_mail(factory: Factory, t: TenantFixture, sender: str, message_id: str) -> int:
    """One signed mail to the tenant's e-mail webhook; its answer's status."""
    raw = json.dumps(
        {
            "from": sender,
            "subject": "hi",
            "text": f"message {message_id}",
            "message_id": f"<{message_id}@example.com>",
        }
    ).encode()
    r = await factory.client.post(
        f"/api/v1/webhooks/email/{t.email_channel_id}",
        content=raw,
        headers={
            "X-Frontline-Signature": sign(t.email_channel_secret, raw),
            "Content-Type": "application/json",
        },
    )
    return r.status_code


async def test_the_email_webhook_stores_a_flood_but_the_ai_answers_only_the_allowed(
    factory: Factory,
) -> None:
    t = await factory.tenant(ai=True)
    statuses = [
        await post_mail(factory, t, "flood@example.com", f"m{i}-{uuid.uuid4().hex}")
        for i in range(CONTACT_LIMIT + 2)
    ]
    # the provider is always acknowledged, so it does not redeliver for hours
    assert statuses == [202] * (CONTACT_LIMIT + 2)
    assert await count(factory.services, Message) == CONTACT_LIMIT + 2
    assert await count(factory.services, Job, Job.kind == events.JOB_AI_REPLY) == CONTACT_LIMIT
    async with factory.services.db.reader() as s:
        marks = [
            m.get("rate_limited")
            for m in (await s.execute(select(Message.meta).order_by(Message.id))).scalars()
        ]
    assert marks == [None] * CONTACT_LIMIT + ["contact", "contact"]


async def test_the_customer_api_refuses_a_flood(factory: Factory) -> None:
    t = await factory.tenant()
    web = await web_channel(factory.services, t)
    headers = mint(web, "user-1")
    url = "/api/v1/customer/conversations"
    r = await factory.client.post(url, json={"text": "first"}, headers=headers)
    assert r.status_code == 201, r.text
    conversation = r.json()["conversation_id"]
    for i in range(CONTACT_LIMIT - 1):
        r = await factory.client.post(
            f"{url}/{conversation}/messages", json={"text": f"again {i}"}, headers=headers
        )
        assert r.status_code == 201, r.text
    r = await factory.client.post(
        f"{url}/{conversation}/messages", json={"text": "too many"}, headers=headers
    )
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert await count(factory.services, Message) == CONTACT_LIMIT


async def test_the_customer_api_documents_its_429(factory: Factory) -> None:
    """The refusal above is part of the contract: both operations that send declare it."""
    paths = (await factory.client.get("/openapi.json")).json()["paths"]
    for path in ("/customer/conversations", "/customer/conversations/{conversation_id}/messages"):
        responses = paths[f"/api/v1{path}"]["post"]["responses"]
        assert "429" in responses, path
        assert "Retry-After" in responses["429"].get("headers", {}), path


@pytest.mark.skipif(not REDIS_URL, reason="FRONTLINE_TEST_REDIS_URL not set")
async def test_two_api_processes_share_the_counts(settings: Settings, factory: Factory) -> None:
    """A contact spreading its flood over two API processes meets one count (Redis)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    stale = [key async for key in redis.scan_iter("frontline:rate:inbound:*")]
    if stale:
        await redis.delete(*stale)
    await redis.aclose()
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    apps = [create_app(shared, run_worker=False) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://testserver")
        for a in apps
    ]
    try:
        t = await factory.tenant()
        contact = f"spread-{uuid.uuid4().hex[:6]}"
        statuses = [
            (await api_send(clients[i % 2], t, contact)).status_code
            for i in range(CONTACT_LIMIT + 2)
        ]
        assert statuses == [202] * CONTACT_LIMIT + [429, 429]
    finally:
        for c, a in zip(clients, apps, strict=True):
            await c.aclose()
            await a.state.services.aclose()


async def test_a_redelivery_is_answered_as_a_duplicate_and_never_uses_up_the_limit(
    factory: Factory,
) -> None:
    """The API channel refuses a flood, but a caller resending a message it already got
    stored (a lost 202) is told it is a duplicate: it is not counted, nor refused."""
    t = await factory.tenant()

    async def send(external_id: str) -> httpx.Response:
        return await factory.client.post(
            f"/api/v1/channels/{t.api_channel_id}/messages",
            headers=t.api_channel,
            json={"external_id": external_id, "contact": {"external_id": "again"}, "text": "Hi"},
        )

    assert [(await send(f"m{i}")).status_code for i in range(CONTACT_LIMIT - 1)] == [202] * (
        CONTACT_LIMIT - 1
    )
    for _ in range(CONTACT_LIMIT + 1):
        r = await send("m0")
        assert r.status_code == 200, r.text
        assert r.json()["duplicate"] is True
    # the redeliveries took nothing from the contact's limit: one new message still fits
    assert (await send("last")).status_code == 202
    assert (await send("over")).status_code == 429
    assert await count(factory.services, Message) == CONTACT_LIMIT


async def test_an_email_webhook_redelivery_does_not_use_up_the_limit(factory: Factory) -> None:
    t = await factory.tenant(ai=True)

    async def deliver(message_id: str) -> int:
        return await post_mail(factory, t, "again@example.com", message_id)

    firsts = [await deliver(f"m{i}") for i in range(CONTACT_LIMIT - 1)]
    redeliveries = [await deliver("m0") for _ in range(CONTACT_LIMIT + 1)]
    last = await deliver("last")
    assert firsts == [202] * (CONTACT_LIMIT - 1)
    assert redeliveries == [200] * (CONTACT_LIMIT + 1)
    assert last == 202
    assert await count(factory.services, Message) == CONTACT_LIMIT
    # every new mail within the limit is answered by the AI; none is marked throttled
    assert await count(factory.services, Job, Job.kind == events.JOB_AI_REPLY) == CONTACT_LIMIT
    async with factory.services.db.reader() as s:
        marks = [m.get("rate_limited") for m in (await s.execute(select(Message.meta))).scalars()]
    assert marks == [None] * CONTACT_LIMIT
