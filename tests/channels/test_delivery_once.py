"""A worker killed mid-send on a messenger or mail channel: the customer gets the reply at
most once, and the operator sees that its delivery is unknown and may resend it.

Telegram, WhatsApp, Avito and SMTP take no idempotency key, so a send repeated after a lost
worker would reach the customer twice. Each fake provider here (speaking the real wire
format) accepts the send and holds its answer; the worker, a real ``frontline worker``
process, is killed with SIGKILL while it waits; a second worker claims the job after the
lease. The provider must have seen exactly one send, the message must show ``unknown`` with
its explanation, and only the operator's deliberate resend sends it again. SQLite and
PostgreSQL (the database of the test).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.models import Job, JobStatus
from tests.channels.avito.fake_avito import FakeAvito, fake_avito
from tests.channels.avito.test_avito import avito_channel
from tests.channels.avito.test_avito import operator_reply as avito_reply
from tests.channels.telegram.conftest import create_channel as telegram_channel
from tests.channels.telegram.fakebot import FakeBotApi, fake_bot_api
from tests.channels.telegram.payloads import text_update
from tests.channels.test_email import MailSink, accepted, mail
from tests.channels.whatsapp.fake_graph import FakeGraph, fake_graph
from tests.channels.whatsapp.helpers import whatsapp_channel
from tests.channels.whatsapp.test_outbound import operator_reply as whatsapp_reply
from tests.conftest import Factory, TenantFixture
from tests.jobs.test_worker_kill import WAIT, Workers, wait_until
from tests.kit.keepalive import Answer

# a worker process's start-up, generous: the machines running tests are often busy
STARTUP = 90.0


@dataclass
class HoldingSink(MailSink):
    """An SMTP server that takes the next mail's DATA and then holds its ``250``."""

    hold_next: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.hold_next:
            self.hold_next = False
            await self.release.wait()
        return reply


@dataclass
class Provider:
    """One channel's fake provider in a kill test: how to hold the next send, count the
    sends it saw, and open a conversation with an operator's reply waiting to go out."""

    name: str
    hold_next_send: Callable[[], None]
    sends: Callable[[], int]
    # (factory, tenant) -> (conversation id, the reply's message id)
    reply: Callable[[Factory, TenantFixture], Any]
    smtp_port: int = 1025  # the tenant's e-mail channel sends there


@contextlib.asynccontextmanager
async def telegram() -> AsyncIterator[Provider]:
    async with fake_bot_api() as bot:

        async def reply(factory: Factory, t: TenantFixture) -> tuple[int, int]:
            channel = await telegram_channel(factory, t, bot)
            r = await channel.post(text_update(9001, 77, "Есть места на субботу?"))
            assert r.status_code == 200, r.text
            return await _operator_reply(factory, t, "Да, есть два места.")

        def hold(b: FakeBotApi = bot) -> None:
            b.hold.append("sendMessage")

        yield Provider("telegram", hold, lambda: len(bot.called("sendMessage")), reply)


@contextlib.asynccontextmanager
async def whatsapp() -> AsyncIterator[Provider]:
    release = asyncio.Event()
    async with fake_graph() as graph:

        async def reply(factory: Factory, t: TenantFixture) -> tuple[int, int]:
            return await whatsapp_reply(factory, t, await whatsapp_channel(factory, t, graph))

        def hold(g: FakeGraph = graph) -> None:
            answer = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.HELD"}]}
            g.script.append(Answer(200, answer, hold=release))

        try:
            yield Provider("whatsapp", hold, lambda: len(graph.sends()), reply)
        finally:
            release.set()


@contextlib.asynccontextmanager
async def avito() -> AsyncIterator[Provider]:
    from frontline.channels.avito.client import TOKENS

    TOKENS.clear()
    release = asyncio.Event()
    async with fake_avito() as server:

        async def reply(factory: Factory, t: TenantFixture, a: FakeAvito = server) -> Any:
            cid, secret = await avito_channel(factory, t, a)
            conv = await avito_reply(factory, a, t, cid, secret)
            [last] = [m for m in await _thread(factory, t, conv) if m["sender_type"] != "contact"]
            return conv, int(last["id"])

        def hold(a: FakeAvito = server) -> None:
            answer = {"id": "out-held", "created": 1733520900, "type": "text"}
            a.script.append(Answer(200, answer, hold=release))

        try:
            yield Provider("avito", hold, lambda: len(server.sends()), reply)
        finally:
            release.set()


