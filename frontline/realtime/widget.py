"""The web chat widget's endpoints: ``POST /api/v1/widget/session`` and ``/ws/widget``.

Protocol: ``docs/realtime.md``. The visitor's messages enter through the same inbound path
as every channel (:func:`frontline.conversations.flows.ingest`: stored, then the AI job),
with the client's message id as the external id, so a resend after a network drop stores
nothing new. The socket subscribes first, then reads what the client missed from the
database, then forwards live events above the last message id it sent: the gap arrives
exactly once, in order.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.ai.offline.text import detect_language
from frontline.attachments import service as attachments
from frontline.channels import service as channels
from frontline.channels.base import (
    MAX_ATTACHMENTS_PER_MESSAGE,
    ChannelType,
    InboundContact,
    InboundMessage,
)
from frontline.channels.service import ChannelRuntime
from frontline.channels.web.adapter import WebChannelConfig
from frontline.contacts import service as contacts
from frontline.contacts.schemas import ContactPatch
from frontline.conversations import flows
from frontline.conversations import service as conversations
from frontline.conversations.limits import OverLimit
from frontline.deps import Services
from frontline.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unprocessable,
)
from frontline.kit.i18n import normalize_locale, t
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import ConversationStatus, Message, SenderType
from frontline.realtime.broker import Event
from frontline.realtime.connection import (
    CLOSE_UNAUTHORIZED,
    ClientError,
    Connection,
    own_origin,
)
from frontline.realtime.visitors import (
    channel_id_for_key,
    contact_external_id,
    message_external_id,
)

log = logging.getLogger(__name__)

router = APIRouter()

HISTORY_LIMIT = 50  # messages in the first ``hello`` of a visitor without ``last_id``
GAP_LIMIT = 1000  # messages a reconnecting client can catch up on at once
RATE_WINDOW_SECONDS = 60
TYPING_REPEAT_SECONDS = 3.0  # a repeated "still typing" is passed on at most this often

_STATE = {
    ConversationStatus.BOT.value: "bot",
    ConversationStatus.PENDING.value: "waiting",
    ConversationStatus.OPEN.value: "operator_joined",
    ConversationStatus.RESOLVED.value: "resolved",
}
_CONVERSATION_EVENTS = {
    events.CONVERSATION_CREATED,
    events.CONVERSATION_UPDATED,
    events.CONVERSATION_STATUS,
    events.CONVERSATION_HANDOFF_REQUESTED,
    events.CONVERSATION_ASSIGNED,
}


def widget_state(status: str | None) -> str:
    return _STATE.get(status or "", "bot")


def widget_message(message: Message | dict[str, Any]) -> dict[str, Any]:
    """A message as the widget shows it (never internal, never the AI's reasoning)."""
    get = message.get if isinstance(message, dict) else lambda k: getattr(message, k)
    meta = get("meta") or {}
    created = get("created_at")
    return {
        "id": get("id"),
        "conversation_id": get("conversation_id"),
        "sender": get("sender_type"),
        "text": get("text"),
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "client_id": meta.get("client_id"),
        "stream_id": meta.get("stream_id"),
        "author_name": meta.get("author_name"),
        "attachments": [],
    }


# ---- channel look-up -------------------------------------------------------------------


async def widget_channel(services: Services, key: str | None) -> ChannelRuntime:
    channel_id = channel_id_for_key(key or "")
    if channel_id is None:
        raise NotFound("unknown widget key")
    try:
        return await channels.runtime_for_webhook(
            services.db.sessionmaker,
            services.secret_box,
            channel_id,
            ChannelType.WEB,
            services.channel_cache,
        )
    except NotFound:
        raise NotFound("unknown widget key") from None


def channel_config(runtime: ChannelRuntime) -> WebChannelConfig:
    return WebChannelConfig.model_validate(runtime.config)


@dataclass
class _Visitor:
    channel: ChannelRuntime
    config: WebChannelConfig
    visitor_id: str
    conversation_id: int | None
    status: str | None

    @property
    def scope(self) -> TenantScope:
        return TenantScope(self.channel.tenant_id)


async def load_visitor(services: Services, channel: ChannelRuntime, visitor_id: str) -> _Visitor:
    scope = TenantScope(channel.tenant_id)
    async with services.db.reader() as session:
        context = await conversations.inbound_context(
            session, scope, channel.id, "", contact_external_id(visitor_id)
        )
    latest = context.latest
    return _Visitor(
        channel=channel,
        config=channel_config(channel),
        visitor_id=visitor_id,
        conversation_id=latest.id if latest else None,
        status=latest.status if latest else None,
    )


async def identified(services: Services, channel: ChannelRuntime, visitor_id: str) -> bool:
    """Whether the visitor is a signed-in user of the host site (a channel that requires
    identity serves no one else, whatever token they kept from before)."""
    async with services.db.reader() as session:
        contact = await contacts.find_by_identity(
            session, TenantScope(channel.tenant_id), channel.id, contact_external_id(visitor_id)
        )
    return contact is not None and contact.user_id is not None


async def operators_online(services: Services, tenant_id: uuid.UUID) -> bool:
    try:
        return await services.presence.count(str(tenant_id)) > 0
    except Exception:
        log.warning("presence store unreachable", exc_info=True)
        return False


# ---- WebSocket -------------------------------------------------------------------------


class _SendIn(BaseModel):
    client_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    text: str = ""
    # ids of the visitor's uploads (POST /api/v1/widget/attachments) sent with it
    attachments: list[int] = Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_MESSAGE)


