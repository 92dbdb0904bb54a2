"""The AI first line in a conversation: for each customer message the AI owns, decide
``full_answer | need_more_info | escalate_to_human`` and act on it.

The job runs in three steps so that no transaction is held while a model thinks: read the
context (settings, conversation, history: one query, no transaction needed); call the
provider chain; then, in one transaction, store the AI log and act - but only if the AI
still owns the conversation (an operator may have taken it meanwhile). The reply's delivery
job is held by the same worker, which sends the reply right after that commit.
"""

from __future__ import annotations

import functools
import logging
import uuid
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
from frontline.ai.confidence import below_threshold, knowledge_confidence
from frontline.ai.grounding import grounded_triage
from frontline.ai.leakguard import LEAK_REASON, LeakGuard
from frontline.ai.live import LiveDraft
from frontline.ai.offline import DOCUMENT_THRESHOLDS, OfflineEngine, Passage
from frontline.ai.offline.retrieval import chunk_passage, follow_up, search_query
from frontline.ai.profile import profile_block
from frontline.ai.prompts import (
    ContextBlock,
    HistoryMessage,
    KnowledgePassage,
    PromptSettings,
    build_prompt,
    conversation_facts,
    gather_context,
)
from frontline.ai.triage import (
    Decision,
    TriageOutcome,
    TriageParams,
    TriagePrompt,
    TriageResult,
    fallback_result,
    handoff_reply,
)
from frontline.ai.turn_metrics import ALL_FAILED_REASON, turn_outcome
from frontline.aisettings import behaviour
from frontline.aisettings import service as aisettings
from frontline.bookings import assistant as booking_assistant
from frontline.bookings import customer as customer_bookings
from frontline.bookings import flows as booking_flows
from frontline.conversations import service as conversations
from frontline.errors import NotFound
from frontline.jobs import queue
from frontline.jobs.registry import JobContext
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Unit
from frontline.kit.metrics import ai_turns
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.knowledge import service as knowledge_service
from frontline.knowledge.index import IndexBackend
from frontline.messages import service as messages
from frontline.messages.schemas import MessageOut
from frontline.models import ConversationStatus, Message, SenderType
from frontline.realtime.broker import Broker

log = logging.getLogger(__name__)

# knowledge passages a turn gives the model (and the offline engine)
KNOWLEDGE_PASSAGES = 5
# seconds one provider call may take before the chain moves on (``FRONTLINE_AI_PROVIDER_
# TIMEOUT_SECONDS``)
PROVIDER_TIMEOUT_SECONDS = 30.0


async def request_reply(
    session: AsyncSession | Unit, scope: TenantScope, conversation_id: int, message_id: int
) -> None:
    """Enqueue the AI's turn for a customer message, in the caller's transaction (handed
    straight to this process's worker loop when it has a free slot)."""
    await queue.insert(
        session,
        events.JOB_AI_REPLY,
        {"conversation_id": conversation_id, "message_id": message_id},
        tenant_id=scope.tenant_id,
        idempotency_key=f"ai-reply:{message_id}",
        run_locally=True,
    )


@dataclass(frozen=True)
class _Turn:
    prompt: TriagePrompt
    params: TriageParams
    chain: FallbackChain
    keyword: str | None
    settings: aisettings.AiRuntimeSettings
    # how well the knowledge covers the message, 0..1 (computed only when the tenant set a
    # handoff threshold; see :func:`frontline.ai.confidence.knowledge_confidence`)
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class _TurnTenant:
    """The tenant as a turn sees it (for context providers: see ``TenantLike``)."""

    id: uuid.UUID
    name: str
    locale: str


@dataclass(frozen=True, slots=True)
class _TurnConversation:
    """The conversation as a turn sees it (for context providers: ``ConversationLike``)."""

    id: int
    status: str
    channel_id: uuid.UUID
    contact_id: uuid.UUID


# the prompt's language guess looks at the customer's last messages (``build_prompt``)
LANGUAGE_MESSAGES = 3


