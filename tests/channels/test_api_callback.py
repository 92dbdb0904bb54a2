"""The API channel's outbound path end to end: an operator reply is POSTed by the real job
worker, as signed JSON, to a real HTTP server listening on 127.0.0.1; failures are retried
or end ``failed``/``dead``, and a dead job can be re-queued over the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from frontline.jobs.worker import Worker
from frontline.kit.crypto import SignatureError, verify_signature
from frontline.settings import Settings
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer, KeepAliveServer, Request, keepalive_server

OUTBOUND_TIMEOUT = 0.5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest settings with a short outbound timeout, so a stalled callback is quick."""
    return settings.model_copy(update={"outbound_timeout_seconds": OUTBOUND_TIMEOUT})


@dataclass
class CallbackServer:
    """The channel's callback endpoint: answers from ``script`` in turn, then 200."""

    server: KeepAliveServer
    script: list[Answer]

    @property
    def url(self) -> str:
        return f"{self.server.base}/hooks/frontline"

    @property
    def received(self) -> list[Request]:
        return self.server.requests


@pytest.fixture
async def callback() -> AsyncIterator[CallbackServer]:
    script: list[Answer] = []

    def answer(_request: Request) -> Answer:
        return script.pop(0) if script else Answer(body=b'{"ok": true}')

    async with keepalive_server(answer) as server:
        yield CallbackServer(server, script)


# --- helpers -------------------------------------------------------------------------------


async def conversation_with_reply(factory: Factory, t: TenantFixture, text: str) -> tuple[int, int]:
    """A customer message on the API channel and an operator's reply; (conversation, reply)."""
    inbound = await factory.inbound(t, contact="cust-42", text="Do you have rooms?")
    conversation_id = int(inbound["conversation_id"])
    r = await factory.client.post(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator, json={"text": text}
    )
    assert r.status_code == 201, r.text
    assert r.json()["delivery_status"] == "queued"
    return conversation_id, int(r.json()["id"])


async def message(
    factory: Factory, t: TenantFixture, conversation_id: int, message_id: int
) -> dict[str, Any]:
    r = await factory.client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator
    )
    assert r.status_code == 200, r.text
    [found] = [m for m in r.json() if m["id"] == message_id]
    result: dict[str, Any] = found
    return result


async def jobs(
    factory: Factory, t: TenantFixture, status: str | None = None
) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    r = await factory.client.get("/api/v1/jobs", headers=t.owner, params=params)
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()
    return data


