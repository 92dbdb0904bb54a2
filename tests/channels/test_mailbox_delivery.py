"""Mailbox channels: concurrent pollers, the worker's poll loop, and SMTP failures."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from frontline.app import create_app
from frontline.channels import service as channels
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.mail.runner import MailPoller
from frontline.mail.service import poll_channel
from frontline.settings import Settings
from tests.channels.mailservers import Dovecot, dovecot_server
from tests.channels.test_email import MailSink, run_jobs_until, smtp
from tests.channels.test_mailbox import (
    all_customer_messages,
    conversations,
    mailbox_channel,
    plain_mail,
    poll,
    status,
    thread,
)
from tests.channels.test_mailbox_mime import dsn
from tests.conftest import Factory

__all__ = ["dovecot_server", "smtp"]


async def test_concurrent_pollers_store_each_mail_once(
    factory: Factory, services: Services, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, mark_seen=False)
    for i in range(6):
        dovecot_server.append(user, plain_mail(f"вопрос {i}", sender=f"c{i}@example.org")[0])
    async with services.db.reader() as session:
        runtime = await channels.runtime_for(
            session, TenantScope(t.id), services.secret_box, uuid.UUID(channel_id)
        )
    reports = await asyncio.gather(*(poll_channel(services.db, runtime) for _ in range(3)))
    assert [r.error for r in reports] == [None] * 3
    # every message was stored by exactly one poller; the others found it taken
    assert sum(r.stored for r in reports) == 6
    texts = sorted(m["text"] for m in await all_customer_messages(factory, t))
    assert texts == [f"вопрос {i}" for i in range(6)]
    assert (await status(factory, t, channel_id))["stored"] == 6


async def test_the_poll_loop_takes_new_mail(
    factory: Factory, services: Services, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    poller = MailPoller(services.db, services.secret_box, interval=0.05, batch=10)
    task = asyncio.create_task(poller.run())
    try:
        dovecot_server.append(user, plain_mail("пришло, пока цикл работал")[0])
        deadline = time.monotonic() + 20
        while not await conversations(factory, t):
            assert time.monotonic() < deadline, "the loop did not take the mail"
            await asyncio.sleep(0.05)
    finally:
        poller.stop()
        await asyncio.wait_for(task, timeout=20)
    health = await status(factory, t, channel_id)
    assert health["healthy"] is True and health["stored"] == 1


async def reply_to_new_mail(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> tuple[Any, int, int]:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    dovecot_server.append(user, plain_mail("Позовите оператора")[0])
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    [conversation] = await conversations(factory, t)
    r = await factory.client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        headers=t.operator,
        json={"text": "Здравствуйте, я оператор."},
    )
    assert r.status_code == 201, r.text
    return t, conversation["id"], r.json()["id"]


async def test_smtp_temporary_failure_is_retried(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    smtp.data_replies.append("451 4.3.0 Try again later")
    t, conversation_id, reply_id = await reply_to_new_mail(factory, worker, dovecot_server, smtp)

    async def delivered() -> bool:
        found = [m for m in await thread(factory, t, conversation_id) if m["id"] == reply_id]
        return bool(found) and found[0]["delivery_status"] == "sent"

    await run_jobs_until(worker, delivered, timeout=10)
    [sent] = smtp.received
    assert sent["Subject"] == "Re: Вопрос о туре"
    assert "Здравствуйте, я оператор." in sent.get_content()


async def test_smtp_permanent_failure_is_visible(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    smtp.rcpt_replies.append("550 5.1.1 No such user here")
    t, conversation_id, reply_id = await reply_to_new_mail(factory, worker, dovecot_server, smtp)
    await worker.run_until_idle()
    [reply] = [m for m in await thread(factory, t, conversation_id) if m["id"] == reply_id]
    assert reply["delivery_status"] == "failed"
    assert "550" in reply["failure_reason"] and "No such user" in reply["failure_reason"]
    assert smtp.received == []


async def test_first_sync_goes_in_batches_and_leaves_read_mail(
    factory: Factory, services: Services, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    for i, seen in enumerate([False, True, False, False, True]):
        dovecot_server.append(user, plain_mail(f"old {i}")[0], seen=seen)
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port, mark_seen=False)
    async with services.db.reader() as session:
        runtime = await channels.runtime_for(
            session, TenantScope(t.id), services.secret_box, uuid.UUID(channel_id)
        )
    first = await poll_channel(services.db, runtime, batch=2)
    assert (first.fetched, first.stored) == (2, 2)
    dovecot_server.append(user, plain_mail("new, read elsewhere")[0], seen=True)
    second = await poll_channel(services.db, runtime, batch=2)
    assert (second.fetched, second.stored) == (2, 2)
    third = await poll_channel(services.db, runtime, batch=2)
    assert third.fetched == 0
    texts = [m["text"] for m in await all_customer_messages(factory, t)]
    assert texts == ["old 0", "old 2", "old 3", "new, read elsewhere"]


async def test_initial_sync_new_takes_only_later_mail(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t = await factory.tenant()
    user = dovecot_server.add_user()
    dovecot_server.append(user, plain_mail("before connecting")[0])
    channel_id = await mailbox_channel(
        factory, t, dovecot_server, user, smtp.port, initial_sync="new"
    )
    assert (await poll(factory, t, channel_id, worker))["fetched"] == 0
    dovecot_server.append(user, plain_mail("after connecting")[0])
    assert (await poll(factory, t, channel_id, worker))["stored"] == 1
    assert [m["text"] for m in await all_customer_messages(factory, t)] == ["after connecting"]


async def test_a_bounce_marks_the_sent_reply_failed(
    factory: Factory, worker: Worker, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    t, conversation_id, reply_id = await reply_to_new_mail(factory, worker, dovecot_server, smtp)
    await worker.run_until_idle()
    [sent] = smtp.received
    [reply] = [m for m in await thread(factory, t, conversation_id) if m["id"] == reply_id]
    assert reply["delivery_status"] == "sent"
    # the customer's server refuses it later: the report lands in the mailbox
    user = dovecot_server.users[-1]
    dovecot_server.append(user, dsn(sent["Message-ID"]))
    [channel] = [
        c
        for c in (await factory.client.get("/api/v1/channels", headers=t.owner)).json()
        if c["type"] == "mailbox"
    ]
    report = await poll(factory, t, channel["id"], worker)
    assert (report["stored"], report["skipped"]) == (0, 1)
    [reply] = [m for m in await thread(factory, t, conversation_id) if m["id"] == reply_id]
    assert reply["delivery_status"] == "failed"
    assert reply["failure_reason"].startswith("bounced: 5.1.1")
    assert "User unknown" in reply["failure_reason"]
    assert (await status(factory, t, channel["id"]))["bounces"] == 1


async def test_a_mail_that_cannot_be_stored_is_skipped_after_three_polls(
    factory: Factory,
    worker: Worker,
    dovecot_server: Dovecot,
    smtp: MailSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mail the database refuses (stood in for by a failing store) is retried by the
    next polls, then skipped with the reason, so the mail after it is not blocked."""
    from frontline.mail import service as mail_service

    real = mail_service.receive_inbound

    async def refusing(
        session: Any, scope: Any, channel_id: Any, inbound: Any, **options: Any
    ) -> Any:
        if inbound.text == "poison":
            raise RuntimeError("value too long for type character varying(500)")
        return await real(session, scope, channel_id, inbound, **options)

    monkeypatch.setattr(mail_service, "receive_inbound", refusing)
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    dovecot_server.append(user, plain_mail("poison")[0])
    dovecot_server.append(user, plain_mail("next one")[0])
    for _ in range(2):
        report = await poll(factory, t, channel_id, worker)
        assert report["stored"] == 0 and "could not be stored" in report["error"]
        assert (await status(factory, t, channel_id))["healthy"] is False
    report = await poll(factory, t, channel_id, worker)
    assert (report["stored"], report["skipped"], report["error"]) == (1, 1, None)
    assert [m["text"] for m in await all_customer_messages(factory, t)] == ["next one"]
    health = await status(factory, t, channel_id)
    assert "after 3 attempts" in health["last_skip"] and "too long" in health["last_skip"]


async def test_the_embedded_server_polls_mailboxes(
    factory: Factory, settings: Settings, dovecot_server: Dovecot, smtp: MailSink
) -> None:
    """``frontline serve`` with its in-process worker also runs the mailbox poll loop."""
    t = await factory.tenant()
    user = dovecot_server.add_user()
    channel_id = await mailbox_channel(factory, t, dovecot_server, user, smtp.port)
    dovecot_server.append(user, plain_mail("пока сервер работает")[0])
    embedded = create_app(settings.model_copy(update={"mail_poll_seconds": 0.05}), run_worker=True)
    async with embedded.router.lifespan_context(embedded):
        deadline = time.monotonic() + 20
        while not await conversations(factory, t):
            assert time.monotonic() < deadline, "the embedded poller did not take the mail"
            await asyncio.sleep(0.05)
    assert (await status(factory, t, channel_id))["stored"] == 1
