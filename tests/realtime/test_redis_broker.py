"""The Redis broker fans events out across processes' subscribers."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from frontline.realtime.broker import RedisBroker

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="FRONTLINE_TEST_REDIS_URL not set")


async def test_publish_reaches_subscribers_of_another_broker() -> None:
    assert REDIS_URL
    publisher, subscriber = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    topic = f"test:{uuid.uuid4().hex}"
    received: list[dict[str, Any]] = []

    async def listen() -> None:
        async for event in subscriber.subscribe(topic):
            received.append(event)
            if len(received) == 2:
                return

    task = asyncio.create_task(listen())
    try:
        # publish until the subscription is live (Redis drops messages nobody listens to)
        for _ in range(100):
            await publisher.publish(topic, {"type": "probe", "data": {}})
            await asyncio.sleep(0.02)
            if received:
                break
        assert received, "subscriber never received the probe"
        await publisher.publish(topic, {"type": "message.created", "data": {"text": "Привет"}})
        await asyncio.wait_for(task, timeout=5)
    finally:
        task.cancel()
        await publisher.close()
        await subscriber.close()
    assert received[-1] == {"type": "message.created", "data": {"text": "Привет"}}


async def test_watched_sees_subscribers_of_other_processes() -> None:
    assert REDIS_URL
    watcher, viewer = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    topic = f"test:{uuid.uuid4().hex}"
    try:
        assert not await watcher.watched(topic)
        iterator = viewer.subscribe(topic)
        task = asyncio.create_task(anext(iterator))
        for _ in range(100):  # the subscription is live once Redis counts it
            if await watcher.watched(topic):
                break
            await asyncio.sleep(0.02)
        assert await watcher.watched(topic)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await iterator.aclose()
        for _ in range(100):
            if not await watcher.watched(topic):
                break
            await asyncio.sleep(0.02)
        assert not await watcher.watched(topic)
    finally:
        await watcher.close()
        await viewer.close()