@contextlib.asynccontextmanager
async def smtp_mail() -> AsyncIterator[Provider]:
    sink = HoldingSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="mx.test", loop=loop), "127.0.0.1", 0
    )
    sink.port = server.sockets[0].getsockname()[1]

    async def reply(factory: Factory, t: TenantFixture) -> tuple[int, int]:
        data = await accepted(factory, t, mail())
        return await _operator_reply(
            factory, t, "Номер свободен в пятницу.", int(data["conversation_id"])
        )

    def hold() -> None:
        sink.hold_next = True

    try:
        yield Provider("smtp", hold, lambda: len(sink.received), reply, smtp_port=sink.port)
    finally:
        sink.release.set()
        server.close()
        await server.wait_closed()


PROVIDERS = {"telegram": telegram, "whatsapp": whatsapp, "avito": avito, "smtp": smtp_mail}


async def _thread(factory: Factory, t: TenantFixture, conv: int) -> list[dict[str, Any]]:
    r = await factory.client.get(f"/api/v1/conversations/{conv}/messages", headers=t.operator)
    assert r.status_code == 200, r.text
    return list(r.json())


async def _operator_reply(
    factory: Factory, t: TenantFixture, text: str, conv: int | None = None
) -> tuple[int, int]:
    if conv is None:
        r = await factory.client.get("/api/v1/conversations", headers=t.operator)
        assert r.status_code == 200, r.text
        [found] = r.json()["items"]
        conv = int(found["id"])
    r = await factory.client.post(
        f"/api/v1/conversations/{conv}/messages", headers=t.operator, json={"text": text}
    )
    assert r.status_code == 201, r.text
    return conv, int(r.json()["id"])


async def _state(factory: Factory, t: TenantFixture, conv: int, mid: int) -> dict[str, Any]:
    [m] = [m for m in await _thread(factory, t, conv) if m["id"] == mid]
    return m


async def _delivery_jobs(services: Services) -> list[Job]:
    async with services.db.transaction() as s:
        stmt = select(Job).where(Job.kind == "message.deliver").order_by(Job.id)
        return list((await s.execute(stmt)).scalars())


@pytest.mark.slow
@pytest.mark.parametrize("channel", list(PROVIDERS))
async def test_killed_worker_mid_send_delivers_at_most_once_then_unknown_and_resend(
    factory: Factory, services: Services, database_url: str, tmp_path: Path, channel: str
) -> None:
    async with PROVIDERS[channel]() as provider:
        t = await factory.tenant(smtp_port=provider.smtp_port)
        workers = Workers(database_url, tmp_path)
        try:
            provider.hold_next_send()
            conv, mid = await provider.reply(factory, t)
            first = workers.start("worker-a")

            async def send_arrived() -> bool:
                assert first.poll() is None, f"worker A exited early\n{workers.logs()}"
                return provider.sends() >= 1

            await wait_until(f"worker A to send on {channel}", send_arrived, workers, STARTUP)
            # the marker: the message is known to be handed over, its answer not recorded
            assert (await _state(factory, t, conv, mid))["delivery_status"] == "sending"

            first.send_signal(signal.SIGKILL)
            first.wait(timeout=WAIT)
            second = workers.start("worker-b")

            async def settled() -> bool:
                assert second.poll() is None, f"worker B exited early\n{workers.logs()}"
                [job] = await _delivery_jobs(services)
                return job.status == JobStatus.DONE.value

            await wait_until("worker B to take the job over", settled, workers, STARTUP)
            await asyncio.sleep(0.5)  # room for a (wrong) second send to show up
            assert provider.sends() == 1, workers.logs()
            [job] = await _delivery_jobs(services)
            assert job.attempts == 2  # worker B's attempt, after the lease
            state = await _state(factory, t, conv, mid)
            assert state["delivery_status"] == "unknown"
            assert "may or may not have reached" in (state["failure_reason"] or "")

            # the operator decides to send it again: one more send, then ``sent``
            r = await factory.client.post(
                f"/api/v1/conversations/{conv}/messages/{mid}/resend", headers=t.operator
            )
            assert r.status_code == 200, r.text
            assert (r.json()["delivery_status"], r.json()["failure_reason"]) == ("queued", None)

            async def resent() -> bool:
                return (await _state(factory, t, conv, mid))["delivery_status"] == "sent"

            await wait_until("the deliberate resend", resent, workers)
            assert provider.sends() == 2
            # a message that was sent is not resent
            r = await factory.client.post(
                f"/api/v1/conversations/{conv}/messages/{mid}/resend", headers=t.operator
            )
            assert r.status_code == 409, r.text
            assert r.json()["error"]["code"] == "message_not_unknown"
        finally:
            workers.close()