def _pick_history(
    rows: list[tuple[int, str, str]], message_id: int, history_size: int, complete: bool
) -> tuple[str, list[HistoryMessage]] | bool | None:
    """From the conversation's newest non-internal messages (``rows``, newest first;
    ``complete`` when they go back to its start): the text of the customer message
    ``message_id`` and the conversation up to it (oldest first).

    ``None`` when the turn has nothing to answer: a newer customer message exists (its
    turn answers them all, with the full context) or ``message_id`` is not a customer
    message. ``False`` when ``rows`` do not reach back far enough to tell, or to fill what
    the prompt uses of the history: its last ``history_size`` turns besides the message
    itself, and the customer's last :data:`LANGUAGE_MESSAGES` messages."""
    target: str | None = None
    older: list[HistoryMessage] = []
    turns = customer = 0
    for mid, sender, text in rows:
        if mid > message_id:
            if sender == SenderType.CONTACT.value:
                return None
            continue
        if mid == message_id:
            if sender != SenderType.CONTACT.value:
                return None
            target = text
        elif target is None:
            return None  # the window reaches past the message: it is not a customer's
        older.append(HistoryMessage(sender_type=sender, content=text))  # type: ignore[arg-type]
        turns += sender != SenderType.SYSTEM.value and bool(text.strip())
        customer += sender == SenderType.CONTACT.value
    if target is None:
        return None if complete else False
    if not complete and (turns < max(history_size, 0) + 1 or customer < LANGUAGE_MESSAGES):
        return False
    older.reverse()
    return target, older


async def _recent_history(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    message_id: int,
    history_size: int,
    first: tuple[list[tuple[int, str, str]], int] | None = None,
) -> tuple[str, list[HistoryMessage]] | None:
    """:func:`_pick_history` over as few of the newest messages as it needs: the history
    the prompt shows plus a few (``first``: those rows, already read, and the limit they
    were read with), more only when those do not suffice - the cost of a turn does not
    grow with the conversation."""
    if first is not None:
        rows, limit = first
    else:
        limit = max(history_size + 1, 2 * LANGUAGE_MESSAGES) + 2
        rows = await messages.recent_unheld(session, scope, conversation_id, limit)
    while True:
        picked = _pick_history(rows, message_id, history_size, complete=len(rows) < limit)
        if picked is not False:
            return picked  # type: ignore[return-value]
        limit *= 4
        rows = await messages.recent_unheld(session, scope, conversation_id, limit)


