from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Insert,
    Row,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.sql.elements import BindParameter

from frontline.kit.db import Unit, as_unit
from frontline.kit.repository import TenantRepository, TenantScope
from frontline.messages.delivery_statements import (
    mark_sent_statement,
    mark_unknown_statement,
    move_status_statement,
    report_statement,
    requeue_unknown_statement,
)
from frontline.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Message,
    SenderType,
    not_held,
)
from frontline.models.conversations import MODERATION_HOLD


@functools.cache
def _append_statements(postgres: bool) -> tuple[Insert, Update | None]:
    """Built once, parameterised by the message's own values (constructing an INSERT with
    literal values costs more than executing it)."""
    messages = cast(Table, Message.__table__)
    conversations = cast(Table, Conversation.__table__)
    touch = (
        update(conversations)
        .where(
            conversations.c.tenant_id == bindparam("touch_tenant_id"),
            conversations.c.id == bindparam("touch_conversation_id"),
        )
        .values(last_activity_at=bindparam("touch_at"), updated_at=bindparam("touch_at"))
    )
    # every parameter is named explicitly, and no name equals a column's: with implicit
    # names SQLAlchemy would also apply same-named parameters to the CTE's SET clause
    insert_stmt = (
        insert(messages)
        .values({c.name: bindparam(f"m_{c.name}") for c in messages.c if c.name != "id"})
        .returning(messages.c.id)
    )
    if postgres:
        return insert_stmt.add_cte(touch.cte("touched")), None
    return insert_stmt, touch


async def append_message(unit: Unit, scope: TenantScope, values: dict[str, Any]) -> int:
    """Append a message to its conversation and bump the conversation's last activity.

    On PostgreSQL both happen in one statement (a data-modifying CTE), saving a round
    trip on the hottest path; elsewhere in two. Returns the message id. Core statements
    only (an ORM session or a :class:`~frontline.kit.db.CoreTransaction`).
    """
    if values.get("tenant_id") != scope.tenant_id:
        raise ValueError("message values must carry the repository's tenant")
    bind = unit.bind
    postgres = bind is not None and bind.dialect.name == "postgresql"
    insert_stmt, touch_stmt = _append_statements(postgres)
    touch = {
        "touch_tenant_id": scope.tenant_id,
        "touch_conversation_id": values["conversation_id"],
        "touch_at": values["created_at"],
    }
    params = {f"m_{key}": value for key, value in values.items()}
    if touch_stmt is None:
        result = await unit.execute(insert_stmt, {**params, **touch})
        return int(result.scalar_one())
    # the activity bump first, in the insert's trip to SQLite's thread (a deferred statement)
    await unit.execute_deferred(touch_stmt, touch)
    result = await unit.execute(insert_stmt, params)
    return int(result.scalar_one())


@functools.cache
def _insert_statement() -> Insert:
    messages = cast(Table, Message.__table__)
    return (
        insert(messages)
        .values({c.name: bindparam(f"m_{c.name}") for c in messages.c if c.name != "id"})
        .returning(messages.c.id)
    )


@functools.cache
def _reply_statements(postgres: bool) -> tuple[Insert, Update | None]:
    """The AI's reply: bump the conversation's activity if the AI still owns it (``bot``),
    and insert the message only then. On PostgreSQL one statement (the UPDATE as a
    data-modifying CTE the INSERT selects from); elsewhere the UPDATE ... RETURNING, then
    the plain insert."""
    messages = cast(Table, Message.__table__)
    conversations = cast(Table, Conversation.__table__)
    touched = (
        update(conversations)
        .where(
            conversations.c.tenant_id == bindparam("r_tenant_id"),
            conversations.c.id == bindparam("r_conversation_id"),
            conversations.c.status == ConversationStatus.BOT.value,
        )
        .values(last_activity_at=bindparam("r_now"), updated_at=bindparam("r_now"))
        .returning(conversations.c.id, conversations.c.channel_id)
    )
    if not postgres:
        return _insert_statement(), touched
    cte = touched.cte("touched")
    names = [c.name for c in messages.c if c.name != "id"]
    columns = [
        cte.c.id
        if name == "conversation_id"
        else cte.c.channel_id
        if name == "channel_id"
        else bindparam(f"m_{name}", type_=messages.c[name].type)
        for name in names
    ]
    stmt = (
        insert(messages)
        .from_select(names, select(*columns).select_from(cte))
        .returning(messages.c.id, messages.c.channel_id)
        .add_cte(cte)
    )
    return stmt, None


