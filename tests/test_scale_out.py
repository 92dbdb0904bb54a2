"""Scale-out on real parts: two API processes and two workers on one PostgreSQL and one
Redis. 2,000 customer messages sent across both API processes each get exactly one AI turn
and exactly one delivery to the channel's callback (no loss, no duplicate), whichever
process took them and whichever worker ran their jobs."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from frontline.deps import Services
from tests.conftest import PG_URL, TEST_SECRET, Factory, empty_tables
from tests.kit.keepalive import Answer, KeepAliveServer, Request, keepalive_server
from tests.kit.liveserver import log_tails, side_services, spawn_frontline, stop_all, wait_healthy
from tests.realtime.conftest import free_port

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")
MESSAGES = int(os.environ.get("FRONTLINE_TEST_SCALE_MESSAGES", "2000"))

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs FRONTLINE_TEST_POSTGRES_URL and _REDIS_URL"
)


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two API processes without workers, and two workers."""
    asyncio.run(empty_tables(postgres_url))
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        # a load test measures throughput, not the abuse limits
        "FRONTLINE_INBOUND_TENANT_MESSAGES_PER_MINUTE": "100000000",
        "FRONTLINE_INBOUND_CONTACT_MESSAGES_PER_MINUTE": "100000000",
        "FRONTLINE_DATABASE_URL": postgres_url,
        "FRONTLINE_REDIS_URL": REDIS_URL or "",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_LEVEL": "WARNING",
        "FRONTLINE_WORKER_POLL_SECONDS": "0.2",
        "FRONTLINE_DATABASE_POOL_SIZE": "10",
    }
    ports = [free_port(), free_port()]
    procs = [
        spawn_frontline(
            [
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-demo",
                "--no-migrate",
                "--no-worker",
            ],
            env,
            tmp_path / f"api-{port}.log",
        )
        for port in ports
    ]
    procs += [spawn_frontline(["worker"], env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        for port in ports:
            wait_healthy(port, procs, tmp_path)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        stop_all(procs)


@pytest.fixture
async def writer(postgres_url: str) -> AsyncIterator[Services]:
    async with side_services(postgres_url) as services:
        yield services


@pytest.mark.slow
async def test_two_api_processes_and_two_workers_answer_each_message_once(
    cluster: list[str], writer: Services, tmp_path: Path
) -> None:
    deliveries: Counter[str] = Counter()

    def answer(request: Request) -> Answer:
        deliveries[request.headers["idempotency-key"]] += 1
        return Answer(200, {"ok": True})

    async with (
        keepalive_server(answer) as receiver,
        httpx.AsyncClient(base_url=cluster[0], timeout=30) as a,
        httpx.AsyncClient(base_url=cluster[1], timeout=30) as b,
    ):
        tenant = await Factory(writer, a).tenant(ai=True, callback_url=f"{receiver.base}/cb")
        gate = asyncio.Semaphore(32)
        accepted: list[int] = []
        resent: list[int] = []

        async def send(i: int) -> None:
            client = (a, b)[i % 2]
            body = {
                "external_id": f"m-{i}",
                "contact": {"external_id": f"customer-{i}"},
                "text": "Сколько стоит тур на Байкал?" if i % 3 else "How much is it?",
            }
            async with gate:
                for attempt in range(3):
                    try:
                        r = await client.post(
                            f"/api/v1/channels/{tenant.api_channel_id}/messages",
                            headers=tenant.api_channel,
                            json=body,
                        )
                        break
                    except httpx.TransportError as exc:
                        # a kept-alive connection the server closed as it was reused: a real
                        # client sends again with the same external_id, which the API dedupes
                        resent.append(i)
                        if attempt == 2:
                            tails = log_tails(tmp_path)
                            raise AssertionError(f"send {i} failed 3 times:\n{tails}") from exc
            # 200 is a resend the first try had already stored
            assert r.status_code in (202, 200) if i in resent else r.status_code == 202, r.text
            accepted.append(r.json()["message_id"])

        started = time.monotonic()
        await asyncio.gather(*(send(i) for i in range(MESSAGES)))
        assert len(set(accepted)) == MESSAGES
        await _until_delivered(receiver, deliveries, MESSAGES, deadline=started + 900)
        await asyncio.sleep(2)  # a late duplicate would show now

    assert len(deliveries) == MESSAGES
    assert max(deliveries.values()) == 1, deliveries.most_common(3)
    async with writer.db.transaction() as session:
        jobs = dict(
            (
                await session.execute(
                    text(
                        "SELECT kind || ':' || status, count(*) FROM jobs "
                        "WHERE tenant_id = :t GROUP BY kind, status"
                    ),
                    {"t": tenant.id},
                )
            ).all()
        )
        replies = (
            await session.execute(
                text(
                    "SELECT count(*), count(DISTINCT conversation_id) FROM messages "
                    "WHERE tenant_id = :t AND sender_type <> 'contact' AND NOT is_internal"
                ),
                {"t": tenant.id},
            )
        ).one()
        workers = (
            await session.execute(
                text(
                    "SELECT count(DISTINCT locked_by) FROM jobs "
                    "WHERE tenant_id = :t AND locked_by IS NOT NULL"
                ),
                {"t": tenant.id},
            )
        ).scalar_one()
    # a handoff also queues the copilot's summary of it: not part of answering, it may still
    # be running, but none may be lost (dead) and there is at most one per conversation
    summaries = {k: jobs.pop(k) for k in list(jobs) if k.startswith("copilot.handoff_summary:")}
    assert set(summaries) <= {
        f"copilot.handoff_summary:{s}" for s in ("queued", "running", "done")
    }, summaries
    assert sum(summaries.values()) <= MESSAGES, summaries
    assert jobs == {"ai.reply:done": MESSAGES, "message.deliver:done": MESSAGES}, jobs
    assert tuple(replies) == (MESSAGES, MESSAGES)  # one reply in each conversation
    assert workers == 2  # both workers took their share (done jobs keep their holder)


async def _until_delivered(
    receiver: KeepAliveServer, deliveries: Counter[str], expected: int, deadline: float
) -> None:
    while len(deliveries) < expected:
        assert time.monotonic() < deadline, f"{len(deliveries)} of {expected} delivered"
        await asyncio.sleep(0.5)
