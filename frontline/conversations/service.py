"""Conversation state, ticket fields and listing.

States (DESIGN.md): ``bot`` (AI handles) -> ``pending`` (waiting for an operator) -> ``open``
(operator assigned) -> ``resolved``; a new customer message reopens a resolved conversation.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.channels.telegram import hooks as telegram_hooks
from frontline.contacts.schemas import ContactRef
from frontline.conversations.repository import (
    ConversationFilter,
    ConversationRepository,
    InboundContext,
    TurnContext,
    read_inbound_context,
)
from frontline.conversations.schemas import ConversationOut, ConversationPatch, ConversationRef
from frontline.errors import Conflict, NotFound, Unprocessable
from frontline.jobs import queue
from frontline.kit.db import Unit, as_unit
from frontline.kit.pagination import InvalidCursor, decode_time_cursor, time_page
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.models import Conversation, ConversationStatus, Priority
from frontline.realtime.publish import publish_after_commit
from frontline.tenants import service as tenants
from frontline.tickets import service as tickets


def entry_status(contact: ContactRef, tenant_ai_enabled: bool) -> ConversationStatus:
    """The state a new or reopened conversation enters: the AI owns it (``bot``) when AI is
    on for the tenant and for this contact, else it waits for an operator (``pending``)."""
    if tenant_ai_enabled and contact.ai_enabled:
        return ConversationStatus.BOT
    return ConversationStatus.PENDING


def publish_conversation(session: AsyncSession, conversation: Conversation, name: str) -> None:
    data = ConversationOut.model_validate(conversation).model_dump(mode="json")
    publish_after_commit(session, events.inbox_topic(conversation.tenant_id), name, data)
    publish_after_commit(
        session, events.conversation_topic(conversation.tenant_id, conversation.id), name, data
    )


async def get(
    session: AsyncSession, scope: TenantScope, conversation_id: int, *, for_update: bool = False
) -> Conversation:
    repo = ConversationRepository(session, scope)
    found = await (
        repo.get_for_update(conversation_id) if for_update else repo.get(conversation_id)
    )
    if found is None:
        raise NotFound("conversation not found")
    return found


async def turn_context(
    session: AsyncSession, scope: TenantScope, conversation_id: int
) -> TurnContext:
    """What the AI's turn in a conversation reads first (see
    :meth:`ConversationRepository.turn_context`)."""
    found = await ConversationRepository(session, scope).turn_context(conversation_id)
    if found is None:
        raise NotFound("conversation not found")
    return found


async def inbound_context(
    session: AsyncSession | Unit,
    scope: TenantScope,
    channel_id: uuid.UUID,
    message_external_id: str,
    contact_external_id: str,
    history_since: datetime | None = None,
) -> InboundContext:
    """See :meth:`ConversationRepository.inbound_context`; ``history_since``: from when
    the known contact's inbound messages are read along (moderation's history)."""
    return await read_inbound_context(
        as_unit(session),
        scope,
        channel_id,
        message_external_id,
        contact_external_id,
        history_since,
    )


def continued(
    latest: ConversationRef | None,
    thread_conversation_id: int | None,
    new_thread_if_unmatched: bool,
) -> ConversationRef | None:
    """The contact's ongoing conversation an inbound message simply continues (nothing to
    open, reopen or lock: appending the message bumps its activity), else ``None`` and
    :func:`find_or_open` decides."""
    if thread_conversation_id is not None or new_thread_if_unmatched or latest is None:
        return None
    return latest if latest.status != ConversationStatus.RESOLVED.value else None


async def find_or_open(
    session: AsyncSession,
    scope: TenantScope,
    *,
    channel_id: uuid.UUID,
    contact: ContactRef,
    latest: ConversationRef | None,
    tenant_ai_enabled: bool,
    thread_conversation_id: int | None,
    new_thread_if_unmatched: bool,
    subject: str | None,
) -> tuple[ConversationRef, bool]:
    """The conversation an inbound message belongs to, opened or reopened as needed.

    ``latest`` is the contact's newest conversation on the channel (already read by
    :func:`inbound_context`); it is continued unless the message threads elsewhere or the
    channel starts a new thread for unmatched messages (e-mail). The common case - an
    ongoing conversation - costs no statement here (appending the message bumps its
    activity); entities are loaded only for state changes.
    """
    ongoing = continued(latest, thread_conversation_id, new_thread_if_unmatched)
    if ongoing is not None:
        return ongoing, False
    repo = ConversationRepository(session, scope)
    now = utcnow()
    target: int | None = None
    if thread_conversation_id is not None:
        target = thread_conversation_id
    elif not new_thread_if_unmatched and latest is not None:
        target = latest.id  # resolved (else it is continued, above)
    conversation = await repo.get_for_update(target) if target is not None else None
    if conversation is None:
        month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        await tenants.enforce_limit(
            session, scope, "conversations_per_month", lambda: repo.count_since(month)
        )
        entry = entry_status(contact, tenant_ai_enabled)
        conversation = repo.add(
            Conversation(
                channel_id=channel_id,
                contact_id=contact.id,
                status=entry.value,
                handed_off_at=now if entry is ConversationStatus.PENDING else None,
                priority=Priority.NORMAL.value,
                subject=(subject or "")[:500],
                last_activity_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        publish_conversation(session, conversation, events.CONVERSATION_CREATED)
        return ConversationRef(conversation.id, conversation.status), True
    if conversation.status == ConversationStatus.RESOLVED.value:
        # a reopened conversation starts afresh: the earlier handoff was answered, so it
        # does not send the customer straight back to the queue
        entry = entry_status(contact, tenant_ai_enabled)
        conversation.status = entry.value
        resolved_at = conversation.resolved_at
        if resolved_at is not None and now - resolved_at <= REOPENED_SOON:
            conversation.reopened_soon = True
        if entry is ConversationStatus.PENDING and conversation.handed_off_at is None:
            conversation.handed_off_at = now
        conversation.resolved_at = None
        conversation.assignee_id = None
        conversation.handoff_reason = None
        _forget_summary(conversation)
        publish_conversation(session, conversation, events.CONVERSATION_STATUS)
    conversation.last_activity_at = now
    conversation.updated_at = now
    await session.flush()
    return ConversationRef(conversation.id, conversation.status), False


async def hand_off(
    session: AsyncSession,
    scope: TenantScope,
    conversation: Conversation,
    reason: str,
    *,
    summary: str | None = None,
) -> None:
    """The AI (or the customer) asks for a person: the conversation waits for an operator
    with the reason, and operators are told in real time.

    ``summary``: a rule-based handoff summary to store as it is, in place of the copilot's
    (moderation's hold: a held message is not sent to a model to be summarized)."""
    _set_status(conversation, ConversationStatus.PENDING)
    conversation.handoff_reason = reason[:500]
    await touch(conversation)
    stamp = conversation.updated_at.isoformat()
    if summary is not None:
        written: dict[str, Any] = {
            "handoff_at": stamp,
            "summary": summary,
            "needs": [],
            "language": "en",
            "provider": RULE_SUMMARY_PROVIDER,
            "model": None,
            "degraded": False,
        }
        conversation.meta = {**(conversation.meta or {}), HANDOFF_SUMMARY: written}
        await session.flush()
    else:
        # the copilot summarizes the conversation for the operator now, in a durable job
        # (enqueued before the Telegram alert, which shows the summary if ready by then)
        conversation.meta = {**(conversation.meta or {}), HANDOFF_SUMMARY: {"handoff_at": stamp}}
        await session.flush()
        await queue.insert(
            session,
            events.JOB_COPILOT_HANDOFF_SUMMARY,
            {"conversation_id": conversation.id, "handoff_at": stamp},
            tenant_id=scope.tenant_id,
            idempotency_key=f"copilot.summary:{conversation.id}:{stamp}",
        )
    await telegram_hooks.on_handoff(session, scope, conversation)
    publish_conversation(session, conversation, events.CONVERSATION_HANDOFF_REQUESTED)


HANDOFF_SUMMARY = "handoff_summary"  # the key in ``conversations.meta``
RULE_SUMMARY_PROVIDER = "rules"  # the ``provider`` of a summary no model wrote


def _forget_summary(conversation: Conversation) -> None:
    if HANDOFF_SUMMARY in (conversation.meta or {}):
        conversation.meta = {k: v for k, v in conversation.meta.items() if k != HANDOFF_SUMMARY}


def handoff_summary(conversation: Conversation) -> dict[str, Any] | None:
    """The current handoff's summary: ``{handoff_at}`` alone while the copilot is still
    writing it, then with ``summary``, ``needs``, ``language``, ``provider``, ``model``."""
    found = (conversation.meta or {}).get(HANDOFF_SUMMARY)
    return found if isinstance(found, dict) else None


async def store_handoff_summary(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    handoff_at: str,
    summary: dict[str, Any],
) -> bool:
    """Keep the copilot's summary of the handoff made at ``handoff_at`` with the
    conversation (``meta.handoff_summary``) and tell the console; False (nothing stored)
    when the conversation has moved on since (handed back, resolved, handed off again)."""
    conversation = await get(session, scope, conversation_id, for_update=True)
    waiting = (ConversationStatus.PENDING.value, ConversationStatus.OPEN.value)
    if conversation.status not in waiting or conversation.handoff_reason is None:
        return False
    current = handoff_summary(conversation)
    if current is None or current.get("handoff_at") != handoff_at:
        return False  # the summary of an earlier handoff
    conversation.meta = {
        **(conversation.meta or {}),
        HANDOFF_SUMMARY: {**summary, "handoff_at": handoff_at},
    }
    await session.flush()
    publish_conversation(session, conversation, events.CONVERSATION_UPDATED)
    return True


async def request_handoff(
    session: AsyncSession, scope: TenantScope, conversation_id: int, reason: str
) -> Conversation | None:
    """The customer asks for a person. A conversation the AI owns (or a resolved one) goes
    to the queue; one already waiting for or owned by an operator stays as it is (``None``
    is returned: nothing changed)."""
    conversation = await get(session, scope, conversation_id, for_update=True)
    if conversation.status in (ConversationStatus.PENDING.value, ConversationStatus.OPEN.value):
        return None
    conversation.assignee_id = None
    await hand_off(session, scope, conversation, reason)
    return conversation


async def rate(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    rating: int,
    comment: str | None,
) -> Conversation:
    """The customer's satisfaction rating (1-5) of a resolved conversation; rating again
    replaces the earlier one."""
    if not 1 <= rating <= 5:
        raise Unprocessable("rating must be 1 to 5")
    conversation = await get(session, scope, conversation_id, for_update=True)
    if conversation.status != ConversationStatus.RESOLVED.value:
        raise Conflict("the conversation is not resolved yet")
    conversation.csat_rating = rating
    conversation.csat_comment = (comment or "").strip()[:1000] or None
    conversation.csat_at = utcnow()
    conversation.updated_at = conversation.csat_at
    await session.flush()
    publish_conversation(session, conversation, events.CONVERSATION_UPDATED)
    return conversation


async def touch(conversation: Conversation) -> None:
    now = utcnow()
    conversation.last_activity_at = now
    conversation.updated_at = now


async def search(
    session: AsyncSession,
    scope: TenantScope,
    flt: ConversationFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Conversation], str | None]:
    try:
        after = decode_time_cursor(cursor)
    except InvalidCursor:
        raise Unprocessable("invalid cursor") from None
    rows = await ConversationRepository(session, scope).search(flt, limit=limit + 1, after=after)
    return time_page(rows, limit, lambda c: c.last_activity_at, lambda c: c.id)