async def run_jobs_until(
    worker: Worker, done: Callable[[], Awaitable[bool]], timeout: float = 2.5
) -> None:
    """Run the worker (backoff in tests is 0.01-0.05 s) until ``done()`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        await worker.run_until_idle()
        if await done():
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def assert_signed(t: TenantFixture, request: Request) -> None:
    verify_signature(
        t.api_channel_secret, request.body, request.headers.get("x-frontline-signature"), 300
    )


# --- tests ---------------------------------------------------------------------------------


async def test_reply_is_posted_signed_to_the_callback(
    factory: Factory, worker: Worker, callback: CallbackServer
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    conversation_id, reply_id = await conversation_with_reply(
        factory, t, "Да, есть свободные номера."
    )

    assert await worker.run_until_idle() == 1
    [request] = callback.received
    assert request.method == "POST"
    assert request.path == "/hooks/frontline"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == f"deliver:{reply_id}"
    assert_signed(t, request)
    with pytest.raises(SignatureError):  # signed with this channel's secret, not another's
        verify_signature(
            t.email_channel_secret, request.body, request.headers["x-frontline-signature"], 300
        )
    assert request.json() == {
        "event": "message.created",
        "message_id": reply_id,
        "conversation_id": conversation_id,
        "contact": {"external_id": "cust-42"},
        "sender_type": "operator",
        "sender_name": None,
        "text": "Да, есть свободные номера.",
    }
    stored = await message(factory, t, conversation_id, reply_id)
    assert stored["delivery_status"] == "sent"
    assert stored["failure_reason"] is None
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("done", 1)
    # a finished delivery is not repeated
    assert await worker.run_until_idle() == 0
    assert len(callback.received) == 1


@pytest.mark.parametrize(
    "failure",
    [
        Answer(500, b'{"error": "boom"}'),
        Answer(502, b"bad gateway"),
        Answer(429, b'{"error": "slow down"}', {"Retry-After": "1"}),
        Answer(429, b"", {"Retry-After": "soon"}),
    ],
    ids=["500", "502", "429-retry-after", "429-bad-retry-after"],
)
async def test_transient_failures_are_retried_then_succeed(
    factory: Factory, worker: Worker, callback: CallbackServer, failure: Answer
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    conversation_id, reply_id = await conversation_with_reply(factory, t, "Retry me")
    callback.script += [failure, failure]

    await worker.run_until_idle(max_rounds=1)  # exactly one attempt
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    assert f"HTTP {failure.status}" in job["last_error"]
    assert (await message(factory, t, conversation_id, reply_id))["delivery_status"] == "queued"

    async def sent() -> bool:
        return bool(
            (await message(factory, t, conversation_id, reply_id))["delivery_status"] == "sent"
        )

    await run_jobs_until(worker, sent)
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("done", 3)
    assert len(callback.received) == 3
    # every attempt is the same signed request under the same idempotency key
    assert {r.headers["idempotency-key"] for r in callback.received} == {f"deliver:{reply_id}"}
    assert {r.json()["text"] for r in callback.received} == {"Retry me"}
    for request in callback.received:
        assert_signed(t, request)


@pytest.mark.parametrize("status", [400, 404, 422, 401, 403])
async def test_client_errors_fail_permanently(
    factory: Factory, worker: Worker, callback: CallbackServer, status: int
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    conversation_id, reply_id = await conversation_with_reply(factory, t, "Rejected")
    callback.script.append(Answer(status, b'{"error": "unknown conversation"}'))

    await worker.run_until_idle()
    assert len(callback.received) == 1
    stored = await message(factory, t, conversation_id, reply_id)
    assert stored["delivery_status"] == "failed"
    assert f"HTTP {status}" in stored["failure_reason"]
    assert "unknown conversation" in stored["failure_reason"]
    [job] = await jobs(factory, t, "dead")
    assert job["attempts"] == 1
    assert f"HTTP {status}" in job["last_error"]
    await asyncio.sleep(0.06)
    assert await worker.run_until_idle() == 0
    assert len(callback.received) == 1


async def test_timeout_is_retried(
    factory: Factory, worker: Worker, callback: CallbackServer
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    conversation_id, reply_id = await conversation_with_reply(factory, t, "Slow")
    callback.script.append(Answer(200, delay=OUTBOUND_TIMEOUT * 4))

    started = time.monotonic()
    await worker.run_until_idle(max_rounds=1)
    assert time.monotonic() - started < OUTBOUND_TIMEOUT * 3
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    assert "Timeout" in job["last_error"]
    assert (await message(factory, t, conversation_id, reply_id))["delivery_status"] == "queued"

    async def sent() -> bool:
        return bool(
            (await message(factory, t, conversation_id, reply_id))["delivery_status"] == "sent"
        )

    await run_jobs_until(worker, sent)
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("done", 2)
    assert len(callback.received) == 2


async def test_unreachable_callback_is_retried(
    factory: Factory, worker: Worker, callback: CallbackServer
) -> None:
    # a port where nothing listens: the fixture's server port, after a second server is gone
    listener = await asyncio.start_server(callback.server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    t = await factory.tenant(callback_url=f"http://127.0.0.1:{port}/gone")
    conversation_id, reply_id = await conversation_with_reply(factory, t, "Anyone?")
    await worker.run_until_idle(max_rounds=1)
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    assert "unreachable" in job["last_error"]
    stored = await message(factory, t, conversation_id, reply_id)
    assert (stored["delivery_status"], stored["failure_reason"]) == ("queued", None)


async def test_dead_job_is_listed_and_requeued(
    factory: Factory, worker: Worker, callback: CallbackServer
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    conversation_id, reply_id = await conversation_with_reply(factory, t, "Second chance")
    callback.script.append(Answer(400, b'{"error": "bad"}'))
    await worker.run_until_idle()
    assert (await message(factory, t, conversation_id, reply_id))["delivery_status"] == "failed"

    dead = await jobs(factory, t, "dead")
    assert len(dead) == 1
    job = dead[0]
    assert job["kind"] == "message.deliver"
    assert job["payload"] == {"message_id": reply_id}
    assert "HTTP 400" in job["last_error"]
    assert job["finished_at"] is not None
    assert await jobs(factory, t, "queued") == []

    # operators may not see or re-queue jobs; only admins and owners
    r = await factory.client.get("/api/v1/jobs", headers=t.operator, params={"status": "dead"})
    assert r.status_code == 403, r.text
    r = await factory.client.post(f"/api/v1/jobs/{job['id']}/requeue", headers=t.operator)
    assert r.status_code == 403, r.text

    r = await factory.client.post(f"/api/v1/jobs/{job['id']}/requeue", headers=t.owner)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["attempts"]) == ("queued", 0)
    assert r.json()["finished_at"] is None
    requeued = await message(factory, t, conversation_id, reply_id)
    assert (requeued["delivery_status"], requeued["failure_reason"]) == ("queued", None)
    # only a dead job can be re-queued
    r = await factory.client.post(f"/api/v1/jobs/{job['id']}/requeue", headers=t.owner)
    assert r.status_code == 409, r.text

    assert await worker.run_until_idle() == 1
    assert len(callback.received) == 2
    assert callback.received[1].headers["idempotency-key"] == f"deliver:{reply_id}"
    assert_signed(t, callback.received[1])
    [job] = await jobs(factory, t)
    assert (job["status"], job["attempts"]) == ("done", 1)
    stored = await message(factory, t, conversation_id, reply_id)
    assert stored["delivery_status"] == "sent"
    assert stored["failure_reason"] is None
    assert await jobs(factory, t, "dead") == []


async def test_channel_without_callback_url_stores_replies_as_delivered(
    factory: Factory, worker: Worker, callback: CallbackServer
) -> None:
    """Issue 14: without a callback URL the integration polls the messages API, so a reply
    is delivered once stored: ``delivered`` at once, no delivery job (none to fail, nothing
    red). With a callback URL set later replies are queued and pushed; removing it again
    goes back to polling."""
    t = await factory.tenant(ai=True)
    c = factory.client
    # the AI's reply to the customer, and an operator's
    inbound = await factory.inbound(t, contact="cust-42", text="Здравствуйте! Есть места?")
    conversation_id = int(inbound["conversation_id"])
    await worker.run_until_idle()
    r = await c.get(f"/api/v1/conversations/{conversation_id}/messages", headers=t.operator)
    ai_replies = [m for m in r.json() if m["sender_type"] == "ai"]
    assert ai_replies and {m["delivery_status"] for m in ai_replies} == {"delivered"}
    r = await c.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=t.operator,
        json={"text": "Poll me"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["delivery_status"] == "delivered"
    reply_id = int(r.json()["id"])
    await worker.run_until_idle()
    stored = await message(factory, t, conversation_id, reply_id)
    assert (stored["delivery_status"], stored["failure_reason"]) == ("delivered", None)
    kinds = {j["kind"] for j in await jobs(factory, t)}
    assert "message.deliver" not in kinds, kinds
    assert await jobs(factory, t, "dead") == []

    # a callback URL: the next reply is queued, and the job pushes it
    r = await c.patch(
        f"/api/v1/channels/{t.api_channel_id}",
        json={"config": {"callback_url": callback.url}},
        headers=t.owner,
    )
    assert r.status_code == 200, r.text
    r = await c.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=t.operator,
        json={"text": "Pushed"},
    )
    assert r.json()["delivery_status"] == "queued"
    pushed_id = int(r.json()["id"])
    await worker.run_until_idle()
    assert (await message(factory, t, conversation_id, pushed_id))["delivery_status"] == "sent"
    assert [request.json()["text"] for request in callback.received] == ["Pushed"]

    # and without it again: polled
    r = await c.patch(
        f"/api/v1/channels/{t.api_channel_id}",
        json={"config": {"callback_url": None}},
        headers=t.owner,
    )
    assert r.status_code == 200, r.text
    r = await c.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=t.operator,
        json={"text": "Polled again"},
    )
    assert r.json()["delivery_status"] == "delivered"
