"""``frontline_websocket_connections``: an open console or widget socket counts on its
surface while it is open and no longer once it closed (a real server, real sockets)."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from frontline.kit.metrics import registry
from tests.realtime.conftest import (
    LiveServer,
    Socket,
    add_web_channel,
    open_console,
    open_widget,
    widget_session,
)


def open_sockets(surface: str) -> float:
    value = registry.get_sample_value("frontline_websocket_connections", {"surface": surface})
    assert value is not None  # known surfaces are reported from the start, at 0
    return value


async def settled(surface: str, expected: float) -> None:
    async with asyncio.timeout(10):
        while open_sockets(surface) != expected:
            await asyncio.sleep(0.05)


async def test_open_sockets_are_counted_by_surface_until_they_close(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    console_before, widget_before = open_sockets("console"), open_sockets("widget")
    async with open_console(live, tenant.operator_token) as cws:
        await Socket(cws).next("hello")
        assert open_sockets("console") == console_before + 1
        assert open_sockets("widget") == widget_before
        session = await widget_session(live, key)
        async with open_widget(live, key, session["visitor_token"]) as ws:
            await Socket(ws).next("hello")
            assert open_sockets("widget") == widget_before + 1
        await settled("widget", widget_before)
        assert open_sockets("console") == console_before + 1
    await settled("console", console_before)
    # a socket refused before it is accepted (a bad key) never counts
    with pytest.raises(InvalidStatus):
        async with open_widget(live, "not-a-key", session["visitor_token"]):
            pass
    assert open_sockets("widget") == widget_before