PREVIEW_CHARS = 140
# a resolved conversation the customer reopens this soon was not really resolved
REOPENED_SOON = timedelta(hours=72)
# states in which a person owns the conversation (entering one counts as a handoff)
_HUMAN_STATES = (ConversationStatus.PENDING, ConversationStatus.OPEN)


async def last_messages(
    session: AsyncSession, scope: TenantScope, conversation_ids: list[int]
) -> dict[int, tuple[str, str, datetime]]:
    """The inbox preview of each conversation (see ``ConversationRepository.last_messages``)."""
    return await ConversationRepository(session, scope).last_messages(
        conversation_ids, PREVIEW_CHARS
    )


def _set_status(conversation: Conversation, status: ConversationStatus) -> None:
    if conversation.status == status.value:
        return
    conversation.status = status.value
    conversation.resolved_at = utcnow() if status is ConversationStatus.RESOLVED else None
    if status in _HUMAN_STATES and conversation.handed_off_at is None:
        conversation.handed_off_at = utcnow()


async def update(
    session: AsyncSession, scope: TenantScope, conversation_id: int, patch: ConversationPatch
) -> Conversation:
    conversation = await get(session, scope, conversation_id, for_update=True)
    fields = patch.model_fields_set
    if "category_id" in fields:
        if patch.category_id is not None:
            try:
                await tickets.get_category(session, scope, patch.category_id)
            except NotFound:
                raise Unprocessable("unknown category") from None
        conversation.category_id = patch.category_id
    if patch.priority is not None:
        conversation.priority = patch.priority.value
    if patch.subject is not None:
        conversation.subject = patch.subject
    status_changed = False
    if patch.status is not None and patch.status.value != conversation.status:
        if patch.status is ConversationStatus.OPEN and conversation.assignee_id is None:
            raise Unprocessable("assign the conversation to an operator to open it")
        _set_status(conversation, patch.status)
        if patch.status is ConversationStatus.BOT:
            # handed back to the AI: no operator owns it any more
            conversation.assignee_id = None
            conversation.handoff_reason = None
        status_changed = True
    conversation.updated_at = utcnow()
    await session.flush()
    if status_changed and patch.status is ConversationStatus.RESOLVED:
        await telegram_hooks.on_resolved(session, scope, conversation)
    publish_conversation(
        session,
        conversation,
        events.CONVERSATION_STATUS if status_changed else events.CONVERSATION_UPDATED,
    )
    return conversation


