"""Outbound channel sends share one HTTP client per event loop (keep-alive connections are
reused across sends, adapters and tenants), which keeps no cookies between sends."""

from __future__ import annotations

import asyncio

from frontline.channels.api.adapter import ApiChannelAdapter, ApiChannelConfig
from frontline.channels.base import OutboundMessage
from frontline.channels.http import CLIENTS
from frontline.kit.crypto import verify_signature
from tests.kit.keepalive import Answer, keepalive_server


def reply(n: int, contact: str = "c-1") -> OutboundMessage:
    return OutboundMessage(
        message_id=n,
        conversation_id=1,
        idempotency_key=f"reply-{n}",
        recipient_external_id=contact,
        text=f"answer {n}",
    )


def adapter(url: str, secret: str) -> ApiChannelAdapter:
    return ApiChannelAdapter(ApiChannelConfig.model_validate({"callback_url": url}), secret)


async def test_sends_reuse_one_connection_and_keep_no_cookies() -> None:
    secrets = ["secret-a", "secret-b", "secret-a"]
    async with keepalive_server(
        lambda _request: Answer(headers={"Set-Cookie": "sid=tenant-a; Path=/"})
    ) as server:
        for n, secret in enumerate(secrets):
            # a new adapter per send, as the delivery job builds them (two tenants' channels)
            await adapter(f"{server.base}/hooks/{secret}", secret).send(reply(n))
        assert CLIENTS.size() == 1
    assert server.connections == 1
    assert [r.path for r in server.requests] == [f"/hooks/{secret}" for secret in secrets]
    for request in server.requests:
        assert "cookie" not in request.headers
        secret = request.path.rsplit("/", 1)[1]
        verify_signature(secret, request.body, request.headers["x-frontline-signature"], 300)


async def test_concurrent_sends_spread_over_clients_then_reuse_them() -> None:
    shards = CLIENTS.shards  # clients at most
    async with keepalive_server() as server:
        send = adapter(f"{server.base}/hook", "s").send
        for round_ in range(3):
            await asyncio.gather(*(send(reply(100 * round_ + n, f"c-{n}")) for n in range(shards)))
        assert CLIENTS.size() == shards
    assert len(server.requests) == 3 * shards
    assert server.connections == shards