async def _prepare(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    breakers: BreakerRegistry,
    conversation_id: int,
    message_id: int,
    knowledge: IndexBackend | None = None,
    provider_timeout_seconds: float = PROVIDER_TIMEOUT_SECONDS,
) -> _Turn | None:
    """Read the turn's context in one query: the conversation, its contact, the tenant, its
    AI settings (decrypted keys come from a per-process cache keyed on what that query
    read) and the recent history (more of it only if the prompt needs more)."""
    found = await conversations.turn_context(session, scope, conversation_id)
    # auto-reply as set for this conversation's channel (else the tenant's switch)
    settings = aisettings.runtime_settings(found.settings, box).for_channel(found.channel_id)
    if found.status != ConversationStatus.BOT.value or not settings.ai_enabled:
        return None  # a person owns it, or AI was switched off meanwhile
    if not found.contact_found:
        raise NotFound("contact not found")
    if not found.contact_ai_enabled:
        return None
    picked = await _recent_history(
        session,
        scope,
        conversation_id,
        message_id,
        settings.history_size,
        first=(found.recent, found.recent_limit),
    )
    if picked is None:
        return None  # a newer message's turn answers them all, with the full context
    target_text, history = picked
    if not found.tenant_found:
        raise NotFound("tenant not found")
    tenant = _TurnTenant(scope.tenant_id, found.tenant_name, found.tenant_locale)
    conversation = _TurnConversation(
        found.conversation_id, found.status, found.channel_id, found.contact_id
    )
    prompt_settings = PromptSettings(
        system_prompt=settings.system_prompt or None,
        answer_style=settings.answer_style or None,
        business_name=tenant.name,
        history_limit=settings.history_size,
        language="en" if tenant.locale == "en" else "ru",
    )
    context = [
        *conversation_facts(found.meta, prompt_settings.language),
        *await gather_context(tenant, conversation),
    ]
    bookable = await booking_assistant.business_context(session, scope, prompt_settings.language)
    if bookable:  # live business data: resources, next departures, free places, prices
        context.append(ContextBlock("Bookable resources", bookable, "bookings"))
    profile = profile_block(found.contact_user_id, found.contact_name, found.contact_attributes)
    own: list[customer_bookings.OwnBooking] = []
    if profile is not None:  # the identified customer's own details, as delimited data
        context = [*context, profile]
        own = await customer_bookings.own_bookings(session, scope, found.contact_id)
        if own:  # their own bookings, so "when is my tour?" is answered from them
            text = customer_bookings.context_text(own)
            context.append(ContextBlock(customer_bookings.TITLE, text, "contact"))
    state = knowledge_service.SearchState(
        found.knowledge_version, found.knowledge_embedding, found.knowledge_embedding_secret
    )
    # the history ends with the message itself (``_pick_history``)
    earlier = [m.content for m in history[:-1] if m.sender_type == SenderType.CONTACT.value]
    query = search_query(target_text, earlier)  # a follow-up is searched with its context
    passages = await _knowledge(
        session, scope, box, knowledge, query, state, follow_up(target_text, earlier)
    )
    prompt = build_prompt(
        prompt_settings,
        history,
        [KnowledgePassage(id=p.id, text=p.text, title=p.title) for p in passages],
        context,
        target_text,
    )
    links = [ChainLink(p.kind, p.model, p.link_config) for p in settings.chain]
    language = prompt_settings.language

    def offline_engine() -> OfflineEngine:  # built only if the chain reaches the offline link
        return OfflineEngine(
            passages,
            thresholds=DOCUMENT_THRESHOLDS,
            default_language=language,
            own_answer=(lambda text, lang: customer_bookings.answer(text, own, lang))
            if own
            else None,
            out_of_scope=settings.out_of_scope_examples,
        )

    chain = FallbackChain(
        links, breakers, offline_fallback=settings.offline_fallback, offline_engine=offline_engine
    )
    text = target_text.casefold()
    keyword = next((k for k in settings.escalation_keywords if k and k.casefold() in text), None)
    params = TriageParams(
        model=links[0].model if links else "offline",
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        deadline_seconds=provider_timeout_seconds,
    )
    confidence = None
    if settings.handoff_threshold > 0:
        confidence = knowledge_confidence(passages, target_text, language)
    return _Turn(prompt, params, chain, keyword, settings, confidence)


async def _knowledge(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    index: IndexBackend | None,
    text: str,
    state: knowledge_service.SearchState | None = None,
    semantic_query: str | None = None,
) -> list[Passage]:
    """The knowledge passages for the customer's message (ids are chunk ids, which the
    result's citations then name). A failing search leaves the turn without knowledge: the
    customer still gets an answer or an operator."""
    if index is None or not text.strip():
        return []
    try:
        query = text[: knowledge_service.MAX_QUERY_CHARS]
        hits = await knowledge_service.search(
            session, scope, box, index, query, KNOWLEDGE_PASSAGES, state, semantic_query
        )
    except Exception:
        log.warning("knowledge search failed; answering without it", exc_info=True)
        return []
    return [
        chunk_passage(h.chunk_id, h.title, h.heading_path, h.text, h.meta.get("answer"))
        for h in hits
    ]


def turn_guard(turn: _Turn) -> LeakGuard:
    """What this turn's reply must not reveal (see :mod:`frontline.ai.leakguard`)."""
    return leak_guard(
        turn.prompt.messages[0].content, turn.settings.system_prompt, turn.settings.answer_style
    )


