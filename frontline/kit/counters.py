"""Expiring counters and locks shared by every process of a deployment.

Redis in production (one ``INCR``/``SET PX`` per event, so several API processes see the
same counts); a dictionary in the embedded default, where there is one process. While Redis is
unreachable the counts and locks are kept in the process's dictionary instead (each process
then counts alone) and resume in Redis when it answers again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from redis.exceptions import RedisError

from frontline.kit.redis import Outage, RedisOptions, redis_client

log = logging.getLogger(__name__)
T = TypeVar("T")


class CounterStore(Protocol):
    async def incr(self, key: str, ttl_seconds: int) -> int:
        """Add one to ``key`` (created with ``ttl_seconds`` to live) and return the count."""
        ...

    async def lock(self, key: str, seconds: float) -> None:
        """Hold ``key`` locked for ``seconds``."""
        ...

    async def locked_for(self, key: str) -> float:
        """Seconds ``key`` stays locked; 0 when it is not."""
        ...

    async def clear(self, *keys: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCounters:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[float, int]] = {}
        self._locks: dict[str, float] = {}
        self._max_keys = max_keys

    def _sweep(self, now: float) -> None:
        if len(self._counts) + len(self._locks) < self._max_keys:
            return
        self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        self._locks = {k: v for k, v in self._locks.items() if v > now}

    async def incr(self, key: str, ttl_seconds: int) -> int:
        now = time.time()
        self._sweep(now)
        expiry, count = self._counts.get(key, (0.0, 0))
        if expiry <= now:
            expiry, count = now + ttl_seconds, 0
        self._counts[key] = (expiry, count + 1)
        return count + 1

    async def lock(self, key: str, seconds: float) -> None:
        self._sweep(time.time())
        self._locks[key] = time.time() + seconds

    async def locked_for(self, key: str) -> float:
        return max(0.0, self._locks.get(key, 0.0) - time.time())

    async def clear(self, *keys: str) -> None:
        for key in keys:
            self._counts.pop(key, None)
            self._locks.pop(key, None)

    async def close(self) -> None:
        self._counts.clear()
        self._locks.clear()


class RedisCounters:
    def __init__(self, redis: Any, prefix: str = "frontline:counter:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._fallback = MemoryCounters()
        self._outage = Outage(
            log,
            "redis unreachable: counters are kept in this process",
            "redis reachable again: counters are shared again",
        )

    async def _either(
        self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]
    ) -> T:
        """``shared()`` in Redis; ``local()`` in this process while Redis is unreachable."""
        try:
            result = await shared()
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await local()
        self._outage.answered()
        return result

    async def incr(self, key: str, ttl_seconds: int) -> int:
        name = self._prefix + key

        async def shared() -> int:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, ttl_seconds, nx=True)
                count, _ = await pipe.execute()
            return int(count)

        return await self._either(shared, lambda: self._fallback.incr(key, ttl_seconds))

    async def lock(self, key: str, seconds: float) -> None:
        async def shared() -> None:
            px = max(1, int(seconds * 1000))
            await self._redis.set(self._prefix + "lock:" + key, "1", px=px)

        await self._either(shared, lambda: self._fallback.lock(key, seconds))

    async def locked_for(self, key: str) -> float:
        async def shared() -> float:
            ttl_ms = int(await self._redis.pttl(self._prefix + "lock:" + key))
            return ttl_ms / 1000 if ttl_ms > 0 else 0.0

        return await self._either(shared, lambda: self._fallback.locked_for(key))

    async def clear(self, *keys: str) -> None:
        names = [self._prefix + k for k in keys] + [self._prefix + "lock:" + k for k in keys]

        async def shared() -> None:
            if names:
                await self._redis.delete(*names)

        await self._fallback.clear(*keys)
        await self._either(shared, lambda: self._fallback.clear(*keys))

    async def close(self) -> None:
        await self._redis.aclose()


def make_counters(redis_url: str | None, options: RedisOptions | None = None) -> CounterStore:
    if not redis_url:
        return MemoryCounters()
    return RedisCounters(redis_client(redis_url, options))
