"""The AI log: recording calls, listing and filtering through the API, retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from frontline.aisettings import jobs as ai_jobs
from frontline.aisettings import service
from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import AiCall, Job
from tests.conftest import Factory, TenantFixture

API = "/api/v1"
URL = f"{API}/ai/calls"


async def record(
    services: Services, t: TenantFixture, *, age_days: float = 0, **fields: Any
) -> int:
    values: dict[str, Any] = {
        "provider": "openrouter",
        "model": "openai/gpt-4o",
        "prompt": [{"role": "user", "content": "Hello"}],
        "answer": "Hi!",
        "decision": "full_answer",
        "tokens_in": 12,
        "tokens_out": 3,
        "latency_ms": 210.4,
        "cost": 0.0004,
        **fields,
    }
    async with services.db.transaction() as session:
        call = await service.record_call(session, TenantScope(t.id), **values)
        if age_days:
            call.created_at = utcnow() - timedelta(days=age_days)
            await session.flush()
        return call.id


async def listing(client: httpx.AsyncClient, t: TenantFixture, **params: Any) -> list[int]:
    r = await client.get(URL, params=params, headers=t.owner)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_list_filter_and_detail(factory: Factory, services: Services) -> None:
    t = await factory.tenant(ai=True)
    inbound = await factory.inbound(t, text="When do you open?")
    conversation_id = inbound["conversation_id"]
    old = await record(services, t, age_days=2, conversation_id=conversation_id)
    failed = await record(
        services,
        t,
        provider="gigachat",
        model="GigaChat",
        answer="",
        decision=None,
        error="RateLimited: HTTP 429",
        tokens_in=0,
        tokens_out=0,
        cost=None,
    )
    escalated = await record(
        services,
        t,
        provider="offline",
        model="offline",
        decision="escalate_to_human",
        conversation_id=conversation_id,
        message_id=inbound["message_id"],
        prompt="plain text prompt",
    )

    assert await listing(factory.client, t) == [escalated, failed, old]  # newest first
    assert await listing(factory.client, t, conversation_id=conversation_id) == [escalated, old]
    assert await listing(factory.client, t, provider="gigachat") == [failed]
    assert await listing(factory.client, t, decision="escalate_to_human") == [escalated]
    assert await listing(factory.client, t, errors_only="true") == [failed]
    day_ago = (utcnow() - timedelta(days=1)).isoformat()
    assert await listing(factory.client, t, since=day_ago) == [escalated, failed]
    assert await listing(factory.client, t, until=day_ago) == [old]

    # cursor pagination walks everything once, newest first
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await factory.client.get(URL, params=params, headers=t.owner)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [escalated, failed, old]
    r = await factory.client.get(URL, params={"cursor": "garbage!"}, headers=t.owner)
    assert r.status_code == 422, r.text

    r = await factory.client.get(f"{URL}/{escalated}", headers=t.owner)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["prompt"] == "plain text prompt"
    assert detail["decision"] == "escalate_to_human"
    assert detail["conversation_id"] == conversation_id
    assert detail["message_id"] == inbound["message_id"]
    r = await factory.client.get(f"{URL}/{old}", headers=t.owner)
    data = r.json()
    assert data["prompt"] == [{"role": "user", "content": "Hello"}]
    assert (data["tokens_in"], data["tokens_out"], data["latency_ms"]) == (12, 3, 210)
    assert data["cost"] == 0.0004
    assert data["created_at"]
    r = await factory.client.get(f"{URL}/{failed}", headers=t.owner)
    assert r.json()["error"] == "RateLimited: HTTP 429"


async def test_admins_only_and_other_tenants_calls_are_404(
    factory: Factory, services: Services
) -> None:
    a = await factory.tenant(ai=True)
    b = await factory.tenant(ai=True)
    a_call = await record(services, a, answer="Secret of tenant A")
    b_call = await record(services, b)
    r = await factory.client.get(URL, headers=a.operator)
    assert r.status_code == 403, r.text
    r = await factory.client.get(f"{URL}/{a_call}", headers=a.operator)
    assert r.status_code == 403, r.text

    r = await factory.client.get(f"{URL}/{a_call}", headers=b.owner)
    assert r.status_code == 404, r.text
    assert "Secret of tenant A" not in r.text
    assert await listing(factory.client, b) == [b_call]
    for bad in ("0", "-1", str(2**63), "abc"):
        r = await factory.client.get(f"{URL}/{bad}", headers=b.owner)
        assert r.status_code == 422, (bad, r.text)
    r = await factory.client.get(f"{URL}/{b_call + 1000}", headers=b.owner)
    assert r.status_code == 404, r.text


async def test_purge_deletes_only_expired_rows_of_the_right_tenant(
    factory: Factory, services: Services
) -> None:
    short = await factory.tenant(ai=True)  # keeps 7 days
    default = await factory.tenant(ai=True)  # no settings row: 90 days
    long = await factory.tenant(ai=True)  # keeps 365 days
    for t, days in ((short, 7), (long, 365)):
        r = await factory.client.put(
            f"{API}/ai/settings", json={"log_retention_days": days}, headers=t.owner
        )
        assert r.status_code == 200, r.text

    keep: set[int] = set()
    drop: set[int] = set()
    keep.add(await record(services, short, age_days=1))
    drop.add(await record(services, short, age_days=8))
    keep.add(await record(services, default, age_days=8))
    keep.add(await record(services, default, age_days=89))
    drop.add(await record(services, default, age_days=91))
    keep.add(await record(services, long, age_days=91))
    keep.add(await record(services, long, age_days=364))
    drop.add(await record(services, long, age_days=400))

    async with services.db.transaction() as session:
        deleted = await service.purge_expired(session, utcnow())
    assert deleted == len(drop)
    async with services.db.transaction() as session:
        left = set((await session.execute(select(AiCall.id))).scalars())
    assert left == keep


async def test_purge_job_kind(factory: Factory, services: Services, worker: Worker) -> None:
    t = await factory.tenant(ai=True)
    expired = await record(services, t, age_days=100)
    fresh = await record(services, t)
    # the application registers the purge job kind with its worker
    assert services.jobs.get(ai_jobs.JOB_AI_LOG_PURGE) is not None
    async with services.db.transaction() as session:
        job = queue.enqueue(session, ai_jobs.JOB_AI_LOG_PURGE, {})
        await session.flush()
        job_id = job.id
    await worker.run_until_idle()
    async with services.db.transaction() as session:
        left = set((await session.execute(select(AiCall.id))).scalars())
        status = (await session.execute(select(Job.status).where(Job.id == job_id))).scalar_one()
    assert left == {fresh} and expired not in left
    assert status == "done"
