"""Shared counters of the realtime layer: who is online, and message rate limits.

In-memory for the embedded default (one process); Redis in production, so that every API
instance sees the same operators online and one visitor cannot multiply their rate limit
by reconnecting to another instance.

Redis is an accelerator here, not a store of record: while it is unreachable the rate limits
are counted in each process's memory (a limit then holds per API process, not across them)
and requests go on; the shared counts resume when Redis answers again.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Protocol

from redis.exceptions import RedisError

from frontline.kit.redis import Outage, RedisOptions, redis_client

log = logging.getLogger(__name__)


class PresenceStore(Protocol):
    """Connections that are online, per tenant; an entry not refreshed within its TTL is gone
    (a process that died without saying goodbye)."""

    async def enter(self, tenant_id: str, connection_id: str, ttl_seconds: float) -> None: ...

    async def leave(self, tenant_id: str, connection_id: str) -> None: ...

    async def count(self, tenant_id: str) -> int: ...

    async def close(self) -> None: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        """Count one event under ``key``; ``None`` when it is within ``limit`` per window,
        else the seconds until the window ends (the event is refused)."""
        ...

    async def close(self) -> None: ...


class MemoryPresence:
    def __init__(self) -> None:
        self._entries: dict[str, dict[str, float]] = {}

    async def enter(self, tenant_id: str, connection_id: str, ttl_seconds: float) -> None:
        self._entries.setdefault(tenant_id, {})[connection_id] = time.monotonic() + ttl_seconds

    async def leave(self, tenant_id: str, connection_id: str) -> None:
        entries = self._entries.get(tenant_id)
        if entries is not None:
            entries.pop(connection_id, None)
            if not entries:
                del self._entries[tenant_id]

    async def count(self, tenant_id: str) -> int:
        entries = self._entries.get(tenant_id)
        if not entries:
            return 0
        now = time.monotonic()
        for key in [k for k, expiry in entries.items() if expiry < now]:
            del entries[key]
        return len(entries)

    async def close(self) -> None:
        self._entries.clear()


class MemoryRateLimiter:
    """Fixed windows per key, forgotten when they end."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._max_keys = max_keys

    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        now = time.time()
        window = int(now // window_seconds)
        current, count = self._windows.get(key, (window, 0))
        if current != window:
            count = 0
        if count >= limit:
            return _retry_after(now, window, window_seconds)
        if len(self._windows) >= self._max_keys and key not in self._windows:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        self._windows[key] = (window, count + 1)
        return None

    async def close(self) -> None:
        self._windows.clear()


def _retry_after(now: float, window: int, window_seconds: int) -> float:
    return max(1.0, math.ceil((window + 1) * window_seconds - now))


class RedisPresence:
    """A sorted set per tenant: member = connection, score = expiry time. While Redis is
    unreachable the connections are kept in this process (``fallback``): a socket opening
    meanwhile sees the operators online here, not across processes, and is not failed."""

    def __init__(self, redis: Any, fallback: PresenceStore | None = None) -> None:
        self._redis = redis
        self._fallback = fallback or MemoryPresence()
        self._outage = Outage(
            log,
            "redis unreachable: operator presence is kept in this process",
            "redis reachable again: operator presence is shared again",
        )

    @staticmethod
    def _key(tenant_id: str) -> str:
        return f"frontline:presence:{tenant_id}"

    async def enter(self, tenant_id: str, connection_id: str, ttl_seconds: float) -> None:
        # kept here too: the fallback is current whenever Redis goes away
        await self._fallback.enter(tenant_id, connection_id, ttl_seconds)
        key = self._key(tenant_id)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(key, {connection_id: time.time() + ttl_seconds})
                pipe.expire(key, max(60, int(ttl_seconds * 4)))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return
        self._outage.answered()

    async def leave(self, tenant_id: str, connection_id: str) -> None:
        await self._fallback.leave(tenant_id, connection_id)
        try:
            await self._redis.zrem(self._key(tenant_id), connection_id)
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return
        self._outage.answered()

    async def count(self, tenant_id: str) -> int:
        try:
            found = int(await self._redis.zcount(self._key(tenant_id), time.time(), "+inf"))
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await self._fallback.count(tenant_id)
        self._outage.answered()
        return found

    async def close(self) -> None:
        await self._fallback.close()
        await self._redis.aclose()


class RedisRateLimiter:
    """Fixed windows with ``INCR`` + ``EXPIRE``: one round trip per event. While Redis is
    unreachable the windows are counted in this process (``fallback``)."""

    def __init__(self, redis: Any, fallback: RateLimiter | None = None) -> None:
        self._redis = redis
        self._fallback = fallback or MemoryRateLimiter()
        self._outage = Outage(
            log,
            "redis unreachable: rate limits are counted in this process",
            "redis reachable again: rate limits are shared again",
        )

    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        now = time.time()
        window = int(now // window_seconds)
        redis_key = f"frontline:rate:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, window_seconds + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await self._fallback.hit(key, limit, window_seconds)
        self._outage.answered()
        if int(count) > limit:
            return _retry_after(now, window, window_seconds)
        return None

    async def close(self) -> None:
        await self._redis.aclose()


def make_presence(redis_url: str | None, options: RedisOptions | None = None) -> PresenceStore:
    if not redis_url:
        return MemoryPresence()
    return RedisPresence(redis_client(redis_url, options))


def make_rate_limiter(redis_url: str | None, options: RedisOptions | None = None) -> RateLimiter:
    if not redis_url:
        return MemoryRateLimiter()
    return RedisRateLimiter(redis_client(redis_url, options))
