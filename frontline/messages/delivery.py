"""Delivering replies on the customer's channel: the delivery job, its settlement (sent,
``unknown``, failed) and its hooks, counted in ``frontline_outbound_deliveries_total``."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.channels import service as channels
from frontline.channels.base import ChannelError, OutboundMessage, RateLimited
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.errors import NotFound
from frontline.jobs.registry import JobContext
from frontline.jobs.retry import PermanentJobError, RetryAfter
from frontline.kit.crypto import SecretBox
from frontline.kit.metrics import deliveries
from frontline.kit.repository import TenantScope
from frontline.messages.repository import MessageRepository, is_customer
from frontline.messages.schemas import MessageOut
from frontline.messages.service import _publish, _publish_data
from frontline.models import DeliveryStatus


def outbound_message_id(
    message_id: int, idempotency_key: str, domain: str = "frontline.local"
) -> str:
    """A Message-ID that is the same on every retry of one delivery."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
    return f"<fl.{message_id}.{digest}@{domain}>"


@dataclass(frozen=True)
class Delivery:
    adapter_type: str
    config: dict[str, object]
    secret: str
    outbound: OutboundMessage
    # ``sending``: an earlier attempt handed it to the channel and recorded no answer
    status: str = DeliveryStatus.QUEUED.value


# the states a delivery job sends from: ``sending`` is an interrupted earlier attempt
SENDABLE = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)

# why a message is ``unknown`` (the console explains it in the operator's language)
UNKNOWN_WORKER_LOST = (
    "The worker sending this message stopped after handing it to the channel and before "
    "the channel confirmed it: it may or may not have reached the customer. It is not sent "
    "again by itself; resend it if the customer did not get it."
)
UNKNOWN_NO_ANSWER = (
    "The channel did not confirm this message ({error}): it may or may not have reached "
    "the customer. It is not sent again by itself; resend it if the customer did not get it."
)

# the most recent earlier messages a delivery names as its thread (``references``): channels
# use a few dozen at most (e-mail's References header keeps the last 30)
THREAD_REFERENCES = 50


async def _prepare(
    session: AsyncSession, scope: TenantScope, box: SecretBox, message_id: int
) -> Delivery | None:
    """What sending the message takes, read in one round trip."""
    repo = MessageRepository(session, scope)
    found = await repo.for_delivery(message_id, THREAD_REFERENCES)
    if found is None:
        return None
    row, thread = found
    # a re-queued dead delivery set its failed message back to queued (``mark_requeued``)
    if row.is_internal or row.delivery_status not in SENDABLE:
        return None  # already sent (a redelivered job) or not deliverable
    if row.channel_found is None:
        raise NotFound("channel not found")
    channel = channels.decrypted_runtime(
        box,
        channel_id=row.channel_found,
        tenant_id=scope.tenant_id,
        channel_type=row.channel_type,
        name=row.channel_name,
        is_active=row.channel_is_active,
        config_encrypted=row.channel_config_encrypted,
        secret_encrypted=row.channel_secret_encrypted,
    )
    if row.contact_id is None:
        raise NotFound("contact not found")
    if row.identity_external_id is None:
        raise PermanentJobError("the contact has no identity on this channel")
    customer_ids = [ext for sender, ext in thread if is_customer(sender)]
    in_reply_to = customer_ids[-1] if customer_ids else None
    if in_reply_to is None and len(thread) >= THREAD_REFERENCES:
        in_reply_to = await repo.last_customer_external_id(row.conversation_id, row.id)
    idem = f"deliver:{row.id}"
    domain = str(channel.config.get("from_address", "x@frontline.local")).rsplit("@", 1)[-1]
    outbound = OutboundMessage(
        message_id=row.id,
        conversation_id=row.conversation_id,
        idempotency_key=idem,
        recipient_external_id=row.identity_external_id,
        recipient_name=row.contact_name,
        recipient_email=row.contact_email,
        text=row.text,
        subject=row.conversation_subject or None,
        external_id=outbound_message_id(row.id, idem, domain),
        in_reply_to=in_reply_to,
        references=tuple(ext for _s, ext in thread),
        sender_type=row.sender_type,
    )
    return Delivery(
        channel.type.value, channel.config, channel.secret, outbound, row.delivery_status
    )


