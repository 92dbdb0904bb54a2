"""Booking decisions that reach the customer: confirm or reject a booking and tell the
customer on their own channel, in the same transaction (the reply is queued for delivery
with the decision, or neither happens)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.base import ChatMessage, CompletionRequest, ProviderKind
from frontline.ai.chain import AllProvidersFailed, Attempt, ChainLink, FallbackChain
from frontline.ai.offline.text import detect_language
from frontline.aisettings import service as aisettings
from frontline.bookings import assistant, notify, service
from frontline.bookings import proposal as proposal_call
from frontline.bookings.proposal import Proposal
from frontline.bookings.schemas import BookingIn
from frontline.conversations import service as conversations
from frontline.errors import NotFound
from frontline.jobs.registry import JobContext
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages import service as messages
from frontline.models import Booking, ConversationStatus, SenderType

HISTORY = 12  # messages the booking turn reads
# the booking turn's row in the AI log: rules (and a remote model's validated reading) decide
BOOKING_RULES_MODEL = "booking-rules"
_ROLES = {"contact": "user", "ai": "assistant"}


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


async def ai_booking_turn(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    held_by: JobContext | None = None,
    proposal: Proposal | None = None,
    message_id: int | None = None,
) -> bool:
    """The AI's turn when the conversation is about a booking (``auto_booking``): answer
    it from :func:`frontline.bookings.assistant.booking_turn` in this transaction and
    return True; False (nothing written) when it is not about booking or a person owns it."""
    conversation = await conversations.get(session, scope, conversation_id, for_update=True)
    if conversation.status != ConversationStatus.BOT.value:
        return False
    rows = await messages.recent_unheld(session, scope, conversation_id, HISTORY)
    history = [(sender, text) for _id, sender, text in reversed(rows)]
    customer = " ".join(text for sender, text in history[-3:] if sender == "contact")
    language = detect_language(customer, default="ru")
    started = time.perf_counter()
    turn = await assistant.booking_turn(
        session, scope, conversation_id, conversation.contact_id, history, language, proposal
    )
    if turn is None:
        return False
    decision = "full_answer" if turn.booking_id or not turn.missing else "need_more_info"
    await aisettings.record_calls(
        session,
        scope,
        [_turn_row(turn, history, decision, language, started, conversation_id, message_id)],
    )
    meta: dict[str, object] = {"decision": decision, "language": language, "booking": True}
    if turn.booking_id is not None:
        meta["booking_id"] = turn.booking_id
    if turn.missing:
        meta["booking_missing"] = turn.missing
    await messages.queue_outbound(
        session,
        scope,
        conversation,
        turn.reply,
        sender_type=SenderType.AI,
        meta=meta,
        held_by=held_by,
    )
    return True


def _turn_row(
    turn: assistant.BookingTurn,
    history: list[tuple[str, str]],
    decision: str,
    language: str,
    started: float,
    conversation_id: int,
    message_id: int | None,
) -> dict[str, Any]:
    """The booking turn as a row of the AI log, like a model's turn: what it read (the
    conversation), what it extracted and asked, how it ended, and the reply."""
    answer = {
        "decision": decision,
        "result": turn.result,
        "extracted": turn.extracted,
        "from_model": turn.from_model,
        "asked": turn.missing,
        "booking_id": turn.booking_id,
        "language": language,
        "draft_reply": turn.reply,
    }
    return aisettings.call_row(
        provider=ProviderKind.OFFLINE.value,
        model=BOOKING_RULES_MODEL,
        prompt=[{"role": _ROLES.get(sender, sender), "content": text} for sender, text in history],
        answer=json.dumps(answer, ensure_ascii=False),
        decision=decision,
        latency_ms=(time.perf_counter() - started) * 1000,
        conversation_id=conversation_id,
        message_id=message_id,
    )


@dataclass
class RemoteReading:
    """A remote model's validated reading of a booking request and the calls it took, as
    rows for the AI call log (:func:`frontline.aisettings.service.call_row`)."""

    proposal: Proposal | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)


async def remote_proposal(
    db: Database,
    scope: TenantScope,
    chain: FallbackChain,
    said: list[str],
    *,
    conversation_id: int | None = None,
    message_id: int | None = None,
    deadline_seconds: float,
) -> RemoteReading:
    """A remote model's structured reading of a booking request (before the turn's
    transaction: no transaction is held while a model thinks); no proposal when the chain
    has no remote model first, the customer is not booking, or no model answered. Each
    model is given up after ``deadline_seconds`` (``FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS``)."""
    if not chain.links or chain.links[0].kind is ProviderKind.OFFLINE:
        return RemoteReading()
    if not any(assistant.INTENT.search(text) for text in said):
        return RemoteReading()
    async with db.reader() as session:
        names = [r.name for r in await service.list_resources(session, scope, active_only=True)]
    if not names:
        return RemoteReading()
    today = utcnow().date()
    system, user = proposal_call.prompt(said, today, names)
    logged = [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def build(link: ChainLink) -> CompletionRequest:
        return CompletionRequest(
            messages=(ChatMessage("system", system), ChatMessage("user", user)),
            model=link.model,
            temperature=0.0,
            max_tokens=300,
            deadline_seconds=deadline_seconds,
            json_schema=proposal_call.SCHEMA,
            json_schema_name="booking_request",
        )

    def row(attempt: Attempt, answer: str = "", **extra: Any) -> dict[str, Any]:
        return aisettings.call_row(
            provider=attempt.provider.value,
            model=attempt.model,
            prompt=logged,
            answer=answer,
            decision="booking_request",
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            conversation_id=conversation_id,
            message_id=message_id,
            **extra,
        )

    try:
        result = await chain.complete(build)
    except AllProvidersFailed as exc:
        return RemoteReading(None, [row(a) for a in exc.attempts])
    completion = result.completion
    calls = [row(a) for a in result.attempts if a.error is not None]
    if completion.provider is ProviderKind.OFFLINE:
        return RemoteReading(None, calls)  # the offline engine does no structured reading
    calls.append(
        row(
            result.attempts[-1],
            completion.text,
            tokens_in=completion.usage.input_tokens,
            tokens_out=completion.usage.output_tokens,
            cost=completion.cost,
        )
    )
    return RemoteReading(proposal_call.validate(completion.text, today, names), calls)
