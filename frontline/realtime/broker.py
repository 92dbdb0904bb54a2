"""Publish/subscribe brokers for realtime events.

The embedded default is in-memory (one process). With ``FRONTLINE_REDIS_URL`` set, events go
through Redis pub/sub so every API instance's subscribers receive them. Events are published
only after the transaction that produced them has committed; a subscriber that missed some
resumes from the database (the source of truth), not from the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Broker(Protocol):
    async def publish(self, topic: str, event: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]: ...

    async def watched(self, topic: str) -> bool:
        """Whether anyone (in any process) is subscribed to ``topic`` now: work that only a
        live viewer needs, such as streaming an AI reply as it is written, is skipped
        otherwise."""
        ...

    async def close(self) -> None: ...


class MemoryBroker:
    """In-process fan-out; each subscriber has a bounded queue (slow ones drop events)."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        for q in list(self._subscribers.get(topic, ())):
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("subscriber queue full, event dropped", extra={"topic": topic})

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(q)
        try:
            while True:
                yield await q.get()
        finally:
            self._subscribers[topic].discard(q)
            if not self._subscribers[topic]:
                self._subscribers.pop(topic, None)

    async def watched(self, topic: str) -> bool:
        return bool(self._subscribers.get(topic))

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBroker:
    """Redis pub/sub fan-out across processes."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._redis.publish(topic, json.dumps(event, default=str, ensure_ascii=False))

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(topic)
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(topic)
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def watched(self, topic: str) -> bool:
        counts = await self._redis.pubsub_numsub(topic)
        return any(int(count) > 0 for _name, count in counts)

    async def close(self) -> None:
        await self._redis.aclose()


def make_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else MemoryBroker()
