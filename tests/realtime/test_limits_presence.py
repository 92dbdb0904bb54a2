"""Rate limits, presence and the web channel's settings, on memory and on Redis (the Redis
ones are shared by every process: two stores on one Redis see the same counts)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from frontline.channels.base import InvalidPayload
from frontline.channels.registry import validate_config
from frontline.channels.web.adapter import WebChannelConfig
from frontline.realtime.presence import (
    MemoryPresence,
    MemoryRateLimiter,
    make_presence,
    make_rate_limiter,
)
from frontline.realtime.visitors import VisitorTokens, channel_id_for_key, widget_key

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="FRONTLINE_TEST_REDIS_URL not set")


async def _limit_checks(first: Any, second: Any) -> None:
    key = f"visitor:{uuid.uuid4().hex}"
    assert await first.hit(key, 3, 60) is None
    assert await second.hit(key, 3, 60) is None
    assert await first.hit(key, 3, 60) is None
    retry = await second.hit(key, 3, 60)
    assert retry is not None and 1 <= retry <= 60
    assert await first.hit(f"{key}-other", 3, 60) is None  # keys are independent


async def test_memory_rate_limit() -> None:
    limiter = MemoryRateLimiter()
    await _limit_checks(limiter, limiter)


@needs_redis
async def test_redis_rate_limit_is_shared_between_processes() -> None:
    a, b = make_rate_limiter(REDIS_URL), make_rate_limiter(REDIS_URL)
    try:
        await _limit_checks(a, b)
    finally:
        await a.close()
        await b.close()


async def _presence_checks(first: Any, second: Any) -> None:
    tenant = uuid.uuid4().hex
    assert await first.count(tenant) == 0
    await first.enter(tenant, "conn-1", 30)
    await second.enter(tenant, "conn-2", 30)
    assert await second.count(tenant) == 2
    await first.leave(tenant, "conn-1")
    assert await first.count(tenant) == 1
    # an entry not refreshed in time is gone (its process died without leaving)
    await second.enter(tenant, "conn-2", -1)
    assert await first.count(tenant) == 0


async def test_memory_presence() -> None:
    presence = MemoryPresence()
    await _presence_checks(presence, presence)


@needs_redis
async def test_redis_presence_is_shared_between_processes() -> None:
    a, b = make_presence(REDIS_URL), make_presence(REDIS_URL)
    try:
        await _presence_checks(a, b)
    finally:
        await a.close()
        await b.close()


def test_visitor_tokens_are_bound_to_channel_and_key() -> None:
    channel, other = uuid.uuid4(), uuid.uuid4()
    tokens = VisitorTokens(["new-secret-key-0123456789abcdef0123"])
    visitor_id, token = tokens.issue(channel)
    assert tokens.verify(channel, token) == visitor_id
    assert tokens.verify(other, token) is None  # another channel's widget
    assert tokens.verify(channel, token[:-2] + "xx") is None
    assert tokens.verify(channel, None) is None
    assert tokens.verify(channel, "vt1." + visitor_id) is None
    # after a key rotation, tokens signed with the previous key still work
    rotated = VisitorTokens(
        ["newer-secret-key-0123456789abcdef012", "new-secret-key-0123456789abcdef0123"]
    )
    assert rotated.verify(channel, token) == visitor_id
    assert channel_id_for_key(widget_key(channel)) == channel
    assert channel_id_for_key("wk_not-hex") is None and channel_id_for_key("abc") is None


def test_web_channel_config() -> None:
    config = validate_config(
        "web", {"allowed_origins": ["HTTPS://Shop.Example.com/", "http://localhost:3000"]}
    )
    assert isinstance(config, WebChannelConfig)
    assert config.allowed_origins == ["https://shop.example.com", "http://localhost:3000"]
    assert config.messages_per_minute == 20
    assert config.allows("https://shop.example.com")
    assert not config.allows("https://shop.example.com.evil.io")
    assert not config.allows("null")
    assert config.allows("http://127.0.0.1:8000", own_origin="http://127.0.0.1:8000")
    assert WebChannelConfig(allowed_origins=["*"]).allows("https://anything.example")
    for bad in (
        {"allowed_origins": ["shop.example.com"]},
        {"allowed_origins": ["https://shop.example.com/path"]},
        {"color": "red; background:url(x)"},
        {"position": "top"},
        {"messages_per_minute": 0},
        {"unknown": 1},
    ):
        with pytest.raises(InvalidPayload):
            validate_config("web", bad)
