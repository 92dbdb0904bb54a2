from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, bindparam, insert, update

from frontline.kit.repository import TenantRepository
from frontline.models import Conversation, Message, SenderType


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


class MessageRepository(TenantRepository[Message]):
    model = Message

    async def append(self, values: dict[str, Any]) -> int:
        """Append a message to its conversation and bump the conversation's last activity.

        On PostgreSQL both happen in one statement (a data-modifying CTE), saving a round
        trip on the hottest path; elsewhere in two. Returns the message id.
        """
        if values.get("tenant_id") != self.scope.tenant_id:
            raise ValueError("message values must carry the repository's tenant")
        bind = self.session.bind
        postgres = bind is not None and bind.dialect.name == "postgresql"
        insert_stmt, touch_stmt = _append_statements(postgres)
        touch = {
            "touch_tenant_id": self.scope.tenant_id,
            "touch_conversation_id": values["conversation_id"],
            "touch_at": values["created_at"],
        }
        params = {f"m_{key}": value for key, value in values.items()}
        if touch_stmt is None:
            result = await self.session.execute(insert_stmt, {**params, **touch})
            return int(result.scalar_one())
        result = await self.session.execute(insert_stmt, params)
        await self.session.execute(touch_stmt, touch)
        return int(result.scalar_one())

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

    async def with_conversation(self, message_id: int) -> tuple[Message, Conversation] | None:
        stmt = (
            self.select(Message, Conversation)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id == message_id)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def thread_ids(self, conversation_id: int, before_id: int) -> list[tuple[str, str]]:
        """``(sender_type, external_id)`` of earlier non-internal messages with an external id."""
        stmt = (
            self.select(Message.sender_type, Message.external_id)
            .where(
                Message.conversation_id == conversation_id,
                Message.id < before_id,
                Message.external_id.is_not(None),
                Message.is_internal.is_(False),
            )
            .order_by(Message.id)
        )
        return [(s, e) for s, e in (await self.session.execute(stmt)).all() if e]


def is_customer(sender_type: str) -> bool:
    return sender_type == SenderType.CONTACT.value
