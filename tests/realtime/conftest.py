"""A real server for the realtime tests: uvicorn on a free loopback port, serving the app
with its in-process worker, so the widget's and console's sockets are exercised over real
WebSockets (the ``websockets`` client) and the AI answers with the offline engine."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.private_services import PrivateRedis
from frontline.app import create_app
from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.deps import Services
from frontline.kit.repository import TenantScope
from frontline.realtime.visitors import widget_key
from frontline.settings import Settings
from tests.conftest import Factory, TenantFixture


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    services: Services
    client: httpx.AsyncClient
    factory: Factory

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"run_worker_in_process": True, "realtime_heartbeat_seconds": 25.0}
    )


async def start_server(settings: Settings) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    app = create_app(settings, run_worker=settings.run_worker_in_process)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    return server, task, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def serving(settings: Settings, client_timeout: float = 20) -> AsyncIterator[LiveServer]:
    """A uvicorn server of ``settings`` and an HTTP client of it, until the block ends."""
    server, task, url = await start_server(settings)
    services: Services = server.config.app.state.services  # type: ignore[attr-defined]
    try:
        async with httpx.AsyncClient(base_url=url, timeout=client_timeout) as client:
            yield LiveServer(url, services, client, Factory(services, client))
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def live(live_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serving(live_settings) as server:
        yield server


async def add_web_channel(services: Services, tenant: TenantFixture, **config: Any) -> str:
    """A web channel for ``tenant``; returns its widget key."""
    async with services.db.transaction() as session:
        channel, _secret = await channels.create_channel(
            session,
            TenantScope(tenant.id),
            services.secret_box,
            channel_type=ChannelType.WEB,
            name="Web chat",
            config=config,
        )
        return widget_key(channel.id)


class Socket:
    """A JSON-frame WebSocket client that keeps what it received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, kind: str, data: dict[str, Any] | None = None) -> None:
        await self.ws.send(json.dumps({"type": kind, "data": data or {}}))

    async def next(self, kind: str | None = None, timeout: float = 15.0) -> dict[str, Any]:
        """The next frame (of ``kind``), skipping others (they stay in ``frames``)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                self.frames.append(frame)
                if kind is None or frame["type"] == kind:
                    return frame  # type: ignore[no-any-return]

    async def until(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next()
                if predicate(frame):
                    return frame

    async def seen(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        """A frame already received that matches, else the next one that does."""
        for frame in self.frames:
            if predicate(frame):
                return frame
        return await self.until(predicate, timeout)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Frames that arrive within ``seconds`` (to check nothing more came)."""
        got: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    got.append(json.loads(await self.ws.recv()))
        except TimeoutError:
            pass
        self.frames.extend(got)
        return got

    async def close(self) -> None:
        await self.ws.close()


async def widget_session(
    live: LiveServer, key: str, token: str | None = None, origin: str | None = None
) -> dict[str, Any]:
    headers = {"Origin": origin} if origin else {}
    r = await live.client.post(
        "/api/v1/widget/session", json={"key": key, "visitor_token": token}, headers=headers
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def open_widget(
    live: LiveServer,
    key: str,
    token: str,
    last_id: int | None = None,
    origin: str | None = None,
    lang: str = "ru",
) -> Any:
    url = f"{live.ws_url}/ws/widget?key={key}&token={token}&lang={lang}"
    if last_id is not None:
        url += f"&last_id={last_id}"
    return connect(url, origin=origin or live.url)  # type: ignore[arg-type]


def open_console(live: LiveServer, token: str) -> Any:
    return connect(f"{live.ws_url}/ws/console?token={token}", origin=live.url)  # type: ignore[arg-type]


def client_id() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of the test's own (``benchmarks.private_services``), to stop and start."""
    folder = Path(tempfile.mkdtemp(prefix="frontline-redis-"))
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
