"""The operator console's socket: ``/ws/console`` (protocol: ``docs/realtime.md``).

It carries every event of the tenant's inbox and, for the conversations the console has
open, the live-only events (AI text as it streams, typing). While an operator has a console
socket open they count as online: widgets tell visitors whether anyone is there.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket

from frontline import events
from frontline.auth import service as auth
from frontline.auth.deps import SESSION_COOKIE, Subject, subject_from_access_token
from frontline.conversations import service as conversations
from frontline.deps import Services
from frontline.errors import NotFound, Unauthorized
from frontline.kit.repository import TenantScope
from frontline.models import Role
from frontline.realtime.broker import Event
from frontline.realtime.connection import (
    CLOSE_UNAUTHORIZED,
    ClientError,
    Connection,
    own_origin,
)

log = logging.getLogger(__name__)

router = APIRouter()

MAX_SUBSCRIPTIONS = 50
# live-only events a console receives for the conversations it subscribed to (the rest of a
# conversation's events reach it through the inbox topic)
_LIVE = {events.MESSAGE_DELTA, events.AI_TYPING, events.TYPING}


class ConsoleSession:
    def __init__(
        self,
        services: Services,
        conn: Connection,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        author_name: str | None,
    ) -> None:
        self.services = services
        self.conn = conn
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.author_name = author_name
        self.inbox = events.inbox_topic(tenant_id)
        self.open: set[int] = set()

    @property
    def scope(self) -> TenantScope:
        return TenantScope(self.tenant_id)

    async def start(self) -> None:
        await self.conn.subscription.add(self.inbox)
        await self._enter()
        await self.conn.send(
            "hello",
            {
                "user_id": str(self.user_id),
                "tenant_id": str(self.tenant_id),
                "heartbeat_seconds": self.conn.heartbeat_seconds,
            },
        )
        self.conn.start_forwarding(self.on_event)

    async def _enter(self) -> None:
        """Count this socket as an operator online (refreshed every heartbeat)."""
        presence, tenant = self.services.presence, str(self.tenant_id)
        before = await presence.count(tenant)
        await presence.enter(tenant, self.conn.id, 3 * self.conn.heartbeat_seconds)
        if before == 0:
            await self._presence_changed(True)

    async def leave(self) -> None:
        presence, tenant = self.services.presence, str(self.tenant_id)
        try:
            await presence.leave(tenant, self.conn.id)
            if await presence.count(tenant) == 0:
                await self._presence_changed(False)
        except Exception:
            log.warning("presence store unreachable", exc_info=True)

    async def heartbeat(self) -> None:
        await self.services.presence.enter(
            str(self.tenant_id), self.conn.id, 3 * self.conn.heartbeat_seconds
        )

    async def _presence_changed(self, online: bool) -> None:
        await self.services.broker.publish(
            events.presence_topic(self.tenant_id),
            {"type": events.OPERATORS_PRESENCE, "data": {"online": online}},
        )

    async def on_event(self, topic: str, event: Event) -> None:
        kind = event.get("type")
        if topic != self.inbox and kind not in _LIVE:
            return
        data = event.get("data") or {}
        if kind == events.TYPING and data.get("user_id") == str(self.user_id):
            return  # the operator's own typing, echoed back
        await self.conn.send(str(kind), data)

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind, data = frame["type"], frame.get("data") or {}
        if kind == "pong":
            return
        if kind not in ("subscribe", "unsubscribe", "typing"):
            raise ClientError("invalid", f"unknown event type {kind!r}")
        raw_id = data.get("conversation_id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool) or raw_id < 1:
            raise ClientError("invalid", "conversation_id must be a positive integer")
        topic = events.conversation_topic(self.tenant_id, raw_id)
        if kind == "unsubscribe":
            self.open.discard(raw_id)
            await self.conn.subscription.remove(topic)
            return
        if raw_id not in self.open:
            await self._check(raw_id)
        if kind == "subscribe":
            if raw_id not in self.open and len(self.open) >= MAX_SUBSCRIPTIONS:
                raise ClientError("invalid", f"at most {MAX_SUBSCRIPTIONS} open conversations")
            self.open.add(raw_id)
            await self.conn.subscription.add(topic)
            await self.conn.send("subscribed", {"conversation_id": raw_id})
            return
        await self.services.broker.publish(
            topic,
            {
                "type": events.TYPING,
                "data": {
                    "conversation_id": raw_id,
                    "active": bool(data.get("active")),
                    "sender": "operator",
                    "author_name": self.author_name,
                    "user_id": str(self.user_id),
                },
            },
        )

    async def _check(self, conversation_id: int) -> None:
        """Only the tenant's own conversations (another tenant's id is "not found")."""
        try:
            async with self.services.db.reader() as session:
                await conversations.get(session, self.scope, conversation_id)
        except NotFound:
            raise ClientError(
                "not_found", "conversation not found", conversation_id=conversation_id
            ) from None


def _operator(services: Services, websocket: WebSocket) -> Subject:
    """The operator behind the socket's access token (``?token=`` or the console's session
    cookie); raises :class:`Unauthorized`."""
    token = websocket.query_params.get("token") or websocket.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("no access token")
    subject = subject_from_access_token(services, token)
    if subject.tenant_id is None or subject.user_id is None:
        raise Unauthorized("log in to a workspace")
    if not subject.has_role(Role.OPERATOR):
        raise Unauthorized("operators only")
    return subject


@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    origin = websocket.headers.get("origin")
    # the session cookie rides along with any page's socket: only Frontline's own pages
    # may open one (no cross-site WebSocket hijacking)
    if origin is not None and origin.lower() != own_origin(websocket):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    try:
        subject = _operator(services, websocket)
    except Unauthorized:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="log in again")
        return
    assert subject.tenant_id is not None and subject.user_id is not None
    tenant_id, user_id = subject.tenant_id, subject.user_id
    author_name = await _author_name(services, user_id)
    heartbeat = services.settings.realtime_heartbeat_seconds
    conn = Connection(websocket, services.broker, heartbeat, "console")
    session = ConsoleSession(services, conn, tenant_id, user_id, author_name)
    try:
        await session.start()
        await conn.receive(session.on_frame, session.heartbeat)
    finally:
        await session.leave()
        await conn.shutdown()


async def _author_name(services: Services, user_id: uuid.UUID) -> str | None:
    async with services.db.reader() as session:
        return await auth.display_name(session, user_id)
