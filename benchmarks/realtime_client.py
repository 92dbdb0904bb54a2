"""The realtime benchmark's client side: a visitor's widget session and its sockets (tabs)
as the widget speaks to ``/ws/widget``, and the round-trip record they fill."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

LOST_AFTER = 5.0  # seconds without an echo: the message counts as lost
TEXT = "Здравствуйте! Сколько стоит тур на Байкал в июле на двоих?"


# --- the widget's side ------------------------------------------------------------------


class Widget:
    """The widget's calls against one server: a session, then sockets."""

    def __init__(
        self, http: httpx.AsyncClient, base: str, key: str, compression: str | None = "deflate"
    ) -> None:
        self.http = http
        self.base = base
        self.key = key
        self.compression = compression

    async def session(self, token: str | None = None) -> str:
        for attempt in range(3):  # a kept-alive connection the server just closed: again
            try:
                r = await self.http.post(
                    f"{self.base}/api/v1/widget/session",
                    json={"key": self.key, "visitor_token": token},
                    headers={"Origin": self.base},
                )
                break
            except httpx.TransportError:
                if attempt == 2:
                    raise
        r.raise_for_status()
        return str(r.json()["visitor_token"])

    async def socket(self, token: str) -> tuple[ClientConnection, dict[str, Any]]:
        """An open ``/ws/widget`` and its ``hello`` frame. No client pings: a browser sends
        none (the server's heartbeat keeps the socket alive)."""
        ws_base = self.base.replace("http://", "ws://")
        ws = await connect(
            f"{ws_base}/ws/widget?key={self.key}&token={token}&lang=ru",
            origin=self.base,  # type: ignore[arg-type]
            ping_interval=None,
            open_timeout=60,
            compression=self.compression,
        )
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
        except BaseException:
            await ws.close()
            raise
        if hello.get("type") != "hello":
            await ws.close()
            raise RuntimeError(f"first frame is {hello.get('type')!r}, not hello")
        return ws, hello


@dataclass
class Trips:
    mode: str
    database: str
    visitors: int
    rate: float
    sent_at: dict[str, float] = field(default_factory=dict)  # measured client_id -> sent
    echo_ms: dict[str, float] = field(default_factory=dict)
    ack_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    send_span: float = 0.0
    cpu: list[float] = field(default_factory=list)  # % of one core per server process
    wait: list[float] = field(default_factory=list)  # % runnable but waiting, per server
    client_cpu: float = 0.0
    client_wait: float = 0.0
    db_cpu: float = float("nan")  # PostgreSQL's processes serving the database, all
    others_cpu: float = 0.0  # every other process of the machine
    echoes: int = 0  # message.created frames of the benchmark's messages, all received
    cpu_ms: float = 0.0  # CPU of all servers per message echoed while measuring
    busiest_ms: float = 0.0  # ... of the busiest server process alone

    @property
    def rtt(self) -> list[float]:
        return [ms for ms in self.echo_ms.values() if ms <= LOST_AFTER * 1000]


class Tab:
    """One open widget socket, read by its own task: answers ``ping`` with ``pong`` as the
    widget does (the server closes sockets silent for three heartbeats) and, when it is
    part of a round-trip row, records acks, echoes and errors in ``trips``."""

    def __init__(
        self, ws: ClientConnection, trips: Trips | None = None, *, receives: bool = False
    ) -> None:
        self.ws = ws
        self.trips = trips
        self.receives = receives
        self.first: dict[str, asyncio.Future[None]] = {}  # first messages awaited
        self.task = asyncio.create_task(self._read())

    @property
    def open(self) -> bool:
        return self.ws.close_code is None

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()

    async def send(self, client_id: str) -> None:
        frame = {"type": "message.send", "data": {"client_id": client_id, "text": TEXT}}
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") == "ping":
                    await self.ws.send('{"type": "pong", "data": {}}')
                elif self.trips is not None:
                    self._record(self.trips, now, frame)

    def _record(self, trips: Trips, now: float, frame: dict[str, Any]) -> None:
        kind, data = frame.get("type"), frame.get("data") or {}
        cid = str(data.get("client_id"))
        if kind == "message.created" and self.receives:
            trips.echoes += 1
            waiter = self.first.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            sent = trips.sent_at.get(cid)
            if sent is not None and cid not in trips.echo_ms:
                trips.echo_ms[cid] = (now - sent) * 1000
        elif kind == "message.ack" and cid in trips.sent_at:
            trips.ack_ms.append((now - trips.sent_at[cid]) * 1000)
        elif kind == "error":
            trips.errors[str(data.get("code"))] += 1


def http_client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(timeout=60, limits=limits)


async def bounded(n: int, concurrency: int, make: Any) -> list[Any]:
    """``make(i)`` for i < n, ``concurrency`` at a time; exceptions are returned."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> Any:
        async with gate:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
