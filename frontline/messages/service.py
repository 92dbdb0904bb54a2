"""Recording messages and delivering replies on the customer's channel."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.channels.base import InboundMessage
from frontline.errors import Conflict, NotFound
from frontline.jobs import queue
from frontline.jobs.registry import JobContext
from frontline.kit.db import HasInfo, Unit
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages.repository import MessageRepository, append_message
from frontline.messages.schemas import MessageOut, message_event
from frontline.models import Conversation, DeliveryStatus, Message, SenderType
from frontline.realtime.publish import publish_after_commit


def _publish(session: AsyncSession, message: Message, name: str = events.MESSAGE_CREATED) -> None:
    _publish_data(session, message.tenant_id, message.conversation_id, name, message_event(message))


def _publish_data(
    session: HasInfo,
    tenant_id: uuid.UUID,
    conversation_id: int,
    name: str,
    data: dict[str, object],
) -> None:
    publish_after_commit(session, events.conversation_topic(tenant_id, conversation_id), name, data)
    publish_after_commit(session, events.inbox_topic(tenant_id), name, data)


async def conversation_for_refs(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, refs: tuple[str, ...]
) -> int | None:
    return await MessageRepository(session, scope).conversation_for_refs(channel_id, refs)


# records what came with an inbound message once its id is known; returns it as JSON
AttachHook = Callable[[int], Awaitable[list[dict[str, Any]]]]


async def record_inbound(
    session: Unit,
    scope: TenantScope,
    conversation_id: int,
    channel_id: uuid.UUID,
    inbound: InboundMessage,
    attach: AttachHook | None = None,
) -> int:
    """Insert a customer's message (one statement, no entity: this is the hot path).
    ``attach`` records its files (after the insert, before the event that carries them)."""
    values = {
        "tenant_id": scope.tenant_id,
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "sender_type": SenderType.CONTACT.value,
        "author_id": None,
        "is_internal": False,
        "text": inbound.text,
        "external_id": inbound.external_id,
        "meta": dict(inbound.meta),
        "delivery_status": DeliveryStatus.RECEIVED.value,
        "failure_reason": None,
        "created_at": utcnow(),
    }
    message_id = await append_message(session, scope, values)
    event = MessageOut(id=message_id, **values).model_dump(mode="json")
    if attach is not None:
        event["attachments"] = await attach(message_id)
    _publish_data(session, scope.tenant_id, conversation_id, events.MESSAGE_CREATED, event)
    return message_id


async def queue_outbound(
    session: AsyncSession,
    scope: TenantScope,
    conversation: Conversation,
    text: str,
    *,
    sender_type: SenderType,
    author_id: uuid.UUID | None = None,
    meta: dict[str, object] | None = None,
    held_by: JobContext | None = None,
) -> Message:
    """Store a reply and enqueue its delivery in the same transaction (``held_by``: see
    :func:`queue_reply_if_bot`). On a channel that pushes replies nowhere (an API channel
    without a callback URL) the reply is stored as delivered - the integration polls it -
    and no delivery job is enqueued."""
    repo = MessageRepository(session, scope)
    pushes = await repo.channel_pushes_replies(conversation.channel_id)
    message = repo.add(
        Message(
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            sender_type=sender_type.value,
            author_id=author_id,
            text=text,
            meta=dict(meta or {}),
            delivery_status=(
                DeliveryStatus.QUEUED.value if pushes else DeliveryStatus.DELIVERED.value
            ),
            is_internal=False,
            created_at=utcnow(),
        )
    )
    await session.flush()
    if pushes:
        await _enqueue_delivery(session, scope, message.id, held_by)
    _publish(session, message)
    return message


async def queue_reply_if_bot(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    text: str,
    *,
    meta: dict[str, object] | None = None,
    held_by: JobContext | None = None,
) -> MessageOut | None:
    """The AI's reply, stored and queued for delivery only while the AI still owns the
    conversation (state ``bot``; its activity is bumped): :func:`queue_outbound` without
    entities, for the AI's hot path - one statement for the check and the message on
    PostgreSQL, one for the delivery job. Returns the message as the API shows it, ``None``
    (nothing written) when an operator took the conversation meanwhile.

    With ``held_by`` (the job writing the reply) the delivery job is enqueued leased to
    that job's worker, which sends the reply right after this transaction commits; if that
    worker dies first, any worker delivers it after the lease (same idempotency key)."""
    values: dict[str, Any] = {
        "tenant_id": scope.tenant_id,
        "conversation_id": conversation_id,
        "sender_type": SenderType.AI.value,
        "author_id": None,
        "is_internal": False,
        "text": text,
        "external_id": None,
        "meta": dict(meta or {}),
        "delivery_status": DeliveryStatus.QUEUED.value,
        "failure_reason": None,
        "created_at": utcnow(),
    }
    repo = MessageRepository(session, scope)
    stored = await repo.reply_if_bot(values)
    if stored is None:
        return None
    message_id, channel_id = stored
    if await repo.mark_delivered_if_pulled(message_id, channel_id):
        values["delivery_status"] = DeliveryStatus.DELIVERED.value  # polled: no job
    else:
        await _enqueue_delivery(session, scope, message_id, held_by)
    message = MessageOut(id=message_id, channel_id=channel_id, **values)
    event = message.model_dump(mode="json")
    _publish_data(session, scope.tenant_id, conversation_id, events.MESSAGE_CREATED, event)
    return message


async def _enqueue_delivery(
    session: AsyncSession, scope: TenantScope, message_id: int, held_by: JobContext | None
) -> None:
    kind, payload = events.JOB_DELIVER_MESSAGE, {"message_id": message_id}
    key = f"deliver:{message_id}"
    if held_by is not None:
        await held_by.enqueue_held(
            session, kind, payload, tenant_id=scope.tenant_id, idempotency_key=key
        )
    else:
        await queue.insert(
            session, kind, payload, tenant_id=scope.tenant_id, idempotency_key=key, run_locally=True
        )


async def add_note(
    session: AsyncSession,
    scope: TenantScope,
    conversation: Conversation,
    text: str,
    author_id: uuid.UUID | None,
) -> Message:
    """An internal note: visible to staff, never sent to the customer."""
    message = MessageRepository(session, scope).add(
        Message(
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            sender_type=SenderType.OPERATOR.value,
            author_id=author_id,
            text=text,
            meta={},
            delivery_status=DeliveryStatus.NOT_SENT.value,
            is_internal=True,
            created_at=utcnow(),
        )
    )
    await session.flush()
    _publish(session, message)
    return message


async def add_ai_suggestion(
    session: AsyncSession,
    scope: TenantScope,
    conversation: Conversation,
    text: str,
    meta: dict[str, Any],
) -> Message:
    """The AI's draft kept for the operator (auto-reply off): internal, never sent."""
    message = MessageRepository(session, scope).add(
        Message(
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            sender_type=SenderType.AI.value,
            text=text,
            meta={**meta, "suggestion": True},
            delivery_status=DeliveryStatus.NOT_SENT.value,
            is_internal=True,
            created_at=utcnow(),
        )
    )
    await session.flush()
    _publish(session, message)
    return message


