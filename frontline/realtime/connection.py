"""What the widget's and the console's sockets share: the JSON envelope, a send lock, the
heartbeat and the loop that forwards broker events.

Each connection runs two tasks: its endpoint reads client frames (and sends ``ping`` when
the client has been quiet for a heartbeat), and a forwarder takes events from the
connection's one :class:`~frontline.realtime.broker.Subscription`. Idle connections cost
these two parked tasks and their buffers, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from frontline.kit.metrics import websocket_connections
from frontline.realtime.broker import Broker, Event

log = logging.getLogger(__name__)

# close codes (4000-4999 are the application's)
CLOSE_UNAUTHORIZED = 4401
CLOSE_RESYNC = 4408  # too slow to keep up: reconnect with the last id seen
CLOSE_IDLE = 4000
MAX_FRAME_BYTES = 64 * 1024


def own_origin(conn: HTTPConnection) -> str | None:
    """Frontline's own origin as a browser on this host would send it (for a request or a
    WebSocket)."""
    host = conn.headers.get("host")
    if not host:
        return None
    scheme = "https" if conn.url.scheme in ("wss", "https") else "http"
    parts = urlsplit(f"{scheme}://{host}")
    if not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{scheme}://{parts.hostname.lower()}{port}"


class ClientError(Exception):
    """A client event refused: sent as an ``error`` event, the socket stays open."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra


class Connection:
    """One accepted socket: send with a lock, forward subscribed events, heartbeat."""

    def __init__(
        self, websocket: WebSocket, broker: Broker, heartbeat_seconds: float, surface: str
    ) -> None:
        """``surface`` (``console`` or ``widget``) labels the open-connections gauge; the
        connection counts from here until :meth:`shutdown`."""
        self.websocket = websocket
        self.surface = surface
        websocket_connections.labels(surface).inc()
        self.id = uuid.uuid4().hex
        self.subscription = broker.subscription()
        self.heartbeat_seconds = heartbeat_seconds
        self._send_lock = asyncio.Lock()
        self._last_seen = time.monotonic()
        self._forwarder: asyncio.Task[None] | None = None

    async def send(self, kind: str, data: dict[str, Any]) -> None:
        text = json.dumps({"type": kind, "data": data}, ensure_ascii=False, default=str)
        async with self._send_lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.websocket.send_text(text)
            except (OSError, RuntimeError) as exc:
                # the transport closed under us: the client is gone
                raise WebSocketDisconnect(1006) from exc

    async def error(self, exc: ClientError) -> None:
        await self.send("error", {"code": exc.code, "message": str(exc), **exc.extra})

    def start_forwarding(self, on_event: Callable[[str, Event], Awaitable[None]]) -> None:
        self._forwarder = asyncio.create_task(self._forward(on_event))

    async def _forward(self, on_event: Callable[[str, Event], Awaitable[None]]) -> None:
        try:
            while True:
                topic, event = await self.subscription.get()
                if self.subscription.overflowed:
                    await self.close(CLOSE_RESYNC)
                    return
                try:
                    await on_event(topic, event)
                except (WebSocketDisconnect, RuntimeError):
                    return
                except Exception:
                    log.warning("forwarding a realtime event failed", exc_info=True)
        except asyncio.CancelledError:
            raise

    async def receive(
        self,
        on_frame: Callable[[dict[str, Any]], Awaitable[None]],
        on_heartbeat: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Read client frames until the socket closes. Every heartbeat: ``ping`` (so proxies
        keep the connection and the client knows it is alive) and ``on_heartbeat``; a client
        silent for three heartbeats is gone and is closed."""
        try:
            await self._receive(on_frame, on_heartbeat)
        except WebSocketDisconnect:
            return  # the client left while we were answering it

    async def _receive(
        self,
        on_frame: Callable[[dict[str, Any]], Awaitable[None]],
        on_heartbeat: Callable[[], Awaitable[None]] | None,
    ) -> None:
        next_beat = time.monotonic() + self.heartbeat_seconds
        while True:
            message: MutableMapping[str, Any] | None = None
            with contextlib.suppress(TimeoutError):
                message = await asyncio.wait_for(
                    self.websocket.receive(), timeout=max(0.0, next_beat - time.monotonic())
                )
            now = time.monotonic()
            if now >= next_beat:
                if now - self._last_seen > 3 * self.heartbeat_seconds:
                    await self.close(CLOSE_IDLE)
                    return
                next_beat = now + self.heartbeat_seconds
                await self.send("ping", {})
                if on_heartbeat is not None:
                    await on_heartbeat()
            if message is None:
                continue
            if message["type"] == "websocket.disconnect":
                return
            self._last_seen = now
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"].decode("utf-8", errors="replace")
            await self._dispatch(raw or "", on_frame)

    async def _dispatch(
        self, raw: str, on_frame: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        try:
            if len(raw) > MAX_FRAME_BYTES:
                raise ClientError("invalid", f"frame over {MAX_FRAME_BYTES} bytes")
            try:
                frame = json.loads(raw)
            except ValueError:
                raise ClientError("invalid", "a frame is one JSON object") from None
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise ClientError("invalid", 'a frame is {"type": ..., "data": {...}}')
            if not isinstance(frame.get("data", {}), dict):
                raise ClientError("invalid", "data must be an object")
            await on_frame(frame)
        except ClientError as exc:
            await self.error(exc)
        except (WebSocketDisconnect, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("realtime client event failed")
            await self.error(ClientError("internal", "something went wrong; try again"))

    async def close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.close(code)

    async def shutdown(self) -> None:
        websocket_connections.labels(self.surface).dec()
        if self._forwarder is not None:
            self._forwarder.cancel()
            with contextlib.suppress(BaseException):
                await self._forwarder
        await self.subscription.close()
