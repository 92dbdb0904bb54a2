"""Two ``frontline serve`` processes on one PostgreSQL and one Redis: the visitor's widget
talks to one, the operator's console to the other, and messages flow both ways in real time
(Redis pub/sub fan-out, Redis presence)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from frontline.deps import Services
from tests.conftest import PG_URL, TEST_SECRET, Factory, empty_tables
from tests.kit.liveserver import side_services, stop_all
from tests.realtime.conftest import (
    LiveServer,
    Socket,
    add_web_channel,
    client_id,
    free_port,
    open_console,
    open_widget,
    widget_session,
)

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs FRONTLINE_TEST_POSTGRES_URL and _REDIS_URL"
)


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "frontline",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-demo",
            "--no-migrate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def two_servers(postgres_url: str) -> Iterator[tuple[str, str]]:
    asyncio.run(empty_tables(postgres_url))
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "FRONTLINE_DATABASE_URL": postgres_url,
        "FRONTLINE_REDIS_URL": REDIS_URL or "",
        "FRONTLINE_SECRET_KEY": TEST_SECRET,
        "FRONTLINE_LOG_LEVEL": "WARNING",
        "FRONTLINE_WORKER_POLL_SECONDS": "0.1",
    }
    ports = free_port(), free_port()
    procs = [_serve(port, env) for port in ports]
    try:
        for proc, port in zip(procs, ports, strict=True):
            _wait_healthy(proc, port)
        yield tuple(f"http://127.0.0.1:{p}" for p in ports)  # type: ignore[misc]
    finally:
        stop_all(procs)
        for proc in procs:
            if proc.stderr is not None:
                proc.stderr.close()


def _wait_healthy(proc: subprocess.Popen[bytes], port: int) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"frontline serve exited: {err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        import time

        time.sleep(0.1)
    raise AssertionError("frontline serve did not become healthy")


@pytest.fixture
async def writer(postgres_url: str) -> AsyncIterator[Services]:
    """Services of the test itself (to create the tenant), on the same database."""
    async with side_services(postgres_url) as services:
        yield services


async def test_visitor_and_operator_on_different_processes(
    two_servers: tuple[str, str], writer: Services
) -> None:
    visitor_url, operator_url = two_servers
    async with (
        httpx.AsyncClient(base_url=visitor_url, timeout=20) as visitor_http,
        httpx.AsyncClient(base_url=operator_url, timeout=20) as operator_http,
    ):
        tenant = await Factory(writer, operator_http).tenant()  # AI off: a person answers
        key = await add_web_channel(writer, tenant)
        on_a = LiveServer(visitor_url, writer, visitor_http, Factory(writer, visitor_http))
        on_b = LiveServer(operator_url, writer, operator_http, Factory(writer, operator_http))
        async with open_console(on_b, tenant.operator_token) as cws:
            console = Socket(cws)
            await console.next("hello")
            session = await widget_session(on_a, key)
            assert session["operators_online"] is True  # presence is shared through Redis
            async with open_widget(on_a, key, session["visitor_token"]) as ws:
                visitor = Socket(ws)
                await visitor.next("hello")
                await visitor.send("message.send", {"client_id": client_id(), "text": "Есть кто?"})
                ack = await visitor.next("message.ack")
                conversation_id = ack["data"]["conversation_id"]
                seen = await console.until(
                    lambda f: f["type"] == "message.created" and f["data"]["text"] == "Есть кто?"
                )
                assert seen["data"]["conversation_id"] == conversation_id
                await console.send("subscribe", {"conversation_id": conversation_id})
                await console.next("subscribed")
                await console.send("typing", {"conversation_id": conversation_id, "active": True})
                assert (await visitor.until(lambda f: f["type"] == "typing"))["data"]["active"]
                r = await operator_http.post(
                    f"/api/v1/conversations/{conversation_id}/messages",
                    json={"text": "Да, я здесь"},
                    headers=tenant.operator,
                )
                assert r.status_code == 201
                reply: dict[str, Any] = await visitor.until(
                    lambda f: f["type"] == "message.created" and f["data"]["sender"] == "operator"
                )
                assert reply["data"]["text"] == "Да, я здесь"
                await visitor.seen(
                    lambda f: (
                        f["type"] == "conversation.status"
                        and f["data"]["state"] == "operator_joined"
                    )
                )
                await visitor.send("typing", {"active": True})
                typing = await console.until(lambda f: f["type"] == "typing")
                assert typing["data"]["sender"] == "contact"
        # the operator left: the other process sees nobody online
        for _ in range(50):
            if not (await widget_session(on_a, key))["operators_online"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("presence did not clear after the console closed")


async def test_redis_fan_out_keeps_each_workspace_s_events_to_itself(
    two_servers: tuple[str, str], writer: Services
) -> None:
    """Two workspaces, each with a console on one process and a visitor on the other: every
    event crosses Redis, and each console and widget gets its own workspace's events (the
    controls) and none of the other's."""
    visitor_url, operator_url = two_servers
    async with (
        httpx.AsyncClient(base_url=visitor_url, timeout=20) as visitor_http,
        httpx.AsyncClient(base_url=operator_url, timeout=20) as operator_http,
    ):
        on_a = LiveServer(visitor_url, writer, visitor_http, Factory(writer, visitor_http))
        on_b = LiveServer(operator_url, writer, operator_http, Factory(writer, operator_http))
        tenants = [await Factory(writer, operator_http).tenant() for _ in range(2)]
        keys = [await add_web_channel(writer, t) for t in tenants]
        texts = ["Сообщение первой компании", "SECRET of the second workspace"]
        async with (
            open_console(on_b, tenants[0].operator_token) as c0,
            open_console(on_b, tenants[1].operator_token) as c1,
        ):
            consoles = [Socket(c0), Socket(c1)]
            for console in consoles:
                await console.next("hello")
            sessions = [await widget_session(on_a, key) for key in keys]
            async with (
                open_widget(on_a, keys[0], sessions[0]["visitor_token"]) as w0,
                open_widget(on_a, keys[1], sessions[1]["visitor_token"]) as w1,
            ):
                visitors = [Socket(w0), Socket(w1)]
                conversation_ids = []
                for visitor, text in zip(visitors, texts, strict=True):
                    await visitor.next("hello")
                    await visitor.send("message.send", {"client_id": client_id(), "text": text})
                    ack = await visitor.next("message.ack")
                    conversation_ids.append(ack["data"]["conversation_id"])
                for console, text in zip(consoles, texts, strict=True):  # the controls
                    await console.until(
                        lambda f, text=text: (
                            f["type"] == "message.created" and f["data"]["text"] == text
                        )
                    )
                # the second workspace's operator answers its visitor
                r = await operator_http.post(
                    f"/api/v1/conversations/{conversation_ids[1]}/messages",
                    json={"text": "Ответ второй компании"},
                    headers=tenants[1].operator,
                )
                assert r.status_code == 201, r.text
                await visitors[1].until(
                    lambda f: f["type"] == "message.created" and f["data"]["sender"] == "operator"
                )
                for socket in [*consoles, *visitors]:
                    await socket.quiet(1.0)  # keeps what arrives in socket.frames
                for mine, socket in ((0, consoles[0]), (1, consoles[1]), (0, visitors[0])):
                    other = 1 - mine
                    seen = "\n".join(str(f) for f in socket.frames)
                    assert texts[other] not in seen, (mine, seen)
                    assert "Ответ второй компании" not in seen or mine == 1
                    for frame in socket.frames:
                        cid = (frame.get("data") or {}).get("conversation_id")
                        assert cid != conversation_ids[other], (mine, frame)
