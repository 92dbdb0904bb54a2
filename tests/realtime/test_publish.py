"""Realtime events leave only after the transaction that produced them commits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from frontline import events
from frontline.deps import Services
from frontline.realtime.broker import MemoryBroker
from frontline.realtime.publish import publish_after_commit
from tests.conftest import Factory


async def _collect(
    broker: Any, topic: str, into: list[dict[str, Any]], ready: asyncio.Event
) -> None:
    stream = broker.subscribe(topic)
    ready.set()
    async for event in stream:
        into.append(event)


async def test_inbound_message_is_announced_to_the_inbox(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    received: list[dict[str, Any]] = []
    ready = asyncio.Event()
    task = asyncio.create_task(_collect(services.broker, events.inbox_topic(t.id), received, ready))
    await ready.wait()
    await asyncio.sleep(0)  # let the subscription register
    try:
        data = await factory.inbound(t, text="Когда ближайший тур?")
        for _ in range(50):
            if any(e["type"] == events.MESSAGE_CREATED for e in received):
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
    created = [e for e in received if e["type"] == events.MESSAGE_CREATED]
    assert created and created[0]["data"]["id"] == data["message_id"]
    assert created[0]["data"]["text"] == "Когда ближайший тур?"
    assert any(e["type"] == events.CONVERSATION_CREATED for e in received)


async def test_events_of_a_rolled_back_transaction_are_dropped(services: Services) -> None:
    broker = services.broker
    assert isinstance(broker, MemoryBroker)
    received: list[dict[str, Any]] = []
    ready = asyncio.Event()
    task = asyncio.create_task(_collect(broker, "topic:x", received, ready))
    await ready.wait()
    await asyncio.sleep(0)
    try:
        with pytest.raises(RuntimeError):
            async with services.db.transaction() as session:
                publish_after_commit(session, "topic:x", "test.event", {"n": 1})
                raise RuntimeError("boom")
        async with services.db.transaction() as session:
            publish_after_commit(session, "topic:x", "test.event", {"n": 2})
            assert received == []  # not before the commit
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert received == [{"type": "test.event", "data": {"n": 2}}]