async def last_customer_message_at(
    session: AsyncSession, scope: TenantScope, conversation_id: int
) -> datetime | None:
    """When the customer last wrote in the conversation (``None``: never)."""
    return await MessageRepository(session, scope).last_customer_at(conversation_id)


async def channel_delivery(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, window: timedelta
) -> dict[str, Any]:
    """A channel's last inbound and outbound message times and its outbound failures in the
    last ``window`` (with the latest reason): its delivery health."""
    return await MessageRepository(session, scope).channel_delivery(channel_id, utcnow() - window)


async def find(session: AsyncSession, scope: TenantScope, message_id: int) -> Message | None:
    return await MessageRepository(session, scope).get(message_id)


async def list_messages(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    after_id: int | None = None,
    limit: int = 500,
) -> list[Message]:
    return await MessageRepository(session, scope).for_conversation(
        conversation_id, after_id=after_id, limit=limit
    )


async def visible_messages(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    *,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Message]:
    """What the customer sees of a conversation (internal notes and AI drafts left out):
    the messages after ``after_id`` in order, or without it the last ``limit``."""
    return await MessageRepository(session, scope).visible(
        conversation_id, after_id=after_id, limit=limit
    )


async def recent(
    session: AsyncSession, scope: TenantScope, conversation_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """``(id, sender_type, text)`` of the conversation's last ``limit`` messages that are not
    internal, newest first (an AI turn's context: its cost does not grow with the
    conversation)."""
    return await MessageRepository(session, scope).recent(conversation_id, limit)


async def recent_unheld(
    session: AsyncSession, scope: TenantScope, conversation_id: int, limit: int
) -> list[tuple[int, str, str]]:
    """:func:`recent` without the messages moderation held: the history an AI turn sends to
    a model."""
    return await MessageRepository(session, scope).recent_unheld(conversation_id, limit)


async def recent_screened(
    session: AsyncSession, scope: TenantScope, conversation_id: int, limit: int
) -> list[tuple[int, str, str, bool]]:
    """:func:`recent` with, for each message, whether moderation held it (``hold``: it may
    be abuse, spam or an injection attempt, and is not for a model to read)."""
    return await MessageRepository(session, scope).recent_screened(conversation_id, limit)


async def resend(
    session: AsyncSession, scope: TenantScope, conversation_id: int, message_id: int
) -> MessageOut:
    """An operator's deliberate resend of an ``unknown`` message of the conversation:
    queued again with a new delivery job (the earlier one is done). 404 for no such
    message, 409 when its delivery is not ``unknown``."""
    repo = MessageRepository(session, scope)
    found = await repo.get(message_id)
    if found is None or found.conversation_id != conversation_id or found.is_internal:
        raise NotFound("message not found")
    row = await repo.requeue_unknown(message_id)
    if row is None:
        raise Conflict(
            f"only a message whose delivery is unknown can be resent (it is "
            f"{found.delivery_status})",
            code="message_not_unknown",
        )
    key = f"deliver:{message_id}:resend:{uuid.uuid4().hex[:12]}"
    await queue.insert(
        session,
        events.JOB_DELIVER_MESSAGE,
        {"message_id": message_id},
        tenant_id=scope.tenant_id,
        idempotency_key=key,
        run_locally=True,
    )
    message = MessageOut.model_validate(row)
    _publish_data(
        session,
        scope.tenant_id,
        message.conversation_id,
        events.MESSAGE_UPDATED,
        message.model_dump(mode="json"),
    )
    return message


# the order delivery states move in; a report of an earlier state than the current one is
# stale (reports arrive in any order) and changes nothing
DELIVERY_RANK = {
    DeliveryStatus.QUEUED.value: 0,
    DeliveryStatus.SENDING.value: 0,
    DeliveryStatus.UNKNOWN.value: 0,  # a report that it arrived settles the doubt
    DeliveryStatus.SENT.value: 1,
    DeliveryStatus.FAILED.value: 2,
    DeliveryStatus.DELIVERED.value: 3,
    DeliveryStatus.READ.value: 4,
}


async def apply_delivery_report(
    session: AsyncSession,
    scope: TenantScope,
    channel_id: uuid.UUID,
    external_id: str,
    status: str,
    *,
    message_id: int | None = None,
    reason: str | None = None,
) -> bool:
    """A channel reports what became of an outbound message (named by its external id, or
    by ``message_id`` before the send recorded that): the state moves forward only, and the
    console sees it change. Returns whether anything changed."""
    rank = DELIVERY_RANK[status]
    earlier = [s for s, r in DELIVERY_RANK.items() if r < rank]
    row = await MessageRepository(session, scope).apply_report(
        channel_id,
        external_id,
        message_id,
        status,
        reason[:2000] if reason and status == DeliveryStatus.FAILED.value else None,
        earlier,
    )
    if row is None:
        return False
    event = MessageOut.model_validate(row).model_dump(mode="json")
    _publish_data(session, scope.tenant_id, row["conversation_id"], events.MESSAGE_UPDATED, event)
    return True


async def unread_counts(
    session: AsyncSession, scope: TenantScope, read_marks: dict[int, int]
) -> dict[int, int]:
    """Messages to the customer after their read mark, per conversation."""
    return await MessageRepository(session, scope).unread_counts(read_marks)


async def last_visible_id(
    session: AsyncSession, scope: TenantScope, conversation_id: int
) -> int | None:
    return await MessageRepository(session, scope).last_visible_id(conversation_id)


async def customer_thread_ref(
    session: AsyncSession, scope: TenantScope, conversation_id: int
) -> str | None:
    """An external id of the customer's in the conversation (to thread a new message to it)."""
    return await MessageRepository(session, scope).last_customer_external_id(conversation_id, 2**62)
