"""Cross-domain workflows around conversations: inbound messages and operator replies."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai import flows as ai
from frontline.attachments import service as attachments
from frontline.auth import service as auth
from frontline.channels.base import InboundMessage
from frontline.channels.whatsapp.window import check_reply_window
from frontline.contacts import service as contacts
from frontline.conversations import moderation
from frontline.conversations import service as conversations
from frontline.conversations.limits import Admit, InboundLimits, OverLimit
from frontline.kit.db import Database, Unit, as_unit
from frontline.kit.metrics import inbound_messages
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages import service as messages
from frontline.models import Conversation, ConversationStatus, Message, SenderType

log = logging.getLogger(__name__)

INGEST_ATTEMPTS = 4


@dataclass(frozen=True)
class InboundResult:
    message_id: int
    conversation_id: int
    duplicate: bool


async def receive_inbound(
    session: AsyncSession | Unit,
    scope: TenantScope,
    channel_id: uuid.UUID,
    inbound: InboundMessage,
    uploads: Sequence[int] = (),
    *,
    admit: Admit | None = None,
) -> InboundResult:
    """Store one inbound message: contact, conversation, message, its attachments,
    follow-up work. ``uploads``: ids of files the customer uploaded before (web widget).

    A message already stored (same channel and external id) is a redelivery: nothing is
    written and the original ids are returned. ``admit`` is applied to a new message only,
    so a redelivery is never counted against the rate limits.

    On a :class:`~frontline.kit.db.CoreTransaction` (what :func:`ingest` opens) the common
    case - a known contact writing in an ongoing conversation, nothing flagged - runs Core
    statements only; an ORM session (``unit.session()``) is made in the same transaction
    only by the steps that need entities (a new contact or conversation, a reopening, a
    moderation flag, attachments).
    """
    unit = as_unit(session)
    history_since = moderation.history_since(scope.tenant_id, utcnow())
    context = await conversations.inbound_context(
        unit,
        scope,
        channel_id,
        inbound.external_id,
        inbound.contact.external_id,
        history_since,
    )
    if context.duplicate is not None:
        return InboundResult(context.duplicate[0], context.duplicate[1], True)
    if admit is not None:
        inbound = await admit(inbound)
    contact, _created = await contacts.resolve_identity(
        unit, scope, channel_id, inbound.contact, known=context.contact, looked_up=True
    )
    thread_id = None
    if inbound.thread_refs:
        thread_id = await messages.conversation_for_refs(
            unit.session(), scope, channel_id, inbound.thread_refs
        )
    conversation = conversations.continued(
        context.latest, thread_id, inbound.new_thread_if_unmatched
    )
    if conversation is None:
        conversation, _opened = await conversations.find_or_open(
            unit.session(),
            scope,
            channel_id=channel_id,
            contact=contact,
            latest=context.latest,
            tenant_ai_enabled=context.tenant_ai_enabled,
            thread_conversation_id=thread_id,
            new_thread_if_unmatched=inbound.new_thread_if_unmatched,
            subject=inbound.subject,
        )
    if inbound.conversation_meta:
        await conversations.merge_meta(
            unit.session(), scope, conversation.id, inbound.conversation_meta
        )
    # moderation before the AI (see frontline.conversations.moderation)
    known = context.contact.id if context.contact is not None else None
    fetched = (history_since, context.recent) if context.recent is not None else None
    verdict = await moderation.screen(unit, scope, known, context.moderation, inbound.text, fetched)
    if verdict is not None:
        inbound = moderation.mark(inbound, verdict)
    attach: messages.AttachHook | None = None
    if inbound.attachments or uploads:
        conversation_id = conversation.id

        async def _attach(message_id: int) -> list[dict[str, Any]]:
            return await attachments.record_inbound(
                unit.session(),
                scope,
                channel_id=channel_id,
                conversation_id=conversation_id,
                message_id=message_id,
                files=inbound.attachments,
                uploads=uploads,
                uploader=inbound.contact.external_id,
            )

        attach = _attach
    message_id = await messages.record_inbound(
        unit, scope, conversation.id, channel_id, inbound, attach
    )
    if verdict is not None:
        await moderation.act(unit.session(), scope, conversation.id, message_id, verdict)
    if conversation.status == ConversationStatus.BOT.value and inbound.ai_reply:
        await ai.request_reply(unit, scope, conversation.id, message_id)
    return InboundResult(message_id, conversation.id, False)


async def ingest(
    db: Database,
    scope: TenantScope,
    channel_id: uuid.UUID,
    channel_type: str,
    inbound: InboundMessage,
    uploads: Sequence[int] = (),
    *,
    limits: InboundLimits | None = None,
    over_limit: OverLimit = OverLimit.STORE,
    per_contact_limit: bool = True,
) -> InboundResult:
    """The commit edge of inbound messages.

    ``limits``: the per-contact and per-tenant rate limits, checked once the message is
    known to be new (a provider's redelivery of a stored message is answered as a
    duplicate, never counted nor refused); over them the message is refused (429, the
    transaction rolls back) or stored without an AI turn, as ``over_limit`` says (see
    :mod:`frontline.conversations.limits`).

    Concurrent deliveries of one message (or first contacts of one customer) race on the
    unique constraints; the loser's whole transaction rolls back - so it writes nothing -
    and the next attempt finds the winner's rows.
    """
    admit: Admit | None = None
    if limits is not None:
        admit = limits.admit_once(
            scope.tenant_id, channel_id, channel_type, over_limit, per_contact=per_contact_limit
        )
    for attempt in range(1, INGEST_ATTEMPTS + 1):
        try:
            # no ORM session unless a step needs entities (see receive_inbound)
            async with db.core_transaction() as tx:
                result = await receive_inbound(tx, scope, channel_id, inbound, uploads, admit=admit)
            inbound_messages.labels(channel_type, str(result.duplicate).lower()).inc()
            return result
        except IntegrityError:
            if attempt == INGEST_ATTEMPTS:
                raise
            log.info("inbound race lost, retrying", extra={"attempt": attempt})
    raise AssertionError("unreachable")


async def operator_reply(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    text: str,
    operator_id: uuid.UUID | None,
) -> tuple[Conversation, Message]:
    """An operator's reply: the operator takes the conversation and the reply goes out on
    the customer's channel."""
    conversation = await conversations.get(session, scope, conversation_id, for_update=True)
    await check_reply_window(session, scope, conversation.channel_id, conversation.id)
    await conversations.take_over(session, conversation, operator_id)
    # the name the customer sees on the reply (the web chat shows it)
    name = await auth.display_name(session, operator_id) if operator_id else None
    message = await messages.queue_outbound(
        session,
        scope,
        conversation,
        text,
        sender_type=SenderType.OPERATOR,
        author_id=operator_id,
        meta={"author_name": name} if name else None,
    )
    await session.flush()
    return conversation, message


async def add_note(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    text: str,
    author_id: uuid.UUID | None,
) -> Message:
    conversation = await conversations.get(session, scope, conversation_id)
    return await messages.add_note(session, scope, conversation, text, author_id)