async def assign(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    assignee_id: uuid.UUID | None,
    *,
    assignee_is_member: bool,
) -> Conversation:
    """Assign (or unassign with ``None``). Assigning a waiting conversation opens it: the
    operator owns it and the AI stays silent; unassigning an open one puts it back in the
    queue."""
    conversation = await get(session, scope, conversation_id, for_update=True)
    if assignee_id is not None and not assignee_is_member:
        raise Unprocessable("the assignee is not a member of this workspace")
    conversation.assignee_id = assignee_id
    if assignee_id is not None and conversation.status in (
        ConversationStatus.BOT.value,
        ConversationStatus.PENDING.value,
    ):
        _set_status(conversation, ConversationStatus.OPEN)
    elif assignee_id is None and conversation.status == ConversationStatus.OPEN.value:
        _set_status(conversation, ConversationStatus.PENDING)
    conversation.updated_at = utcnow()
    await session.flush()
    publish_conversation(session, conversation, events.CONVERSATION_ASSIGNED)
    return conversation


async def take_over(
    session: AsyncSession, conversation: Conversation, operator_id: uuid.UUID | None
) -> None:
    """An operator writing to the customer owns the conversation from then on (the
    customer's widget shows that a person joined)."""
    if conversation.assignee_id is None and operator_id is not None:
        conversation.assignee_id = operator_id
    changed = False
    if (
        conversation.status != ConversationStatus.OPEN.value
        and conversation.assignee_id is not None
    ):
        _set_status(conversation, ConversationStatus.OPEN)
        changed = True
    await touch(conversation)
    if changed:
        await session.flush()
        publish_conversation(session, conversation, events.CONVERSATION_STATUS)


