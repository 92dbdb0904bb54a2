"""WhatsApp ``statuses[]``: an outbound message's delivery state moves forward only,
whatever order Meta's reports come in; and the 24-hour customer service window."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.time import utcnow
from frontline.models import Message
from tests.channels.whatsapp.fake_graph import FakeGraph, payload
from tests.channels.whatsapp.helpers import conversations, post_webhook, thread, whatsapp_channel
from tests.channels.whatsapp.test_outbound import operator_reply, reply_state
from tests.conftest import Factory, TenantFixture
from tests.kit.keepalive import Answer


async def report(
    factory: Factory, cid: str, wamid: str, status: str, **extra: Any
) -> dict[str, Any]:
    name = "status_failed" if status == "failed" else "statuses"
    r = await post_webhook(factory.client, cid, payload(name, id=wamid, status=status, **extra))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def sent_reply(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> tuple[TenantFixture, str, int, int]:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    conv, mid = await operator_reply(factory, t, cid)
    await worker.run_until_idle()
    assert (await reply_state(factory, t, conv, mid))["external_id"] == "wamid.OUT0001"
    return t, cid, conv, mid


async def test_reports_in_any_order_never_go_backwards(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    t, cid, conv, mid = await sent_reply(factory, worker, graph)
    assert (await report(factory, cid, "wamid.OUT0001", "delivered"))["statuses_applied"] == 1
    assert (await reply_state(factory, t, conv, mid))["delivery_status"] == "delivered"
    assert (await report(factory, cid, "wamid.OUT0001", "read"))["statuses_applied"] == 1
    # late, redelivered or out-of-order reports change nothing
    for status in ("delivered", "sent", "failed", "read"):
        assert (await report(factory, cid, "wamid.OUT0001", status))["statuses_applied"] == 0
    m = await reply_state(factory, t, conv, mid)
    assert (m["delivery_status"], m["failure_reason"]) == ("read", None)


async def test_failed_report_carries_the_error_code(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    t, cid, conv, mid = await sent_reply(factory, worker, graph)
    assert (await report(factory, cid, "wamid.OUT0001", "failed"))["statuses_applied"] == 1
    m = await reply_state(factory, t, conv, mid)
    assert m["delivery_status"] == "failed"
    assert m["failure_reason"] == "131026: Message undeliverable (Message Undeliverable.)"


async def test_a_report_before_the_send_commits_is_kept(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    """Meta may report on a message while the delivery job has not yet recorded the send:
    the report names our message id (``biz_opaque_callback_data``) and the job's ``sent``,
    committed after it, does not overwrite it."""
    accepted = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT0001"}]}
    graph.script.append(Answer(body=accepted, delay=0.6))  # the send's answer comes late
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    conv, mid = await operator_reply(factory, t, cid)
    job = asyncio.create_task(worker.run_until_idle())
    while not graph.sends():  # the send is in flight
        await asyncio.sleep(0.01)
    opaque = {"biz_opaque_callback_data": f"frontline:{mid}"}
    applied = await report(factory, cid, "wamid.OUT0001", "delivered", **opaque)
    assert applied["statuses_applied"] == 1
    m = await reply_state(factory, t, conv, mid)
    assert (m["delivery_status"], m["external_id"]) == ("delivered", "wamid.OUT0001")
    await job
    m = await reply_state(factory, t, conv, mid)
    assert (m["delivery_status"], m["external_id"]) == ("delivered", "wamid.OUT0001")
    assert len(graph.sends()) == 1


async def test_unknown_and_foreign_messages_are_ignored(
    factory: Factory, worker: Worker, graph: FakeGraph
) -> None:
    t, cid, conv, mid = await sent_reply(factory, worker, graph)
    other = await factory.tenant()
    other_cid = await whatsapp_channel(factory, other, graph)
    assert (await report(factory, cid, "wamid.UNKNOWN", "read"))["statuses_applied"] == 0
    # the same wamid on another tenant's channel does not reach this tenant's message
    assert (await report(factory, other_cid, "wamid.OUT0001", "read"))["statuses_applied"] == 0
    # nor does an id smuggled into the callback data for a message of another channel
    fake = {"biz_opaque_callback_data": f"frontline:{mid}"}
    assert (await report(factory, other_cid, "wamid.Z", "read", **fake))["statuses_applied"] == 0
    assert (await reply_state(factory, t, conv, mid))["delivery_status"] == "sent"


async def test_free_text_outside_the_24_hour_window_is_refused(
    factory: Factory, services: Services, graph: FakeGraph
) -> None:
    t = await factory.tenant()
    cid = await whatsapp_channel(factory, t, graph)
    r = await post_webhook(factory.client, cid, payload("text"))
    assert r.status_code == 200, r.text
    [conv] = await conversations(factory, t, cid)
    url = f"/api/v1/conversations/{conv['id']}/messages"
    async with services.db.transaction() as s:
        await s.execute(
            update(Message).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
    r = await factory.client.post(url, headers=t.operator, json={"text": "Вы ещё здесь?"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "whatsapp_window_closed"
    assert "24 hours" in error["message"]
    assert len(await thread(factory, t, conv["id"])) == 1  # nothing queued
    # the customer writes again: the window opens
    r = await post_webhook(factory.client, cid, payload("text", id="wamid.AGAIN"))
    assert r.status_code == 200, r.text
    r = await factory.client.post(url, headers=t.operator, json={"text": "Вы ещё здесь?"})
    assert r.status_code == 201, r.text