async def deliver(ctx: JobContext, box: SecretBox, options: AdapterOptions) -> None:
    """The delivery job: prepare in one transaction, mark the message ``sending``, send
    with no transaction open, then record ``sent`` atomically with the job's completion.

    A worker killed between the send and that commit leaves the message ``sending``: the
    job, claimed again after the lease, does not repeat the send blindly. A channel whose
    receiver deduplicates (:attr:`~frontline.channels.base.ChannelAdapter.
    resend_is_idempotent`: the same idempotency key and Message-ID) is sent again; on any
    other the message becomes ``unknown`` for an operator to check and resend
    (:func:`resend`). A failure the channel answered with (429, 5xx, a refused connection)
    sent nothing: the message is queued again and the job retried."""
    if ctx.tenant_id is None:
        raise PermanentJobError("delivery job without a tenant")
    scope = TenantScope(ctx.tenant_id)
    message_id = int(ctx.payload["message_id"])
    async with ctx.db.reader() as session:
        delivery = await _prepare(session, scope, box, message_id)
    if delivery is None:
        return
    adapter = build_adapter(delivery.adapter_type, dict(delivery.config), delivery.secret, options)
    idempotent = adapter.resend_is_idempotent
    channel_type = delivery.adapter_type
    if delivery.status == DeliveryStatus.SENDING.value and not idempotent:
        await _settle_unknown(ctx, scope, message_id, UNKNOWN_WORKER_LOST)
        deliveries.labels(channel_type, "unknown").inc()
        return
    if delivery.status == DeliveryStatus.QUEUED.value:
        async with ctx.db.statement() as session:
            marked = await MessageRepository(session, scope).move_status(
                message_id, DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value
            )
        if not marked:
            return  # no longer queued: another attempt or a report moved it
    try:
        result = await adapter.send(delivery.outbound)
    except ChannelError as exc:
        if exc.may_have_arrived and not idempotent:
            await _settle_unknown(
                ctx, scope, message_id, UNKNOWN_NO_ANSWER.format(error=str(exc)[:300])
            )
            deliveries.labels(channel_type, "unknown").inc()
            return
        final = not exc.transient or ctx.attempt >= ctx.max_attempts
        deliveries.labels(channel_type, "failed" if final else "retried").inc()
        if exc.transient:
            # nothing was sent: queued again, for the retry to send
            async with ctx.db.statement() as session:
                await MessageRepository(session, scope).move_status(
                    message_id, DeliveryStatus.SENDING.value, DeliveryStatus.QUEUED.value
                )
            if isinstance(exc, RateLimited):
                raise RetryAfter(str(exc), exc.retry_after or 0.0) from exc
            raise
        raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc
    # ``sent`` and the job's completion in one statement on PostgreSQL, with no transaction
    # round trips around it
    async with ctx.db.statement() as session:
        effect, params = MessageRepository(session, scope).mark_delivered_statement(
            message_id, DeliveryStatus.SENT.value, result.external_id or None
        )
        rows = await ctx.complete_with(session, effect, params)
        deliveries.labels(channel_type, "sent").inc()
        if not rows:
            return  # the message is gone
        updated = rows[0]
        event = MessageOut.model_validate(updated).model_dump(mode="json")
        _publish_data(
            session, scope.tenant_id, updated["conversation_id"], events.MESSAGE_UPDATED, event
        )


async def _settle_unknown(
    ctx: JobContext, scope: TenantScope, message_id: int, reason: str
) -> None:
    """The message becomes ``unknown`` (with ``reason``) and the job completes, together."""
    async with ctx.db.statement() as session:
        effect, params = MessageRepository(session, scope).mark_unknown_statement(
            message_id, reason
        )
        rows = await ctx.complete_with(session, effect, params)
        if rows:
            event = MessageOut.model_validate(rows[0]).model_dump(mode="json")
            _publish_data(
                session, scope.tenant_id, rows[0]["conversation_id"], events.MESSAGE_UPDATED, event
            )


async def mark_requeued(
    session: AsyncSession, tenant_id: uuid.UUID | None, payload: dict[str, Any]
) -> None:
    """``on_requeue`` of the delivery job: a failed message is queued again."""
    if tenant_id is None:
        return
    message = await MessageRepository(session, TenantScope(tenant_id)).get(
        int(payload["message_id"])
    )
    if message is None or message.delivery_status != DeliveryStatus.FAILED.value:
        return
    message.delivery_status = DeliveryStatus.QUEUED.value
    message.failure_reason = None
    await session.flush()
    _publish(session, message, events.MESSAGE_UPDATED)


async def mark_failed(session: AsyncSession, ctx: JobContext, error: str) -> None:
    """``on_dead`` of the delivery job: the message shows ``failed`` with the reason."""
    if ctx.tenant_id is None:
        return
    message = await MessageRepository(session, TenantScope(ctx.tenant_id)).get(
        int(ctx.payload["message_id"])
    )
    if message is None:
        return
    message.delivery_status = DeliveryStatus.FAILED.value
    message.failure_reason = error[:2000]
    await session.flush()
    _publish(session, message, events.MESSAGE_UPDATED)