async def move_contact(
    session: AsyncSession, scope: TenantScope, source: uuid.UUID, target: uuid.UUID
) -> int:
    """A contact merge: ``source``'s conversations become ``target``'s."""
    return await ConversationRepository(session, scope).move_contact(source, target)


async def for_contact(
    session: AsyncSession,
    scope: TenantScope,
    contact_id: uuid.UUID,
    *,
    channel_id: uuid.UUID | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[Conversation]:
    """A contact's conversations, newest first."""
    return await ConversationRepository(session, scope).for_contact(
        contact_id, channel_id=channel_id, limit=limit, before=before
    )


async def recent_inbound(
    session: AsyncSession,
    scope: TenantScope,
    contact_id: uuid.UUID,
    since: datetime,
    limit: int,
) -> list[tuple[datetime, str]]:
    """The contact's inbound messages since ``since``, newest first (see
    :meth:`ConversationRepository.recent_inbound`)."""
    return await ConversationRepository(session, scope).recent_inbound(contact_id, since, limit)


MODERATION = "moderation"  # the key in ``conversations.meta`` (and in ``messages.meta``)


async def flag_moderation(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    flag: dict[str, Any],
    hold_reason: str | None,
    hold_summary: str | None = None,
) -> Conversation:
    """Keep moderation's latest verdict on the conversation (``meta.moderation``, shown
    in the inbox and the conversation view). ``hold_reason``: the verdict holds the
    message, so a conversation the AI owns goes to the operators' queue with that reason
    (one already waiting for or with an operator stays as it is) and ``hold_summary`` as
    its handoff summary: no model is asked to summarize a held message."""
    conversation = await get(session, scope, conversation_id, for_update=True)
    conversation.meta = {**(conversation.meta or {}), MODERATION: flag}
    if hold_reason is not None and conversation.status == ConversationStatus.BOT.value:
        conversation.assignee_id = None
        await hand_off(
            session, scope, conversation, hold_reason, summary=hold_summary or hold_reason
        )
        return conversation
    await touch(conversation)
    await session.flush()
    publish_conversation(session, conversation, events.CONVERSATION_UPDATED)
    return conversation


async def merge_meta(
    session: AsyncSession, scope: TenantScope, conversation_id: int, facts: dict[str, Any]
) -> None:
    """Merge channel facts into the conversation's meta (written only when they change)."""
    conversation = await ConversationRepository(session, scope).get(conversation_id)
    if conversation is None:
        return
    merged = {**(conversation.meta or {}), **facts}
    if merged != conversation.meta:
        conversation.meta = merged
        await session.flush()