@functools.lru_cache(maxsize=256)
def leak_guard(system_text: str, system_prompt: str, answer_style: str) -> LeakGuard:
    return LeakGuard.build(system_text, (system_prompt, answer_style))


async def _decide(
    turn: _Turn, live: LiveDraft | None = None
) -> tuple[TriageOutcome | None, TriageResult, list[Attempt]]:
    """Run the chain; never raises for provider or model trouble (it escalates). With
    ``live`` the first call streams (a repair call, if needed, does not). A reply that
    reveals the instructions becomes a handoff (:mod:`frontline.ai.leakguard`)."""
    attempts: list[Attempt] = []
    calls = 0
    if turn.keyword is not None:
        reason = f"escalation keyword: {turn.keyword}"
        return None, fallback_result(turn.prompt, reason), attempts
    allowed = turn.settings.reply_languages
    if allowed and turn.prompt.customer_language not in allowed:
        reason = behaviour.language_reason(turn.prompt.customer_language)
        return None, fallback_result(turn.prompt, reason), attempts

    async def complete(request: CompletionRequest) -> Completion:
        def for_link(link: ChainLink) -> CompletionRequest:
            if link.kind is ProviderKind.OFFLINE:
                # the offline engine reads the customer's words, not an LLM prompt
                said = (*turn.prompt.customer_history[-3:], turn.prompt.customer_message)
                customer = tuple(ChatMessage("user", text) for text in said)
                return replace(request, model=link.model, messages=customer)
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
        # a full answer's numbers and dates must be in the sources (else asked once more)
        outcome = await grounded_triage(complete, turn.prompt, turn.params)
    except AllProvidersFailed:
        return None, fallback_result(turn.prompt, ALL_FAILED_REASON), attempts
    leak = turn_guard(turn).check(outcome.result.draft_reply)
    if leak is not None:
        log.warning("ai reply withheld", extra={"reason": leak})
        result = fallback_result(turn.prompt, LEAK_REASON)
        outcome = replace(outcome, result=result, errors=(*outcome.errors, f"withheld: {leak}"))
    result = outcome.result
    if result.decision is Decision.FULL_ANSWER and below_threshold(
        turn.settings.handoff_threshold, turn.confidence
    ):
        # the tenant's threshold: an answer the knowledge does not support goes to a person
        reason = behaviour.low_confidence_reason(
            turn.confidence or 0.0, turn.settings.handoff_threshold
        )
        result = fallback_result(turn.prompt, reason)
    return outcome, result, attempts


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
    rows = [
        aisettings.call_row(
            provider=attempt.provider.value,
            model=attempt.model,
            prompt=prompt,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            conversation_id=conversation_id,
            message_id=message_id,
        )
        for attempt in attempts
        if attempt.error is not None
    ]
    if outcome is not None:
        for index, completion in enumerate(outcome.completions):
            last = index == len(outcome.completions) - 1
            rows.append(
                aisettings.call_row(
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
            )
    await aisettings.record_calls(session, scope, rows)


async def _act(
    session: AsyncSession,
    scope: TenantScope,
    turn: _Turn,
    result: TriageResult,
    conversation_id: int,
    live: LiveDraft | None = None,
    held_by: JobContext | None = None,
) -> Message | MessageOut | None:
    """Act on the decision if the AI still owns the conversation; the reply's delivery job
    is held by ``held_by``'s worker (it sends the reply right after the commit)."""
    meta: dict[str, Any] = {
        "decision": result.decision.value,
        "citations": list(result.citations),
        "language": result.language,
        "issue_summary": result.issue_summary,
    }
    if result.decision is Decision.ESCALATE_TO_HUMAN or not turn.settings.auto_reply:
        conversation = await conversations.get(session, scope, conversation_id, for_update=True)
        if conversation.status != ConversationStatus.BOT.value:
            return None  # an operator took over while the model was thinking: stay silent
        if result.decision is not Decision.ESCALATE_TO_HUMAN:
            return await messages.add_ai_suggestion(
                session, scope, conversation, result.draft_reply, meta
            )
        reason = result.handoff_reason or "escalated by the AI"
        await conversations.hand_off(session, scope, conversation, reason)
        text = result.draft_reply.strip() or handoff_reply(result.language)
        hours = turn.settings.working_hours
        back = behaviour.back_message(hours, utcnow(), result.language) if hours else None
        if back is not None:  # outside working hours: say when people are back
            meta["operators_back"] = back
            text = f"{text}\n\n{back}"
        return await messages.queue_outbound(
            session,
            scope,
            conversation,
            text,
            sender_type=SenderType.AI,
            meta=meta,
            held_by=held_by,
        )
    # the common case: no entity, no SELECT ... FOR UPDATE - the reply is stored only if
    # the AI still owns the conversation (one conditional statement)
    if live is not None and live.published:
        meta["stream_id"] = live.stream_id
    return await messages.queue_reply_if_bot(
        session, scope, conversation_id, result.draft_reply, meta=meta, held_by=held_by
    )


async def _watched(broker: Broker, scope: TenantScope, conversation_id: int) -> bool:
    try:
        return await broker.watched(events.conversation_topic(scope.tenant_id, conversation_id))
    except Exception:
        log.warning("realtime broker unreachable; the reply is not streamed", exc_info=True)
        return False


async def reply(
    ctx: JobContext,
    box: SecretBox,
    breakers: BreakerRegistry,
    broker: Broker,
    knowledge_index: IndexBackend | None = None,
    *,
    provider_timeout_seconds: float = PROVIDER_TIMEOUT_SECONDS,
) -> None:
    """The ``ai.reply`` job; each provider call is given up after
    ``provider_timeout_seconds``."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    conversation_id = int(ctx.payload["conversation_id"])
    message_id = int(ctx.payload["message_id"])
    async with ctx.db.reader() as session:
        turn = await _prepare(
            session,
            scope,
            box,
            breakers,
            conversation_id,
            message_id,
            knowledge_index,
            provider_timeout_seconds,
        )
    if turn is None:
        return
    if turn.settings.auto_booking:
        said = [*turn.prompt.customer_history[-6:], turn.prompt.customer_message]
        reading = await booking_flows.remote_proposal(
            ctx.db,
            scope,
            turn.chain,
            said,
            conversation_id=conversation_id,
            message_id=message_id,
            deadline_seconds=provider_timeout_seconds,
        )
        async with ctx.db.transaction() as session:
            await aisettings.record_calls(session, scope, reading.calls)
            if await booking_flows.ai_booking_turn(
                session,
                scope,
                conversation_id,
                held_by=ctx,
                proposal=reading.proposal,
                message_id=message_id,
            ):
                await ctx.complete_in(session)
                answered = [c["provider"] for c in reading.calls if c.get("error") is None]
                ai_turns.labels(answered[-1] if answered else "none", "booking").inc()
                return
    live = None
    if turn.settings.auto_reply and await _watched(broker, scope, conversation_id):
        live = LiveDraft(broker, scope, conversation_id, f"ai-{message_id}", turn_guard(turn))
        await live.typing(True)
    try:
        outcome, result, attempts = await _decide(turn, live)
        async with ctx.db.transaction() as session:
            await _log_calls(session, scope, outcome, attempts, result, conversation_id, message_id)
            sent = await _act(session, scope, turn, result, conversation_id, live, held_by=ctx)
            await ctx.complete_in(session)
    finally:
        if live is not None:
            await live.typing(False)
    if live is not None:
        await live.finish(sent is not None and "stream_id" in (sent.meta or {}))
    counted = turn_outcome(
        result, attempts, acted=sent is not None, auto_reply=turn.settings.auto_reply
    )
    ai_turns.labels(*counted).inc()
    if log.isEnabledFor(logging.INFO):
        log.info(
            "ai turn",
            extra={
                "conversation_id": conversation_id,
                "decision": result.decision.value,
                "acted": sent is not None,
                "providers": [a.provider.value for a in attempts],
            },
        )
