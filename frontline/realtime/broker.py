"""Publish/subscribe brokers for realtime events.

The embedded default is in-memory (one process). With ``FRONTLINE_REDIS_URL`` set, events go
through Redis pub/sub so every API instance's subscribers receive them. Events are published
only after the transaction that produced them has committed; a subscriber that missed some
resumes from the database (the source of truth), not from the broker.

A consumer (one WebSocket, say) holds one :class:`Subscription`: a queue fed by any number
of topics, added and removed while it runs. Fan-out to local subscriptions happens in the
process; across processes the Redis broker holds one pub/sub connection per process, whatever
the number of subscriptions (thousands of idle widgets must not mean thousands of Redis
connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.exceptions import RedisError

from frontline.kit.redis import Outage, RedisOptions, redis_client

log = logging.getLogger(__name__)

Event = dict[str, Any]


class Subscription:
    """A consumer's topics and the one queue their events arrive in, as ``(topic, event)``.

    A consumer too slow to keep up loses events: the queue is bounded, and ``overflowed``
    then tells it to resynchronise from the database (a WebSocket closes and the client
    reconnects with the last id it saw)."""

    def __init__(self, fanout: _Fanout, queue_size: int) -> None:
        self._fanout = fanout
        self.queue: asyncio.Queue[tuple[str, Event]] = asyncio.Queue(queue_size)
        self.topics: set[str] = set()
        self.overflowed = False
        self.closed = False

    async def add(self, topic: str) -> None:
        """Subscribe to ``topic``; events published after this returns are received."""
        if topic in self.topics or self.closed:
            return
        self.topics.add(topic)
        await self._fanout.attach(topic, self)

    async def remove(self, topic: str) -> None:
        if topic not in self.topics:
            return
        self.topics.discard(topic)
        await self._fanout.detach(topic, self)

    async def get(self) -> tuple[str, Event]:
        return await self.queue.get()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for topic in list(self.topics):
            await self.remove(topic)

    def _offer(self, topic: str, event: Event) -> None:
        try:
            self.queue.put_nowait((topic, event))
        except asyncio.QueueFull:
            if not self.overflowed:
                log.warning("subscriber queue full, events dropped", extra={"topic": topic})
            self.overflowed = True


class _Fanout:
    """Topic -> local subscriptions; the remote hooks let Redis follow the first and last
    local subscriber of a topic."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}

    async def attach(self, topic: str, sub: Subscription) -> None:
        subs = self.subscribers.get(topic)
        if subs is None:
            subs = self.subscribers[topic] = set()
            subs.add(sub)
            try:
                await self.first_subscriber(topic)
            except BaseException:
                subs.discard(sub)
                sub.topics.discard(topic)
                if not subs:
                    self.subscribers.pop(topic, None)
                raise
        else:
            subs.add(sub)
            await self.wait_live(topic)

    async def detach(self, topic: str, sub: Subscription) -> None:
        subs = self.subscribers.get(topic)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self.subscribers[topic]
            await self.last_subscriber_left(topic)

    def deliver(self, topic: str, event: Event) -> None:
        for sub in list(self.subscribers.get(topic, ())):
            sub._offer(topic, event)

    async def first_subscriber(self, topic: str) -> None:
        return None

    async def wait_live(self, topic: str) -> None:
        return None

    async def last_subscriber_left(self, topic: str) -> None:
        return None


