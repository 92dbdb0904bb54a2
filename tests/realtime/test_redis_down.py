"""Redis going away does not fail requests: the rate limits (and the sign-in counters) are
counted in the process meanwhile, and shared in Redis again when it returns.

A private redis-server (``benchmarks/faults.py``'s, on a free port) is stopped and started
under the real ``redis`` client; nothing shared is touched."""

from __future__ import annotations

import shutil

import pytest
from redis.asyncio import Redis

from benchmarks.private_services import PrivateRedis
from frontline.kit.counters import make_counters
from frontline.realtime.presence import make_rate_limiter
from tests.kit.liveserver import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


async def test_rate_limits_hold_in_process_while_redis_is_down(
    private_redis: PrivateRedis,
) -> None:
    limiter = make_rate_limiter(private_redis.url)
    probe = Redis.from_url(private_redis.url)
    try:
        assert await limiter.hit("k", 3, 60) is None
        assert [k async for k in probe.scan_iter("frontline:rate:k:*")]  # counted in Redis
        private_redis.stop()
        # down: the requests go on, the limit still holds (in this process)
        assert [await limiter.hit("k", 3, 60) for _ in range(3)] == [None, None, None]
        assert (retry := await limiter.hit("k", 3, 60)) is not None and retry >= 1
        private_redis.start()  # back (empty: no persistence): shared counts again
        assert await limiter.hit("k", 3, 60) is None
        assert [k async for k in probe.scan_iter("frontline:rate:k:*")]
    finally:
        await probe.aclose()
        await limiter.close()


async def test_counters_and_locks_go_on_in_process_without_redis() -> None:
    counters = make_counters(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    try:
        assert [await counters.incr("login:a", 60) for _ in range(3)] == [1, 2, 3]
        await counters.lock("login:a", 30)
        assert 29 < await counters.locked_for("login:a") <= 30
        await counters.clear("login:a")
        assert await counters.locked_for("login:a") == 0
        assert await counters.incr("login:a", 60) == 1
    finally:
        await counters.close()
