"""A Redis that stops answering (the process paused with SIGSTOP: its sockets stay open) or
goes away (killed, then started again) fails no realtime client: every Redis client has
bounded waits (``FRONTLINE_REDIS_*``), a subscription made meanwhile is served by the
process (local delivery, like a publish), and once Redis answers again the topics
subscribed meanwhile are shared through it again. One log line when Redis goes, one when it
is back.

A private redis-server (``benchmarks/private_services.py``'s, on a free port) is paused,
resumed, stopped and started under the real ``redis`` client, a real ``frontline`` server
(uvicorn) and real WebSocket clients; nothing shared is touched. The ``asyncio.timeout``
bounds only turn a hang into a failure; nothing here measures speed."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from benchmarks.private_services import PrivateRedis
from frontline.app import create_app
from frontline.deps import Services
from frontline.kit.redis import RedisOptions
from frontline.realtime.broker import RedisBroker, Subscription
from frontline.settings import Settings
from tests.realtime.conftest import (
    LiveServer,
    Socket,
    add_web_channel,
    client_id,
    open_console,
    open_widget,
    serving,
    widget_session,
)

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)

FAST = RedisOptions(connect_timeout=1.0, socket_timeout=1.0, health_check_interval=1.0)
HANG = 30.0  # seconds: a wait this long is a hang


@contextmanager
def paused(redis: PrivateRedis) -> Iterator[None]:
    """redis-server stopped with SIGSTOP (it keeps its sockets; nothing answers)."""
    assert redis.proc is not None
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)


async def received(sub: Subscription) -> tuple[str, Any]:
    async with asyncio.timeout(HANG):
        return await sub.get()


async def shared_again(sender: RedisBroker, sub: Subscription, topic: str) -> None:
    """``sender`` (another process) publishes on ``topic`` until ``sub`` gets it through
    Redis."""
    async with asyncio.timeout(HANG):
        n = 0
        while True:
            n += 1
            await sender.publish(topic, {"probe": n})
            try:
                async with asyncio.timeout(0.5):
                    got_topic, event = await sub.get()
            except TimeoutError:
                continue
            if got_topic == topic and "probe" in event:
                return


def lines(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_subscribing_and_publishing_go_on_while_redis_is_paused_or_gone(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="frontline.realtime.broker")
    here = RedisBroker(private_redis.url, options=FAST)
    there = RedisBroker(private_redis.url, options=FAST)  # another API process
    subs: list[Subscription] = []

    async def subscribed(broker: RedisBroker, topic: str) -> Subscription:
        sub = broker.subscription()
        subs.append(sub)
        async with asyncio.timeout(HANG):
            await sub.add(topic)
        return sub

    try:
        first = await subscribed(here, "t:first")
        await shared_again(there, first, "t:first")  # Redis works

        with paused(private_redis):
            # a socket opening now subscribes without failing, and gets this process's events
            during = await subscribed(here, "t:paused")
            async with asyncio.timeout(HANG):
                await here.publish("t:paused", {"n": 1})
            assert await received(during) == ("t:paused", {"n": 1})
            again = await subscribed(here, "t:paused-2")
            async with asyncio.timeout(HANG):
                await here.publish("t:paused-2", {"n": 2})
            assert await received(again) == ("t:paused-2", {"n": 2})
        # resumed: what was subscribed meanwhile is shared through Redis again
        await shared_again(there, during, "t:paused")
        await shared_again(there, again, "t:paused-2")

        private_redis.stop()  # gone: connections refused
        gone = await subscribed(here, "t:gone")
        await here.publish("t:gone", {"n": 3})
        assert await received(gone) == ("t:gone", {"n": 3})
        private_redis.start()  # back, empty: the subscriptions are made again
        await shared_again(there, gone, "t:gone")
        await shared_again(there, first, "t:first")
        await shared_again(here, first, "t:first")  # and both brokers saw Redis back
    finally:
        for sub in subs:
            await sub.close()
        await here.close()
        await there.close()
    went = lines(caplog, "redis unreachable")
    assert 2 <= went <= 4  # once per outage and broker, not once per failed command
    assert lines(caplog, "redis reachable again") == went
    assert lines(caplog, "pub/sub read failed") == 0


def test_every_redis_client_gets_the_configured_timeouts(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "redis_url": "redis://127.0.0.1:1/0",
            "redis_connect_timeout_seconds": 1.5,
            "redis_socket_timeout_seconds": 2.5,
            "redis_health_check_seconds": 7.0,
        }
    )
    services: Services = create_app(configured, run_worker=False).state.services
    clients = [
        services.broker._redis,  # type: ignore[attr-defined]
        services.presence._redis,  # type: ignore[attr-defined]
        services.rate_limiter._redis,  # type: ignore[attr-defined]
        services.login_throttle.store._redis,  # type: ignore[attr-defined]
    ]
    for client in clients:
        kwargs = client.connection_pool.connection_kwargs
        assert (
            kwargs["socket_connect_timeout"],
            kwargs["socket_timeout"],
            kwargs["health_check_interval"],
        ) == (1.5, 2.5, 7.0)
    assert Settings().redis_socket_timeout_seconds > 0  # a default: never unbounded


@pytest.fixture
async def paused_live(settings: Settings, private_redis: PrivateRedis) -> AsyncIterator[LiveServer]:
    shared = settings.model_copy(
        update={
            "run_worker_in_process": True,
            "realtime_heartbeat_seconds": 25.0,
            "redis_url": private_redis.url,
            "redis_connect_timeout_seconds": 1.0,
            "redis_socket_timeout_seconds": 1.0,
        }
    )
    async with serving(shared, client_timeout=HANG) as server:
        yield server


async def test_sockets_open_and_work_while_redis_is_paused(
    paused_live: LiveServer, private_redis: PrivateRedis
) -> None:
    live = paused_live
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    token = (await widget_session(live, key))["visitor_token"]
    with paused(private_redis):
        async with (
            open_widget(live, key, token, lang="en") as ws,
            open_console(live, tenant.operator_token) as cws,
        ):
            visitor, console = Socket(ws), Socket(cws)
            await visitor.next("hello", timeout=HANG)
            await console.next("hello", timeout=HANG)
            await visitor.send("message.send", {"client_id": client_id(), "text": "Anyone?"})
            ack = await visitor.next("message.ack", timeout=HANG)
            conversation_id = ack["data"]["conversation_id"]
            await console.send("subscribe", {"conversation_id": conversation_id})
            await console.next("subscribed", timeout=HANG)
            await visitor.send("message.send", {"client_id": client_id(), "text": "Hello?"})
            await console.until(
                lambda f: f["type"] == "message.created" and f["data"]["text"] == "Hello?",
                timeout=HANG,
            )
            await console.send("typing", {"conversation_id": conversation_id, "active": True})
            await visitor.until(lambda f: f["type"] == "typing", timeout=HANG)
            assert not [f for f in visitor.frames + console.frames if f["type"] == "error"]