class Broker(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscription(self) -> Subscription:
        """A new, empty subscription (close it when done)."""
        ...

    def subscribe(self, topic: str) -> AsyncIterator[Event]:
        """The events of one topic, as an async iterator (a one-topic subscription)."""
        ...

    async def watched(self, topic: str) -> bool:
        """Whether anyone (in any process) is subscribed to ``topic`` now: work that only a
        live viewer needs, such as streaming an AI reply as it is written, is skipped
        otherwise."""
        ...

    async def close(self) -> None: ...


async def _iterate(sub: Subscription, topic: str) -> AsyncIterator[Event]:
    await sub.add(topic)
    try:
        while True:
            _topic, event = await sub.get()
            yield event
    finally:
        await sub.close()


class MemoryBroker:
    """In-process fan-out; each subscription has a bounded queue."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._fanout = _Fanout()
        self._queue_size = queue_size

    async def publish(self, topic: str, event: Event) -> None:
        self._fanout.deliver(topic, event)

    def subscription(self) -> Subscription:
        return Subscription(self._fanout, self._queue_size)

    def subscribe(self, topic: str) -> AsyncIterator[Event]:
        return _iterate(self.subscription(), topic)

    async def watched(self, topic: str) -> bool:
        return bool(self._fanout.subscribers.get(topic))

    async def close(self) -> None:
        self._fanout.subscribers.clear()


# what a Redis that went away raises (a paused one: the socket timeout, or ours waiting for
# its confirmation of a subscription)
_DOWN: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class _RedisFanout(_Fanout):
    """Local fan-out behind one Redis pub/sub connection per process.

    While Redis is unreachable a subscription is served by this process alone (the events
    published here reach it, see :meth:`RedisBroker.publish`): subscribing does not fail, and
    the topics Redis could not be told about are subscribed by the reader once it answers
    again (redis-py itself subscribes again, on reconnecting, to the topics it had)."""

    RETRY_SECONDS = 0.5

    def __init__(self, redis: Any, outage: Outage, confirm_seconds: float) -> None:
        super().__init__()
        self._redis = redis
        self._outage = outage
        # how long Redis may take to confirm a subscription (the clients' socket timeout)
        self._confirm_seconds = confirm_seconds
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        # topic -> resolved once Redis confirmed the subscription
        self._live: dict[str, asyncio.Future[None]] = {}
        # topics with local subscribers that Redis has not been told about (it was down)
        self._pending: set[str] = set()
        self._lock = asyncio.Lock()

    async def first_subscriber(self, topic: str) -> None:
        loop = asyncio.get_running_loop()
        self._live[topic] = loop.create_future()
        if self._outage.down:  # known down: no wait; the reader subscribes it later
            self._pending.add(topic)
            self._start_reader()
            return
        try:
            async with self._lock:
                if self._pubsub is None:
                    self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(topic)
        except _DOWN as exc:
            self._outage.failed(exc)
            self._pending.add(topic)
        finally:
            self._start_reader()
        await self.wait_live(topic)

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="frontline-redis-pubsub")

    async def wait_live(self, topic: str) -> None:
        future = self._live.get(topic)
        if future is None or future.done() or self._outage.down:
            return
        try:
            await asyncio.wait_for(asyncio.shield(future), self._confirm_seconds)
        except TimeoutError as exc:  # Redis took the command and does not answer: paused
            self._outage.failed(exc)

    async def last_subscriber_left(self, topic: str) -> None:
        async with self._lock:
            if topic in self.subscribers:
                return  # subscribed again meanwhile: keep the Redis subscription
            self._live.pop(topic, None)
            self._pending.discard(topic)
            if self._pubsub is not None:  # tried even when down: a stale one would come back
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(topic)

    async def _subscribe_pending(self) -> None:
        """Tell Redis about the topics it missed (raises while it is still down)."""
        async with self._lock:
            topics = sorted(t for t in self._pending if t in self.subscribers)
            if not topics:
                self._pending.clear()
                return
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            await self._pubsub.subscribe(*topics)
            self._pending.difference_update(topics)

    async def _read(self) -> None:
        while True:
            try:
                if self._pending:
                    await self._subscribe_pending()
                if self._pubsub is None or self._pubsub.connection is None:
                    await asyncio.sleep(self.RETRY_SECONDS)
                    continue
                item = await self._pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except _DOWN as exc:
                self._outage.failed(exc)
                await asyncio.sleep(self.RETRY_SECONDS)
                continue
            except Exception:
                log.warning("redis pub/sub read failed; retrying", exc_info=True)
                await asyncio.sleep(self.RETRY_SECONDS)
                continue
            if item is None:
                continue
            self._outage.answered()  # whatever it said, Redis is there
            channel = item.get("channel")
            topic = channel.decode() if isinstance(channel, bytes) else str(channel)
            kind = item.get("type")
            if kind == "message":
                try:
                    event = json.loads(item["data"])
                except ValueError:
                    log.warning("malformed realtime event dropped", extra={"topic": topic})
                    continue
                self.deliver(topic, event)
            elif kind == "subscribe":
                future = self._live.get(topic)
                if future is not None and not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        self.subscribers.clear()
        self._live.clear()
        self._pending.clear()


class RedisBroker:
    """Redis pub/sub fan-out across processes.

    A Redis outage fails neither a publisher (a WebSocket handler passing on a typing
    indicator, an event after commit, a streamed reply) nor a subscriber (a socket opening):
    while Redis is unreachable an event goes to this process's own subscribers only (the
    in-process fallback; other instances miss it and resume from the database, live-only
    events such as typing are lost there), and new subscriptions are served by this process
    until Redis answers again, with one log line when Redis goes away and one when it is
    back. A Redis that stops answering (paused) fails a command within the client's socket
    timeout (:class:`frontline.kit.redis.RedisOptions`) instead of holding it."""

    def __init__(
        self, url: str, queue_size: int = 1000, options: RedisOptions | None = None
    ) -> None:
        self._redis = redis_client(url, options)
        self._outage = Outage(
            log,
            "redis unreachable: realtime events reach this process's subscribers only",
            "redis reachable again: realtime events are shared again",
        )
        self._fanout = _RedisFanout(
            self._redis, self._outage, (options or RedisOptions()).socket_timeout
        )
        self._queue_size = queue_size

    async def publish(self, topic: str, event: Event) -> None:
        payload = json.dumps(event, default=str, ensure_ascii=False)
        try:
            await self._redis.publish(topic, payload)
        except _DOWN as exc:
            self._outage.failed(exc)
            self._fanout.deliver(topic, event)
            return
        self._outage.answered()

    def subscription(self) -> Subscription:
        return Subscription(self._fanout, self._queue_size)

    def subscribe(self, topic: str) -> AsyncIterator[Event]:
        return _iterate(self.subscription(), topic)

    async def watched(self, topic: str) -> bool:
        try:
            counts = await self._redis.pubsub_numsub(topic)
        except _DOWN:
            # unreachable: only this process's viewers can be reached meanwhile
            return bool(self._fanout.subscribers.get(topic))
        return any(int(count) > 0 for _name, count in counts)

    async def close(self) -> None:
        await self._fanout.close()
        await self._redis.aclose()


def make_broker(redis_url: str | None, options: RedisOptions | None = None) -> Broker:
    return RedisBroker(redis_url, options=options) if redis_url else MemoryBroker()