@functools.cache
def _delivery_statement(postgres: bool, thread_limit: int) -> Select[Any]:
    """A message to deliver with everything its delivery needs, in one round trip (a read
    model over the message, conversation, contact, identity and channel tables): ``thread``
    is ``[id, sender_type, external_id]`` of the last ``thread_limit`` earlier non-internal
    messages with an external id (a JSON array, in no particular order)."""
    messages = cast(Table, Message.__table__)
    conversations = Conversation.__table__.c
    contacts = Contact.__table__.c
    identities = ContactIdentity.__table__.c
    channels = Channel.__table__.c
    tid: BindParameter[uuid.UUID] = bindparam("tid")
    identity = (
        select(identities.external_id)
        .where(
            identities.tenant_id == tid,
            identities.contact_id == conversations.contact_id,
            identities.channel_id == messages.c.channel_id,
        )
        .limit(1)
        .correlate(Conversation.__table__, messages)
        .scalar_subquery()
    )
    earlier = messages.alias("earlier")
    own = messages.alias("own")
    thread_rows = (
        select(earlier.c.id, earlier.c.sender_type, earlier.c.external_id)
        .where(
            earlier.c.tenant_id == tid,
            earlier.c.conversation_id
            == select(own.c.conversation_id)
            .where(own.c.tenant_id == tid, own.c.id == bindparam("message_id"))
            .scalar_subquery(),
            earlier.c.id < bindparam("message_id"),
            earlier.c.external_id.is_not(None),
            earlier.c.is_internal.is_(False),
        )
        .order_by(earlier.c.id.desc())
        .limit(thread_limit)
        .subquery("thread_rows")
    )
    t = thread_rows.c
    aggregate = (
        func.json_agg(func.json_build_array(t.id, t.sender_type, t.external_id))
        if postgres
        else func.json_group_array(func.json_array(t.id, t.sender_type, t.external_id))
    )
    thread = select(aggregate).select_from(thread_rows).scalar_subquery()
    return (
        select(
            *messages.c,
            type_coerce(thread, JSON).label("thread"),
            conversations.contact_id.label("conversation_contact_id"),
            conversations.subject.label("conversation_subject"),
            contacts.id.label("contact_id"),
            contacts.name.label("contact_name"),
            contacts.email.label("contact_email"),
            identity.label("identity_external_id"),
            channels.id.label("channel_found"),
            channels.type.label("channel_type"),
            channels.name.label("channel_name"),
            channels.is_active.label("channel_is_active"),
            channels.config_encrypted.label("channel_config_encrypted"),
            channels.secret_encrypted.label("channel_secret_encrypted"),
        )
        .select_from(messages)
        .join(Conversation.__table__, conversations.id == messages.c.conversation_id)
        .outerjoin(
            Contact.__table__,
            (contacts.id == conversations.contact_id) & (contacts.tenant_id == tid),
        )
        .outerjoin(
            Channel.__table__,
            (channels.id == messages.c.channel_id) & (channels.tenant_id == tid),
        )
        .where(messages.c.tenant_id == tid, messages.c.id == bindparam("message_id"))
    )


@functools.cache
def _recent_statement() -> Select[Any]:
    messages = cast(Table, Message.__table__)
    return (
        select(messages.c.id, messages.c.sender_type, messages.c.text)
        .where(
            messages.c.tenant_id == bindparam("tid"),
            messages.c.conversation_id == bindparam("cid"),
            messages.c.is_internal.is_(False),
        )
        .order_by(messages.c.id.desc())
        .limit(bindparam("limit"))
    )


@functools.cache
def _recent_unheld_statement() -> Select[Any]:
    """:func:`_recent_statement` without the messages moderation held."""
    return _recent_statement().where(not_held(cast(Table, Message.__table__).c))


@functools.cache
def _recent_screened_statement() -> Select[Any]:
    """:func:`_recent_statement` with each message's moderation mode (``meta.moderation.mode``:
    ``hold``, ``flag`` or NULL)."""
    messages = cast(Table, Message.__table__)
    mode = messages.c.meta["moderation"]["mode"].as_string()
    return _recent_statement().add_columns(mode.label("moderation"))