async def test_a_send_telegram_never_answers_is_unknown_not_repeated(
    factory: Factory, worker: Worker
) -> None:
    """The outbound timeout (2 s in tests) runs out while Telegram holds the answer: it may
    have got the message, so it is not sent again by the retry policy."""
    async with telegram() as provider:
        t = await factory.tenant()
        provider.hold_next_send()
        conv, mid = await provider.reply(factory, t)
        await worker.run_until_idle()
        state = await _state(factory, t, conv, mid)
        assert state["delivery_status"] == "unknown"
        assert "timed out" in state["failure_reason"]
        [job] = await _delivery_jobs(factory.services)
        assert (job.status, job.attempts) == (JobStatus.DONE.value, 1)
        await worker.run_until_idle()
        assert provider.sends() == 1


async def test_a_refused_connection_sent_nothing_and_is_retried(
    factory: Factory, worker: Worker
) -> None:
    async with fake_bot_api() as bot:
        t = await factory.tenant()
        channel = await telegram_channel(factory, t, bot)
        r = await channel.post(text_update(9002, 78, "Алло?"))
        assert r.status_code == 200, r.text
    # the Bot API is gone: nothing listens on its port any more
    conv, mid = await _operator_reply(factory, t, "Слушаю")
    await worker.run_until_idle(max_rounds=1)
    [job] = await _delivery_jobs(factory.services)
    assert (job.status, job.attempts) == (JobStatus.QUEUED.value, 1)
    assert "unreachable" in (job.last_error or "")
    state = await _state(factory, t, conv, mid)
    assert (state["delivery_status"], state["failure_reason"]) == ("queued", None)


async def test_resend_refuses_other_states_and_other_conversations(factory: Factory) -> None:
    # a channel that pushes replies (a callback URL; no worker runs here, so nothing is sent):
    # a reply on a channel without one is stored as delivered at once
    t = await factory.tenant(callback_url="http://127.0.0.1:9/never-called")
    other = await factory.tenant()
    first = await factory.inbound(t, contact="c-1", text="Здравствуйте")
    second = await factory.inbound(t, contact="c-2", text="Добрый день")
    conv, mid = await _operator_reply(factory, t, "Ответ", int(first["conversation_id"]))
    url = f"/api/v1/conversations/{conv}/messages/{mid}/resend"
    # queued (no worker runs here): 409 with a code the console explains
    r = await factory.client.post(url, headers=t.operator)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "message_not_unknown"
    # the message named under another conversation, or by another workspace: 404
    wrong = f"/api/v1/conversations/{second['conversation_id']}/messages/{mid}/resend"
    assert (await factory.client.post(wrong, headers=t.operator)).status_code == 404
    assert (await factory.client.post(url, headers=other.operator)).status_code == 404
    missing = f"/api/v1/conversations/{conv}/messages/999999/resend"
    assert (await factory.client.post(missing, headers=t.operator)).status_code == 404
    assert (await factory.client.post(url)).status_code == 401
    assert (await _state(factory, t, conv, mid))["delivery_status"] == "queued"


async def test_a_success_answer_without_a_message_id_is_unknown_not_repeated(
    factory: Factory, worker: Worker
) -> None:
    """WhatsApp answered 200 but named no message: it may have taken it."""
    async with fake_graph() as graph:
        graph.script.append(Answer(200, {"messaging_product": "whatsapp"}))
        t = await factory.tenant()
        conv, mid = await whatsapp_reply(factory, t, await whatsapp_channel(factory, t, graph))
        await worker.run_until_idle()
        state = await _state(factory, t, conv, mid)
        assert state["delivery_status"] == "unknown"
        assert "no message id" in state["failure_reason"]
        await worker.run_until_idle()
        assert len(graph.sends()) == 1