class _CsatIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


class _ContactIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ClientError("invalid", f"{where}: {first.get('msg', 'invalid')}") from None


class WidgetSession:
    """One widget socket of one visitor."""

    def __init__(
        self, services: Services, conn: Connection, visitor: _Visitor, language: str
    ) -> None:
        self.services = services
        self.conn = conn
        self.visitor = visitor
        self.language = language
        self.last_sent_id = 0
        self.state_sent: str | None = None
        self.typing_active = False
        self.typing_at = 0.0

    @property
    def scope(self) -> TenantScope:
        return self.visitor.scope

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.visitor.channel.tenant_id

    def _conversation_topic(self, conversation_id: int) -> str:
        return events.conversation_topic(self.tenant_id, conversation_id)

    async def start(self, last_id: int | None) -> None:
        sub = self.conn.subscription
        v = self.visitor
        await sub.add(events.visitor_topic(self.tenant_id, v.channel.id, v.visitor_id))
        await sub.add(events.presence_topic(self.tenant_id))
        if v.conversation_id is not None:
            await sub.add(self._conversation_topic(v.conversation_id))
        # subscribed first, then read: nothing published meanwhile is lost
        history: list[dict[str, Any]] = []
        if v.conversation_id is not None:
            async with self.services.db.reader() as session:
                rows = await messages.visible_messages(
                    session,
                    self.scope,
                    v.conversation_id,
                    after_id=last_id,
                    limit=GAP_LIMIT if last_id is not None else HISTORY_LIMIT,
                )
                conversation = await conversations.get(session, self.scope, v.conversation_id)
                history = await self._with_files(session, rows)
            v.status = conversation.status
        self.last_sent_id = max([last_id or 0, *(m["id"] for m in history)])
        self.state_sent = widget_state(v.status)
        await self.conn.send(
            "hello",
            {
                "visitor_id": v.visitor_id,
                "conversation_id": v.conversation_id,
                "status": v.status or ConversationStatus.BOT.value,
                "state": self.state_sent,
                "operators_online": await operators_online(self.services, self.tenant_id),
                "heartbeat_seconds": self.conn.heartbeat_seconds,
                "messages": history,
            },
        )
        self.conn.start_forwarding(self.on_event)

    # -- live events -> the visitor

    async def on_event(self, topic: str, event: Event) -> None:
        kind, data = event.get("type"), event.get("data") or {}
        if kind == events.MESSAGE_CREATED:
            if data.get("is_internal") or int(data.get("id", 0)) <= self.last_sent_id:
                return
            if data.get("conversation_id") != self.visitor.conversation_id:
                return
            self.last_sent_id = int(data["id"])
            await self.conn.send(events.MESSAGE_CREATED, self._visitor_message(data))
        elif kind == events.MESSAGE_UPDATED:
            # a file of a message the visitor has was fetched (or failed): show it now
            if data.get("is_internal") or not data.get("attachments"):
                return
            if data.get("conversation_id") != self.visitor.conversation_id:
                return
            if int(data.get("id", 0)) <= self.last_sent_id:
                await self.conn.send(events.MESSAGE_UPDATED, self._visitor_message(data))
        elif kind in (events.MESSAGE_DELTA, events.AI_TYPING):
            await self.conn.send(kind, data)
        elif kind == events.TYPING:
            if data.get("sender") == "operator":
                await self.conn.send(
                    events.TYPING,
                    {
                        "conversation_id": data.get("conversation_id"),
                        "active": bool(data.get("active")),
                        "author_name": data.get("author_name"),
                    },
                )
        elif kind in _CONVERSATION_EVENTS:
            if data.get("id") != self.visitor.conversation_id:
                return
            self.visitor.status = data.get("status")
            await self._send_status(force=False)
        elif kind == events.OPERATORS_PRESENCE:
            await self._send_status(force=True)
        elif kind == events.WIDGET_BOUND:
            await self._bind(int(data["conversation_id"]))

    async def _send_status(self, *, force: bool) -> None:
        state = widget_state(self.visitor.status)
        if not force and state == self.state_sent:
            return
        self.state_sent = state
        await self.conn.send(
            events.CONVERSATION_STATUS,
            {
                "conversation_id": self.visitor.conversation_id,
                "status": self.visitor.status or ConversationStatus.BOT.value,
                "state": state,
                "operators_online": await operators_online(self.services, self.tenant_id),
            },
        )

    async def _bind(self, conversation_id: int) -> None:
        """Follow the visitor's (new) conversation and send what it already holds."""
        if conversation_id == self.visitor.conversation_id:
            return
        previous = self.visitor.conversation_id
        self.visitor.conversation_id = conversation_id
        await self.conn.subscription.add(self._conversation_topic(conversation_id))
        if previous is not None:
            await self.conn.subscription.remove(self._conversation_topic(previous))
        async with self.services.db.reader() as session:
            rows = await messages.visible_messages(
                session, self.scope, conversation_id, after_id=self.last_sent_id, limit=GAP_LIMIT
            )
            conversation = await conversations.get(session, self.scope, conversation_id)
            shown = await self._with_files(session, rows)
        for m in shown:
            if m["id"] > self.last_sent_id:
                self.last_sent_id = m["id"]
                await self.conn.send(events.MESSAGE_CREATED, m)
        self.visitor.status = conversation.status
        await self._send_status(force=False)

    # -- files: the visitor gets signed, short-lived links (no staff credentials)

    def _file(self, attachment: dict[str, Any]) -> dict[str, Any]:
        out = dict(attachment)
        if out.get("url"):
            runtime = self.services.attachments
            out["url"] = runtime.links.widget_url(
                self.visitor.channel.id, int(out["id"]), runtime.limits.url_ttl_seconds
            )
        return out

    def _visitor_message(self, data: dict[str, Any]) -> dict[str, Any]:
        shown = widget_message(data)
        shown["attachments"] = [self._file(a) for a in data.get("attachments") or ()]
        return shown

    async def _with_files(
        self, session: AsyncSession, rows: Sequence[Message]
    ) -> list[dict[str, Any]]:
        files = await attachments.for_messages(session, self.scope, [m.id for m in rows])
        shown = []
        for m in rows:
            item = widget_message(m)
            item["attachments"] = [self._file(a.model_dump()) for a in files.get(m.id, ())]
            shown.append(item)
        return shown

    # -- client events

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind, data = frame["type"], frame.get("data") or {}
        if kind == "message.send":
            await self._message_send(_parse(_SendIn, data))
        elif kind == "typing":
            await self._typing(bool(data.get("active")))
        elif kind == "handoff.request":
            await self._handoff()
        elif kind == "csat.submit":
            await self._csat(_parse(_CsatIn, data))
        elif kind == "contact.update":
            await self._contact(_parse(_ContactIn, data))
        elif kind == "pong":
            return
        else:
            raise ClientError("invalid", f"unknown event type {kind!r}")

    async def _message_send(self, body: _SendIn) -> None:
        text = body.text.strip()
        config = self.visitor.config
        if not text and not body.attachments:
            raise ClientError("invalid", "empty message", client_id=body.client_id)
        if len(text) > config.max_message_chars:
            raise ClientError(
                "too_long",
                f"a message is at most {config.max_message_chars} characters",
                client_id=body.client_id,
                max_chars=config.max_message_chars,
            )
        key = f"widget:{self.visitor.channel.id}:{self.visitor.visitor_id}"
        retry_after = await self.services.rate_limiter.hit(
            key, config.messages_per_minute, RATE_WINDOW_SECONDS
        )
        if retry_after is not None:
            raise ClientError(
                "rate_limited",
                f"at most {config.messages_per_minute} messages a minute",
                client_id=body.client_id,
                retry_after=retry_after,
            )
        v = self.visitor
        inbound = InboundMessage(
            external_id=message_external_id(v.visitor_id, body.client_id),
            contact=InboundContact(external_id=contact_external_id(v.visitor_id)),
            text=text,
            meta={"client_id": body.client_id},
        )
        uploads = list(dict.fromkeys(body.attachments))
        try:
            result = await flows.ingest(
                self.services.db,
                self.scope,
                v.channel.id,
                ChannelType.WEB.value,
                inbound,
                uploads,
                limits=self.services.inbound_limits,
                over_limit=OverLimit.REFUSE,
                per_contact_limit=False,  # the channel's messages_per_minute, counted above
            )
        except TooManyRequests as exc:  # the workspace as a whole is over its limit
            raise ClientError(
                "rate_limited", exc.message, client_id=body.client_id, retry_after=exc.retry_after
            ) from None
        except Unprocessable as exc:  # uploads that are not the visitor's (or sent already)
            raise ClientError("invalid", exc.message, client_id=body.client_id) from None
        except Forbidden as exc:  # the workspace is suspended or at its plan's limit
            raise ClientError(exc.code, exc.message, client_id=body.client_id) from None
        await self.conn.send(
            "message.ack",
            {
                "client_id": body.client_id,
                "message_id": result.message_id,
                "conversation_id": result.conversation_id,
                "duplicate": result.duplicate,
            },
        )
        if result.conversation_id != v.conversation_id:
            await self._bind(result.conversation_id)
            await self.services.broker.publish(
                events.visitor_topic(self.tenant_id, v.channel.id, v.visitor_id),
                {
                    "type": events.WIDGET_BOUND,
                    "data": {"conversation_id": result.conversation_id},
                },
            )

    async def _typing(self, active: bool) -> None:
        if self.visitor.conversation_id is None:
            return
        now = time.monotonic()
        if active == self.typing_active and now - self.typing_at < TYPING_REPEAT_SECONDS:
            return  # a client repeating itself: operators already know
        self.typing_active, self.typing_at = active, now
        await self.services.broker.publish(
            self._conversation_topic(self.visitor.conversation_id),
            {
                "type": events.TYPING,
                "data": {
                    "conversation_id": self.visitor.conversation_id,
                    "active": active,
                    "sender": "contact",
                },
            },
        )

    def _require_conversation(self) -> int:
        if self.visitor.conversation_id is None:
            raise ClientError("no_conversation", "write a message first")
        return self.visitor.conversation_id

    async def _handoff(self) -> None:
        conversation_id = self._require_conversation()
        online = await operators_online(self.services, self.tenant_id)
        async with self.services.db.transaction() as session:
            changed = await conversations.request_handoff(
                session, self.scope, conversation_id, "the customer asked for a person"
            )
            if changed is not None:
                key = "handoff.requested" if online else "handoff.no_operators"
                language = await self._customer_language(session, conversation_id)
                await messages.queue_outbound(
                    session,
                    self.scope,
                    changed,
                    t(key, language),
                    sender_type=SenderType.SYSTEM,
                    meta={"notice": key},
                )

    async def _customer_language(self, session: AsyncSession, conversation_id: int) -> str:
        """The language the customer writes in (their last message), else the widget's: a
        Russian speaker on an English browser gets the notice in Russian, as the AI would
        answer."""
        for _id, sender, text in await messages.recent(session, self.scope, conversation_id, 5):
            if sender == SenderType.CONTACT.value:
                return detect_language(text, "ru" if self.language == "ru" else "en")
        return self.language

    async def _csat(self, body: _CsatIn) -> None:
        conversation_id = self._require_conversation()
        try:
            async with self.services.db.transaction() as session:
                await conversations.rate(
                    session, self.scope, conversation_id, body.rating, body.comment
                )
        except Conflict:
            raise ClientError("not_resolved", "the conversation is not resolved yet") from None
        await self.conn.send(
            "csat.ack", {"conversation_id": conversation_id, "rating": body.rating}
        )

    async def _contact(self, body: _ContactIn) -> None:
        if body.name is None and body.email is None:
            raise ClientError("invalid", "give a name or an e-mail")
        v = self.visitor
        fields = body.model_dump(exclude_none=True)
        async with self.services.db.transaction() as session:
            contact, _created = await contacts.resolve_identity(
                session,
                self.scope,
                v.channel.id,
                InboundContact(external_id=contact_external_id(v.visitor_id)),
            )
            await contacts.update_contact(
                session, self.scope, contact.id, ContactPatch.model_validate(fields)
            )
        await self.conn.send("contact.updated", fields)


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    params = websocket.query_params
    try:
        channel = await widget_channel(services, params.get("key"))
    except AppError:
        await websocket.close(code=1008)  # before accept: the handshake gets HTTP 403
        return
    config = channel_config(channel)
    if not config.allows(websocket.headers.get("origin"), own_origin(websocket)):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    visitor_id = services.visitor_tokens.verify(channel.id, params.get("token"))
    if visitor_id is None:
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="invalid visitor token")
        return
    if config.require_identity and not await identified(services, channel, visitor_id):
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="a signed-in user is required")
        return
    last_raw = params.get("last_id")
    last_id = int(last_raw) if last_raw and last_raw.isdigit() else None
    language = normalize_locale(params.get("lang") or config.language)
    heartbeat = services.settings.realtime_heartbeat_seconds
    conn = Connection(websocket, services.broker, heartbeat, "widget")
    try:
        visitor = await load_visitor(services, channel, visitor_id)
        session = WidgetSession(services, conn, visitor, language)
        await session.start(last_id)
        await conn.receive(session.on_frame)
    except (NotFound, Unprocessable):
        await conn.close(CLOSE_UNAUTHORIZED)
    finally:
        await conn.shutdown()