_FROM_CONVERSATION = ("conversation_id", "channel_id")
HOLD = MODERATION_HOLD


class MessageRepository(TenantRepository[Message]):
    model = Message

    async def channel_pushes_replies(self, channel_id: uuid.UUID) -> bool:
        stmt = select(Channel.pushes_replies).where(
            Channel.tenant_id == self.scope.tenant_id, Channel.id == channel_id
        )
        return bool((await self.session.execute(stmt)).scalar_one_or_none() is not False)

    async def mark_delivered_if_pulled(self, message_id: int, channel_id: uuid.UUID) -> bool:
        """Mark a queued reply ``delivered`` when its channel pushes replies nowhere (the
        integration polls them); one statement. Returns whether it did."""
        pulled = (
            select(Channel.id)
            .where(
                Channel.id == channel_id,
                Channel.tenant_id == self.scope.tenant_id,
                Channel.pushes_replies.is_(False),
            )
            .exists()
        )
        result = await self.session.execute(
            update(Message)
            .where(Message.id == message_id, Message.tenant_id == self.scope.tenant_id, pulled)
            .values(delivery_status=DeliveryStatus.DELIVERED.value)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def insert(self, values: dict[str, Any]) -> int:
        """Insert a message (one Core statement: no entity); returns its id."""
        if values.get("tenant_id") != self.scope.tenant_id:
            raise ValueError("message values must carry the repository's tenant")
        params = {f"m_{key}": value for key, value in values.items()}
        result = await self.session.execute(_insert_statement(), params)
        return int(result.scalar_one())

    async def reply_if_bot(self, values: dict[str, Any]) -> tuple[int, uuid.UUID] | None:
        """Insert the AI's reply (``values`` without ``channel_id``: it is the
        conversation's) and bump the conversation's activity - only while the AI owns the
        conversation: the conditional UPDATE's row lock orders it against an operator
        taking over, as ``SELECT ... FOR UPDATE`` then ``UPDATE`` would. Returns the
        message id and channel, ``None`` (nothing written) when the conversation is not the
        AI's (or does not exist). One statement on PostgreSQL."""
        if values.get("tenant_id") != self.scope.tenant_id:
            raise ValueError("message values must carry the repository's tenant")
        bind = self.session.bind
        postgres = bind is not None and bind.dialect.name == "postgresql"
        stmt, touch = _reply_statements(postgres)
        touch_params = {
            "r_tenant_id": self.scope.tenant_id,
            "r_conversation_id": values["conversation_id"],
            "r_now": values["created_at"],
        }
        if touch is None:
            params = {f"m_{k}": v for k, v in values.items() if k not in _FROM_CONVERSATION}
            row = (await self.session.execute(stmt, {**params, **touch_params})).first()
            return (int(row[0]), row[1]) if row is not None else None
        touched = (await self.session.execute(touch, touch_params)).first()
        if touched is None:
            return None
        channel_id: uuid.UUID = touched[1]
        message_id = await self.insert({**values, "channel_id": channel_id})
        return message_id, channel_id

    async def recent(self, conversation_id: int, limit: int) -> list[tuple[int, str, str]]:
        """``(id, sender_type, text)`` of the conversation's last ``limit`` messages that are
        not internal, newest first."""
        params = {"tid": self.scope.tenant_id, "cid": conversation_id, "limit": limit}
        rows = (await self.session.execute(_recent_statement(), params)).all()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def recent_unheld(self, conversation_id: int, limit: int) -> list[tuple[int, str, str]]:
        """:meth:`recent` without the messages moderation held (what a model may read)."""
        params = {"tid": self.scope.tenant_id, "cid": conversation_id, "limit": limit}
        rows = (await self.session.execute(_recent_unheld_statement(), params)).all()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def recent_screened(
        self, conversation_id: int, limit: int
    ) -> list[tuple[int, str, str, bool]]:
        """:meth:`recent` with, for each message, whether moderation held it."""
        params = {"tid": self.scope.tenant_id, "cid": conversation_id, "limit": limit}
        rows = (await self.session.execute(_recent_screened_statement(), params)).all()
        return [(int(r[0]), str(r[1]), str(r[2]), r[3] == HOLD) for r in rows]

    async def for_delivery(
        self, message_id: int, thread_limit: int
    ) -> tuple[Row[Any], list[tuple[str, str]]] | None:
        """The message with its conversation's contact, the contact's identity on the
        message's channel and the channel's stored (encrypted) config, and its thread:
        ``(sender_type, external_id)`` of the last ``thread_limit`` earlier non-internal
        messages with an external id, oldest first - in one query. ``None`` when the message
        does not exist. Missing related rows read as NULL (``contact_id``,
        ``identity_external_id``, ``channel_found``)."""
        bind = self.session.bind
        postgres = bind is not None and bind.dialect.name == "postgresql"
        params = {"tid": self.scope.tenant_id, "message_id": message_id}
        stmt = _delivery_statement(postgres, thread_limit)
        row: Row[Any] | None = (await self.session.execute(stmt, params)).first()
        if row is None:
            return None
        entries = sorted((int(i), str(s), e) for i, s, e in row.thread or ())
        return row, [(s, e) for _i, s, e in entries if e]

    def mark_delivered_statement(
        self, message_id: int, status: str, external_id: str | None
    ) -> tuple[Update, dict[str, Any]]:
        """The statement (and its parameters) that sets the delivery status (clearing the
        failure reason; ``external_id`` fills an empty one) and returns the message's
        columns after the update, no row when it is gone - for the caller to run, e.g.
        together with its job's completion."""
        params = {"tid": self.scope.tenant_id, "mid": message_id, "status": status}
        params["ext"] = external_id
        return mark_sent_statement(), params

    async def move_status(self, message_id: int, before: str, after: str) -> bool:
        """Set the delivery status to ``after`` if it is ``before`` (one statement; the
        delivery marker's moves). Returns whether it moved."""
        result = await self.session.execute(
            move_status_statement(),
            {"tid": self.scope.tenant_id, "mid": message_id, "before": before, "after": after},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_unknown_statement(self, message_id: int, reason: str) -> tuple[Update, dict[str, Any]]:
        """The statement that turns an interrupted send (``sending``) into ``unknown`` with
        ``reason``, returning the message's columns (no row: it is not ``sending``)."""
        params = {"tid": self.scope.tenant_id, "mid": message_id, "reason": reason}
        return mark_unknown_statement(), params

    async def requeue_unknown(self, message_id: int) -> dict[str, Any] | None:
        """An operator's deliberate resend: ``unknown`` back to ``queued``; the message's
        columns after the update, ``None`` when it was not ``unknown``."""
        params = {"tid": self.scope.tenant_id, "mid": message_id}
        row = (await self.session.execute(requeue_unknown_statement(), params)).mappings().first()
        return dict(row) if row is not None else None

    async def apply_report(
        self,
        channel_id: uuid.UUID,
        external_id: str,
        message_id: int | None,
        status: str,
        reason: str | None,
        earlier: Sequence[str],
    ) -> dict[str, Any] | None:
        """Set an outbound message's reported delivery state if it is now in one of the
        ``earlier`` states (one statement: concurrent reports cannot move it backwards).
        Returns the message's columns after the update, ``None`` when nothing changed."""
        params = {
            "tid": self.scope.tenant_id,
            "cid": channel_id,
            "ext": external_id,
            "mid": message_id if message_id is not None else -1,
            "status": status,
            "reason": reason,
            "earlier": list(earlier),
        }
        row = (await self.session.execute(report_statement(), params)).mappings().first()
        return dict(row) if row is not None else None

    async def append(self, values: dict[str, Any]) -> int:
        """See :func:`append_message` (on this repository's session)."""
        return await append_message(as_unit(self.session), self.scope, values)

    async def by_external_id(self, channel_id: uuid.UUID, external_id: str) -> Message | None:
        stmt = self.select().where(
            Message.channel_id == channel_id, Message.external_id == external_id
        )
        return await self.one_or_none(stmt)

    async def conversation_for_refs(self, channel_id: uuid.UUID, refs: Sequence[str]) -> int | None:
        """The conversation of the newest message whose external id is among ``refs``."""
        if not refs:
            return None
        stmt = (
            self.select(Message.conversation_id)
            .where(Message.channel_id == channel_id, Message.external_id.in_(list(refs)))
            .order_by(Message.id.desc())
            .limit(1)
        )
        found: int | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def for_conversation(
        self, conversation_id: int, *, after_id: int | None = None, limit: int = 500
    ) -> list[Message]:
        stmt = self.select().where(Message.conversation_id == conversation_id)
        if after_id is not None:
            stmt = stmt.where(Message.id > after_id)
        stmt = stmt.order_by(Message.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def visible(
        self, conversation_id: int, *, after_id: int | None, limit: int
    ) -> list[Message]:
        """The messages a customer sees (not internal), in order: those after ``after_id``,
        or without it the last ``limit``."""
        stmt = self.select().where(
            Message.conversation_id == conversation_id, Message.is_internal.is_(False)
        )
        if after_id is not None:
            stmt = stmt.where(Message.id > after_id).order_by(Message.id).limit(limit)
            return list((await self.session.execute(stmt)).scalars())
        stmt = stmt.order_by(Message.id.desc()).limit(limit)
        return list(reversed((await self.session.execute(stmt)).scalars().all()))

    async def last_customer_at(self, conversation_id: int) -> datetime | None:
        stmt = self.select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id,
            Message.sender_type == SenderType.CONTACT.value,
        )
        found: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def last_customer_external_id(self, conversation_id: int, before_id: int) -> str | None:
        """The external id of the customer's last message before ``before_id`` that has
        one (and is not internal)."""
        stmt = (
            self.select(Message.external_id)
            .where(
                Message.conversation_id == conversation_id,
                Message.id < before_id,
                Message.sender_type == SenderType.CONTACT.value,
                Message.external_id.is_not(None),
                Message.external_id != "",
                Message.is_internal.is_(False),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        found: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def unread_counts(self, read_marks: dict[int, int]) -> dict[int, int]:
        """Per conversation, the messages to the customer after their read mark
        (``{conversation id: last read id}``), in one query."""
        if not read_marks:
            return {}
        conditions = [
            and_(Message.conversation_id == cid, Message.id > last)
            for cid, last in read_marks.items()
        ]
        stmt = (
            self.select(Message.conversation_id, func.count())
            .where(
                or_(*conditions),
                Message.is_internal.is_(False),
                Message.sender_type != SenderType.CONTACT.value,
            )
            .group_by(Message.conversation_id)
        )
        return {int(cid): int(n) for cid, n in (await self.session.execute(stmt)).all()}

    async def last_visible_id(self, conversation_id: int) -> int | None:
        stmt = self.select(func.max(Message.id)).where(
            Message.conversation_id == conversation_id, Message.is_internal.is_(False)
        )
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        return int(found) if found is not None else None

    async def channel_delivery(self, channel_id: uuid.UUID, since: datetime) -> dict[str, Any]:
        """One channel's traffic at a glance: its last inbound and last delivered outbound
        message, and the outbound messages created since ``since`` that finally failed with
        the latest one's reason (two queries; the ``(channel_id, external_id)`` index leads
        with the channel)."""
        sent = (
            DeliveryStatus.SENT.value,
            DeliveryStatus.DELIVERED.value,
            DeliveryStatus.READ.value,
        )
        failed = and_(
            Message.delivery_status == DeliveryStatus.FAILED.value, Message.created_at >= since
        )
        totals = self.select(
            func.max(case((Message.sender_type == SenderType.CONTACT.value, Message.created_at))),
            func.max(case((Message.delivery_status.in_(sent), Message.created_at))),
            func.count(case((failed, Message.id))),
        ).where(Message.channel_id == channel_id)
        last_in, last_out, failures = (await self.session.execute(totals)).one()
        last_failure = None
        if failures:
            stmt = (
                self.select(Message.created_at, Message.failure_reason)
                .where(Message.channel_id == channel_id, failed)
                .order_by(Message.id.desc())
                .limit(1)
            )
            last_failure = (await self.session.execute(stmt)).first()
        return {
            "last_inbound_at": last_in,
            "last_outbound_at": last_out,
            "failed_24h": int(failures or 0),
            "last_failure_at": last_failure[0] if last_failure else None,
            "last_failure_reason": last_failure[1] if last_failure else None,
        }


def is_customer(sender_type: str) -> bool:
    return sender_type == SenderType.CONTACT.value
