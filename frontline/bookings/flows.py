"""Booking decisions that reach the customer: confirm or reject a booking and tell the
customer on their own channel, in the same transaction (the reply is queued for delivery
with the decision, or neither happens)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.bookings import notify, service
from frontline.bookings.schemas import BookingIn
from frontline.conversations import service as conversations
from frontline.errors import NotFound
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import Booking, SenderType


async def _tell_customer(
    session: AsyncSession, scope: TenantScope, booking: Booking, kind: str
) -> None:
    if booking.conversation_id is None:
        return
    try:
        conversation = await conversations.get(session, scope, booking.conversation_id)
    except NotFound:
        return
    resource = await service.get_resource(session, scope, booking.resource_id)
    text = notify.customer_text(
        kind,
        booking.locale,
        booking_id=booking.id,
        resource=resource.name,
        when=notify.period(booking.starts_at, booking.ends_at, resource.timezone, booking.locale),
        guests=booking.guests,
        price=notify.money(booking.total_price, booking.currency, booking.locale),
        reason=booking.reject_reason or "",
    )
    await messages.queue_outbound(
        session,
        scope,
        conversation,
        text,
        sender_type=SenderType.SYSTEM,
        meta={"booking_id": booking.id, "booking_status": booking.status},
    )


async def confirm(
    session: AsyncSession, scope: TenantScope, booking_id: int, user_id: uuid.UUID | None
) -> Booking:
    booking = await service.confirm(session, scope, booking_id, user_id)
    await _tell_customer(session, scope, booking, "confirmed")
    return booking


async def reject(
    session: AsyncSession,
    scope: TenantScope,
    booking_id: int,
    reason: str,
    user_id: uuid.UUID | None,
) -> Booking:
    booking = await service.reject(session, scope, booking_id, reason, user_id)
    await _tell_customer(session, scope, booking, "rejected")
    return booking


async def create_for_conversation(
    session: AsyncSession, scope: TenantScope, body: BookingIn
) -> Booking:
    """A booking, linked to a conversation (and its contact) when ``conversation_id`` is
    given; 422 for a conversation of no such (or another) tenant."""
    contact_id: uuid.UUID | None = None
    if body.conversation_id is not None:
        try:
            conversation = await conversations.get(session, scope, body.conversation_id)
        except NotFound:
            raise service.invalid("unknown conversation") from None
        contact_id = conversation.contact_id
    return await service.create_booking(session, scope, body, contact_id=contact_id)
