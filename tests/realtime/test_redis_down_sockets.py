"""Redis going away does not break the sockets: a typing indicator (or any other event a
socket handler publishes) goes to this process's own subscribers meanwhile (the in-process
fallback of :class:`frontline.realtime.broker.RedisBroker`), the widget and console sockets
stay open and keep working, and events are shared through Redis again once it is back.

A private redis-server (``benchmarks/private_services.py``'s, on a free port) is stopped and
started under a real ``frontline`` server (uvicorn) and real WebSocket clients; nothing
shared is touched."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from benchmarks.private_services import PrivateRedis
from frontline import events
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


@pytest.fixture
async def redis_live(settings: Settings, private_redis: PrivateRedis) -> AsyncIterator[LiveServer]:
    shared = settings.model_copy(
        update={
            "run_worker_in_process": True,
            "realtime_heartbeat_seconds": 25.0,
            "redis_url": private_redis.url,
        }
    )
    async with serving(shared) as server:
        yield server


def typing_of(sender: str, active: bool) -> Any:
    """A typing frame: the console's name the sender; the widget's show the operator's
    name."""

    def match(frame: dict[str, Any]) -> bool:
        data = frame["data"]
        who = data.get("sender") or ("operator" if data.get("author_name") else None)
        return bool(frame["type"] == "typing" and who == sender and data["active"] is active)

    return match


async def test_typing_and_messages_survive_a_redis_outage(
    redis_live: LiveServer, private_redis: PrivateRedis
) -> None:
    live = redis_live
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    token = (await widget_session(live, key))["visitor_token"]
    async with (
        open_widget(live, key, token, lang="en") as ws,
        open_console(live, tenant.operator_token) as cws,
    ):
        visitor, console = Socket(ws), Socket(cws)
        await visitor.next("hello")
        await console.next("hello")
        await visitor.send("message.send", {"client_id": client_id(), "text": "Hello there"})
        conversation_id = (await visitor.next("message.ack"))["data"]["conversation_id"]
        await console.send("subscribe", {"conversation_id": conversation_id})
        await console.next("subscribed")
        await visitor.send("typing", {"active": True})
        await console.until(typing_of("contact", True))  # through Redis

        private_redis.stop()
        # Redis is down: both sockets publish typing; each reaches the other (one process)
        await visitor.send("typing", {"active": False})
        await console.until(typing_of("contact", False))
        await console.send("typing", {"conversation_id": conversation_id, "active": True})
        await visitor.until(typing_of("operator", True))
        # the sockets still work: a message is stored, acknowledged and shown
        await visitor.send("message.send", {"client_id": client_id(), "text": "Still there?"})
        assert (await visitor.next("message.ack"))["data"]["conversation_id"] == conversation_id
        await console.until(
            lambda f: f["type"] == "message.created" and f["data"]["text"] == "Still there?"
        )
        assert not [f for f in visitor.frames + console.frames if f["type"] == "error"]

        private_redis.start()  # back (empty): the pub/sub connection subscribes again
        seen = None
        for attempt in range(40):
            await visitor.send("typing", {"active": attempt % 2 == 0})
            got = await console.quiet(0.5)
            seen = next((f for f in got if f["type"] == "typing"), None)
            if seen is not None:
                break
        assert seen is not None, "typing never arrived after Redis came back"
        # Redis is up, so that event went through it (the fallback is only taken when a
        # publish fails): the restarted server knows the conversation's subscriber again
        probe = Redis.from_url(private_redis.url)
        try:
            topic = events.conversation_topic(tenant.id, conversation_id)
            [(_name, subscribers)] = await probe.pubsub_numsub(topic)
        finally:
            await probe.aclose()
        assert int(subscribers) >= 1
