"""The AI first line in a conversation: for each customer message the AI owns, decide
``full_answer | need_more_info | escalate_to_human`` and act on it.

The job runs in three steps so that no transaction is held while a model thinks: read the
context (settings, conversation, history) in one transaction; call the provider chain; then,
in one transaction, store the AI log and act - but only if the AI still owns the
conversation (an operator may have taken it meanwhile).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.ai.base import ChatMessage, Completion, CompletionRequest, ProviderKind
from frontline.ai.chain import (
    AllProvidersFailed,
    Attempt,
    BreakerRegistry,
    ChainLink,
    FallbackChain,
)
from frontline.ai.prompts import HistoryMessage, PromptSettings, build_prompt, gather_context
from frontline.ai.triage import (
    Decision,
    DraftReplyStream,
    TriageOutcome,
    TriageParams,
    TriagePrompt,
    TriageResult,
    fallback_result,
    handoff_reply,
    run_triage,
)
from frontline.aisettings import service as aisettings
from frontline.contacts import service as contacts
from frontline.conversations import service as conversations
from frontline.jobs.queue import enqueue
from frontline.jobs.registry import JobContext
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import ConversationStatus, Message, SenderType
from frontline.realtime.broker import Broker
from frontline.tenants import service as tenants

log = logging.getLogger(__name__)

ALL_FAILED_REASON = "all AI providers failed"
# how often streamed reply text is sent to viewers (deltas in between are merged)
STREAM_FLUSH_SECONDS = 0.05


def request_reply(
    session: AsyncSession, scope: TenantScope, conversation_id: int, message_id: int
) -> None:
    """Enqueue the AI's turn for a customer message, in the caller's transaction."""
    enqueue(
        session,
        events.JOB_AI_REPLY,
        {"conversation_id": conversation_id, "message_id": message_id},
        tenant_id=scope.tenant_id,
        idempotency_key=f"ai-reply:{message_id}",
    )


@dataclass(frozen=True)
class _Turn:
    prompt: TriagePrompt
    params: TriageParams
    chain: FallbackChain
    keyword: str | None
    settings: aisettings.AiRuntimeSettings


def _history(rows: list[Message], until_id: int) -> list[HistoryMessage]:
    return [
        HistoryMessage(sender_type=m.sender_type, content=m.text)  # type: ignore[arg-type]
        for m in rows
        if not m.is_internal and m.id <= until_id
    ]


async def _prepare(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    breakers: BreakerRegistry,
    conversation_id: int,
    message_id: int,
) -> _Turn | None:
    settings = await aisettings.load_runtime_settings(session, scope, box)
    conversation = await conversations.get(session, scope, conversation_id)
    if conversation.status != ConversationStatus.BOT.value or not settings.ai_enabled:
        return None  # a person owns it, or AI was switched off meanwhile
    contact = await contacts.get_contact(session, scope, conversation.contact_id)
    if not contact.ai_enabled:
        return None
    rows = await messages.list_messages(session, scope, conversation.id)
    customer = [m for m in rows if m.sender_type == SenderType.CONTACT.value and not m.is_internal]
    target = next((m for m in customer if m.id == message_id), None)
    if target is None or customer[-1].id != message_id:
        return None  # a newer message's turn answers them all, with the full context
    tenant = await tenants.get_tenant(session, scope)
    prompt_settings = PromptSettings(
        system_prompt=settings.system_prompt or None,
        answer_style=settings.answer_style or None,
        business_name=tenant.name,
        history_limit=settings.history_size,
        language="en" if tenant.locale == "en" else "ru",
    )
    context = await gather_context(tenant, conversation)
    prompt = build_prompt(prompt_settings, _history(rows, message_id), (), context, target.text)
    links = [ChainLink(p.kind, p.model, p.config) for p in settings.chain]
    chain = FallbackChain(links, breakers, offline_fallback=settings.offline_fallback)
    text = target.text.casefold()
    keyword = next((k for k in settings.escalation_keywords if k and k.casefold() in text), None)
    params = TriageParams(
        model=links[0].model if links else "offline",
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )
    return _Turn(prompt, params, chain, keyword, settings)


class LiveDraft:
    """Shows the AI's reply to the conversation's live viewers (the web chat, an operator
    with the conversation open) while the model is still writing it, as ``message.delta``
    events: ``{stream_id, delta}`` pieces, ``{stream_id, reset}`` when a provider failed
    mid-answer and the next one starts over, and ``{stream_id, done, discarded}`` at the
    end. The stored reply's ``message.created`` carries the same ``stream_id`` in its meta,
    so a viewer replaces the streamed text with it; ``discarded`` means the streamed text
    was not sent (the model escalated, its output was invalid, an operator took over).
    Deltas are events only - the database keeps the final message, as always."""

    def __init__(self, broker: Broker, scope: TenantScope, conversation_id: int, stream_id: str):
        self._broker = broker
        self._topic = events.conversation_topic(scope.tenant_id, conversation_id)
        self._conversation_id = conversation_id
        self.stream_id = stream_id
        self._parser = DraftReplyStream()
        self._attempt: int | None = None
        self._pending = ""
        self._flushed_at = 0.0
        self.published = False

    async def on_delta(self, attempt: int, delta: str) -> None:
        if attempt != self._attempt:
            if self.published:
                self._pending = ""
                await self._send({"reset": True})
            self._attempt = attempt
            self._parser = DraftReplyStream()
        text = self._parser.feed(delta)
        if not text or self._parser.decision == Decision.ESCALATE_TO_HUMAN.value:
            return  # an escalation's text is the handoff notice, sent when stored
        self._pending += text
        if self._parser.done or time.monotonic() - self._flushed_at >= STREAM_FLUSH_SECONDS:
            await self._flush()

    async def finish(self, sent: bool) -> None:
        if not self.published:
            return
        if sent:
            await self._flush()
        await self._send({"done": True, "discarded": not sent})

    async def _flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._flushed_at = time.monotonic()
            await self._send({"delta": text})

    async def _send(self, data: dict[str, Any]) -> None:
        self.published = True
        event = {
            "type": events.MESSAGE_DELTA,
            "data": {"conversation_id": self._conversation_id, "stream_id": self.stream_id, **data},
        }
        try:
            await self._broker.publish(self._topic, event)
        except Exception:
            log.warning("streaming a reply failed", extra={"topic": self._topic}, exc_info=True)


async def _decide(
    turn: _Turn, live: LiveDraft | None = None
) -> tuple[TriageOutcome | None, TriageResult, list[Attempt]]:
    """Run the chain; never raises for provider or model trouble (it escalates). With
    ``live`` the first call streams (a repair call, if needed, does not)."""
    attempts: list[Attempt] = []
    calls = 0
    if turn.keyword is not None:
        reason = f"escalation keyword: {turn.keyword}"
        return None, fallback_result(turn.prompt, reason), attempts

    async def complete(request: CompletionRequest) -> Completion:
        def for_link(link: ChainLink) -> CompletionRequest:
            if link.kind is ProviderKind.OFFLINE:
                # the offline engine reads the customer's words, not an LLM prompt
                customer = ChatMessage("user", turn.prompt.customer_message)
                return replace(request, model=link.model, messages=(customer,))
            return replace(request, model=link.model)

        nonlocal calls
        calls += 1
        on_delta = live.on_delta if live is not None and calls == 1 else None
        try:
            result = await turn.chain.complete(for_link, on_delta=on_delta)
        except AllProvidersFailed as failed:
            attempts.extend(failed.attempts)
            raise
        attempts.extend(result.attempts)
        return result.completion

    try:
        outcome = await run_triage(complete, turn.prompt, turn.params)
    except AllProvidersFailed:
        return None, fallback_result(turn.prompt, ALL_FAILED_REASON), attempts
    return outcome, outcome.result, attempts


def _prompt_log(request: CompletionRequest) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in request.messages]


async def _log_calls(
    session: AsyncSession,
    scope: TenantScope,
    outcome: TriageOutcome | None,
    attempts: list[Attempt],
    result: TriageResult,
    conversation_id: int,
    message_id: int,
) -> None:
    prompt = _prompt_log(outcome.requests[0]) if outcome else []
    for attempt in attempts:
        if attempt.error is not None:
            await aisettings.record_call(
                session,
                scope,
                provider=attempt.provider.value,
                model=attempt.model,
                prompt=prompt,
                latency_ms=attempt.latency_ms,
                error=attempt.error,
                conversation_id=conversation_id,
                message_id=message_id,
            )
    if outcome is None:
        return
    for index, completion in enumerate(outcome.completions):
        last = index == len(outcome.completions) - 1
        await aisettings.record_call(
            session,
            scope,
            provider=completion.provider.value,
            model=completion.model,
            prompt=_prompt_log(outcome.requests[index]),
            answer=completion.text,
            decision=result.decision.value if last else None,
            tokens_in=completion.usage.input_tokens,
            tokens_out=completion.usage.output_tokens,
            latency_ms=completion.latency_ms,
            cost=completion.cost,
            error=None if last and outcome.valid else "; ".join(outcome.errors) or None,
            conversation_id=conversation_id,
            message_id=message_id,
        )


async def _act(
    session: AsyncSession,
    scope: TenantScope,
    turn: _Turn,
    result: TriageResult,
    conversation_id: int,
    live: LiveDraft | None = None,
) -> Message | None:
    conversation = await conversations.get(session, scope, conversation_id, for_update=True)
    if conversation.status != ConversationStatus.BOT.value:
        return None  # an operator took over while the model was thinking: stay silent
    meta: dict[str, Any] = {
        "decision": result.decision.value,
        "citations": list(result.citations),
        "language": result.language,
    }
    if result.decision is Decision.ESCALATE_TO_HUMAN:
        reason = result.handoff_reason or "escalated by the AI"
        await conversations.hand_off(session, scope, conversation, reason)
        text = result.draft_reply.strip() or handoff_reply(result.language)
        return await messages.queue_outbound(
            session, scope, conversation, text, sender_type=SenderType.AI, meta=meta
        )
    if not turn.settings.auto_reply:
        return await messages.add_ai_suggestion(
            session, scope, conversation, result.draft_reply, meta
        )
    await conversations.touch(conversation)
    if live is not None and live.published:
        meta["stream_id"] = live.stream_id
    return await messages.queue_outbound(
        session, scope, conversation, result.draft_reply, sender_type=SenderType.AI, meta=meta
    )


async def _watched(broker: Broker, scope: TenantScope, conversation_id: int) -> bool:
    try:
        return await broker.watched(events.conversation_topic(scope.tenant_id, conversation_id))
    except Exception:
        log.warning("realtime broker unreachable; the reply is not streamed", exc_info=True)
        return False


async def reply(
    ctx: JobContext, box: SecretBox, breakers: BreakerRegistry, broker: Broker
) -> None:
    """The ``ai.reply`` job."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    conversation_id = int(ctx.payload["conversation_id"])
    message_id = int(ctx.payload["message_id"])
    async with ctx.db.transaction() as session:
        turn = await _prepare(session, scope, box, breakers, conversation_id, message_id)
    if turn is None:
        return
    live = None
    if turn.settings.auto_reply and await _watched(broker, scope, conversation_id):
        live = LiveDraft(broker, scope, conversation_id, f"ai-{message_id}")
    outcome, result, attempts = await _decide(turn, live)
    async with ctx.db.transaction() as session:
        await _log_calls(session, scope, outcome, attempts, result, conversation_id, message_id)
        sent = await _act(session, scope, turn, result, conversation_id, live)
        await ctx.complete_in(session)
    if live is not None:
        await live.finish(sent is not None and "stream_id" in (sent.meta or {}))
    log.info(
        "ai turn",
        extra={
            "conversation_id": conversation_id,
            "decision": result.decision.value,
            "acted": sent is not None,
            "providers": [a.provider.value for a in attempts],
        },
    )
