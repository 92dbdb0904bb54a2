"""The copilot: each action reads the conversation, asks the tenant's provider chain (the
offline engine is the last resort where it can help), logs every call in the AI log with
its purpose, and returns text for the operator. It never writes a message: what reaches the
customer is what the operator sends.

No transaction is held while a model thinks: the context is read first, the chain runs, and
the log rows are written by the caller's session (plain request) or a fresh transaction
(streaming, after the last chunk)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    ProviderError,
    ProviderKind,
    Usage,
)
from frontline.ai.chain import (
    AllProvidersFailed,
    Attempt,
    BreakerRegistry,
    ChainLink,
    FallbackChain,
)
from frontline.ai.offline.retrieval import follow_up, search_query
from frontline.ai.offline.text import detect_language
from frontline.ai.providers.offline import OFFLINE_MODEL, estimate_tokens
from frontline.ai.triage import Language, extract_json
from frontline.aisettings import service as aisettings
from frontline.conversations import service as conversations
from frontline.copilot import offline
from frontline.copilot.prompts import (
    SUMMARY_SCHEMA,
    RewriteMode,
    Source,
    Turn,
    clean_reply,
    rewrite_messages,
    suggest_messages,
    summary_messages,
    translate_messages,
)
from frontline.copilot.schemas import DraftOut, PassageOut, SuggestOut, SummaryOut
from frontline.errors import AppError, Conflict, NotFound
from frontline.jobs.registry import JobContext
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.knowledge import service as knowledge_service
from frontline.knowledge.index import IndexBackend
from frontline.messages import service as messages
from frontline.models import SenderType

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(K\d+)\]")
_MARKER_SPAN = re.compile(r"\s?\[K\d+\](?:\s?\[K\d+\])*")
# messages of the conversation the copilot reads (newest; a 40-message thread fits)
HISTORY = 40
KNOWLEDGE_PASSAGES = 4
EXCERPT_CHARS = 300

NOTICE_DOWN = {
    "ru": "Все AI-провайдеры недоступны: ответ подготовлен офлайн-движком по базе знаний.",
    "en": "Every AI provider is down: the offline engine answered from the knowledge base.",
}


class ConversationEmpty(Conflict):
    code = "conversation_empty"


class ConversationHeld(Conflict):
    """Moderation held every message the copilot could read: none is sent to a model."""

    code = "conversation_held"


class CopilotUnavailable(AppError):
    """Rewriting and translating need a language model and none answered."""

    status_code = 503
    code = "ai_unavailable"

    def __init__(self, message: str, rows: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.rows = rows  # the failed attempts, logged even though the action failed


class CopilotNotConfigured(CopilotUnavailable):
    """Rewriting and translating need a language model and the workspace has none: a
    setting the owner can change (409), not an outage."""

    status_code = 409
    code = "ai_not_configured"


@dataclass
class Context:
    """What every copilot action reads first."""

    scope: TenantScope
    conversation_id: int
    turns: list[Turn]
    language: Language
    business: str
    handoff_reason: str | None
    chain: FallbackChain
    remote: bool  # a remote provider is configured (else the offline engine is the AI)
    temperature: float
    max_tokens: int
    state: knowledge_service.SearchState
    # seconds one provider call may take (``FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS``, the
    # customer turn's setting: the copilot has no deadline of its own)
    deadline_seconds: float
    sources: list[Source] = field(default_factory=list)


async def load(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    breakers: BreakerRegistry,
    conversation_id: int,
    *,
    deadline_seconds: float,
    drafting: bool = False,
) -> Context:
    """The conversation (404 when it is not the tenant's), its recent messages (409 when
    there are none to work with) and the tenant's chain without the offline link (the
    copilot uses the offline engine itself, where it can).

    Messages moderation held (``hold``: abuse, spam, perhaps an injection attempt) are left
    out of the turns, so no action sends them to a model (nor quotes them in an offline
    summary): the copilot works from what moderation let through. When it held every
    message there is nothing to work from (409 ``conversation_held``), except for
    ``drafting`` (a rewrite or translation of the operator's own draft, which is all the
    model gets)."""
    found = await conversations.turn_context(session, scope, conversation_id)
    conversation = await conversations.get(session, scope, conversation_id)
    rows = [
        (sender, text, held)
        for _id, sender, text, held in reversed(
            await messages.recent_screened(session, scope, conversation_id, HISTORY)
        )
        if sender != SenderType.SYSTEM.value and text.strip()
    ]
    turns = [Turn(sender, text) for sender, text, held in rows if not held]
    if not rows:
        raise ConversationEmpty("the conversation has no messages yet: nothing to work from")
    if not turns and not drafting:
        raise ConversationHeld(
            "every message of the conversation is held by moderation and none is sent to a "
            "language model: answer the customer yourself"
        )
    settings = aisettings.runtime_settings(found.settings, box)
    default: Language = "en" if found.tenant_locale == "en" else "ru"
    # the language is told here, without a model: held messages count too
    said = [text for sender, text, _held in rows if sender == SenderType.CONTACT.value]
    language = detect_language(" ".join(said[-3:]), default) if said else default
    links = [
        ChainLink(p.kind, p.model, p.link_config)
        for p in settings.chain
        if p.kind is not ProviderKind.OFFLINE
    ]
    return Context(
        scope=scope,
        conversation_id=conversation_id,
        turns=turns,
        language=language,
        business=found.tenant_name,
        handoff_reason=conversation.handoff_reason,
        chain=FallbackChain(links, breakers, offline_fallback=False),
        remote=bool(links),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        state=knowledge_service.SearchState(
            found.knowledge_version, found.knowledge_embedding, found.knowledge_embedding_secret
        ),
        deadline_seconds=deadline_seconds,
    )


async def find_sources(
    session: AsyncSession, box: SecretBox, index: IndexBackend | None, ctx: Context
) -> None:
    """The knowledge passages for the customer's latest words (a failing search leaves the
    suggestion without them, as in the customer turn)."""
    said = [t.text for t in ctx.turns if t.sender_type == SenderType.CONTACT.value]
    if index is None or not said:
        return
    query = search_query(said[-1], said[:-1])[: knowledge_service.MAX_QUERY_CHARS]
    try:
        hits = await knowledge_service.search(
            session,
            ctx.scope,
            box,
            index,
            query,
            KNOWLEDGE_PASSAGES,
            ctx.state,
            follow_up(said[-1], said[:-1]),
        )
    except Exception:
        log.warning("knowledge search failed; suggesting without it", exc_info=True)
        return
    ctx.sources = [
        Source(f"K{n}", h.chunk_id, h.document_id, h.title, h.text)
        for n, h in enumerate(hits, start=1)
    ]


# --- running the chain ---------------------------------------------------------------------


@dataclass
class Outcome:
    """One action's result: the completion (``None`` when no remote link answered) and the
    attempts, for the log."""

    completion: Completion | None
    attempts: list[Attempt]
    messages: tuple[ChatMessage, ...]


def _request(
    ctx: Context,
    chat: tuple[ChatMessage, ...],
    schema: dict[str, Any] | None = None,
    schema_name: str = "copilot_summary",
) -> CompletionRequest:
    return CompletionRequest(
        messages=chat,
        model="",
        temperature=ctx.temperature,
        max_tokens=ctx.max_tokens,
        json_schema=schema,
        json_schema_name=schema_name,
        deadline_seconds=ctx.deadline_seconds,
    )


async def complete(
    ctx: Context,
    chat: tuple[ChatMessage, ...],
    schema: dict[str, Any] | None = None,
    schema_name: str = "copilot_summary",
) -> Outcome:
    """The remote chain's answer (no completion when none is configured or none answered)."""
    if not ctx.remote:
        return Outcome(None, [], chat)
    try:
        result = await ctx.chain.complete(_request(ctx, chat, schema, schema_name))
    except AllProvidersFailed as failed:
        return Outcome(None, list(failed.attempts), chat)
    return Outcome(result.completion, list(result.attempts), chat)


def log_rows(
    ctx: Context, purpose: str, outcome: Outcome, offline_answer: str | None = None
) -> list[dict[str, Any]]:
    """The AI log rows of one action: each failed attempt, then the answer."""
    prompt = [{"role": m.role, "content": m.content} for m in outcome.messages]
    cid, label = ctx.conversation_id, f"copilot.{purpose}"
    rows = [
        aisettings.call_row(
            provider=a.provider.value,
            model=a.model,
            prompt=prompt,
            latency_ms=a.latency_ms,
            error=a.error,
            conversation_id=cid,
            purpose=label,
        )
        for a in outcome.attempts
        if a.error is not None
    ]
    c = outcome.completion
    if c is not None:
        rows.append(
            aisettings.call_row(
                provider=c.provider.value,
                model=c.model,
                prompt=prompt,
                answer=c.text,
                tokens_in=c.usage.input_tokens,
                tokens_out=c.usage.output_tokens,
                latency_ms=c.latency_ms,
                cost=c.cost,
                conversation_id=cid,
                purpose=label,
            )
        )
    elif offline_answer is not None:
        rows.append(
            aisettings.call_row(
                provider=ProviderKind.OFFLINE.value,
                model=OFFLINE_MODEL,
                prompt=prompt,
                answer=offline_answer,
                tokens_in=sum(estimate_tokens(m.content) for m in outcome.messages),
                tokens_out=estimate_tokens(offline_answer),
                cost=0.0,
                conversation_id=cid,
                purpose=label,
            )
        )
    return rows


def produced(ctx: Context, outcome: Outcome) -> dict[str, Any]:
    c = outcome.completion
    if c is not None:
        return {"provider": c.provider.value, "model": c.model}
    down = ctx.remote
    return {
        "provider": ProviderKind.OFFLINE.value,
        "model": OFFLINE_MODEL,
        "degraded": down,
        "notice": NOTICE_DOWN[ctx.language] if down else None,
    }


def passages_out(ctx: Context, text: str, cited: Sequence[str] = ()) -> list[PassageOut]:
    out = []
    for s in ctx.sources:
        excerpt = " ".join(s.text.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1].rstrip() + "…"
        out.append(
            PassageOut(
                label=s.label,
                chunk_id=s.chunk_id,
                document_id=s.document_id,
                title=s.title,
                excerpt=excerpt,
                url=f"/api/v1/knowledge/documents/{s.document_id}",
                cited=s.label in cited or f"[{s.label}]" in text,
            )
        )
    return out


# --- the actions ---------------------------------------------------------------------------

Rows = list[dict[str, Any]]


def suggest_chat(ctx: Context) -> tuple[ChatMessage, ...]:
    return suggest_messages(ctx.turns, ctx.sources, ctx.language, ctx.business)


def suggest_result(ctx: Context, outcome: Outcome) -> tuple[SuggestOut, Rows]:
    """The suggestion from a remote answer, else from the offline engine."""
    if outcome.completion is not None:
        raw = clean_reply(outcome.completion.text)
        rows = log_rows(ctx, "suggest", outcome)
        # the markers say which passages were used; the customer never sees them
        cited: Sequence[str] = tuple(dict.fromkeys(_MARKER.findall(raw)))
        text = _MARKER_SPAN.sub("", raw).strip()
    else:
        found = offline.suggest(ctx.turns, ctx.sources, ctx.language)
        text, cited = found.text, found.cited
        rows = log_rows(ctx, "suggest", outcome, offline_answer=text)
    out = SuggestOut(
        text=text,
        language=ctx.language,
        passages=passages_out(ctx, text, cited),
        **produced(ctx, outcome),
    )
    return out, rows


async def suggest(ctx: Context) -> tuple[SuggestOut, Rows]:
    return suggest_result(ctx, await complete(ctx, suggest_chat(ctx)))


def _unavailable(ctx: Context, action: str, rows: Rows) -> CopilotUnavailable:
    if ctx.remote:
        message = (
            f"every AI provider is down, so the draft cannot be {action} now; try again "
            "later (suggestions and summaries still work offline)"
        )
        return CopilotUnavailable(message, rows)
    message = (
        f"a draft can be {action} only by a language model: add a provider to the AI "
        "settings (the offline engine suggests and summarizes, but does not write)"
    )
    return CopilotNotConfigured(message, rows)


@dataclass(frozen=True, slots=True)
class DraftJob:
    """A rewrite or a translation: what to ask and how to label it."""

    purpose: str
    chat: tuple[ChatMessage, ...]
    original: str
    language: Language | None  # None: the result's own language
    action: str  # "rewritten" / "translated", for the error message


def rewrite_job(ctx: Context, text: str, mode: RewriteMode) -> DraftJob:
    return DraftJob(f"rewrite.{mode}", rewrite_messages(text, mode), text, None, "rewritten")


def translate_job(ctx: Context, text: str, target: Language | None) -> DraftJob:
    language = target or ctx.language
    chat = translate_messages(text, language)
    return DraftJob(f"translate.{language}", chat, text, language, "translated")


def draft_result(ctx: Context, job: DraftJob, outcome: Outcome) -> tuple[DraftOut, Rows]:
    rows = log_rows(ctx, job.purpose, outcome)
    if outcome.completion is None:
        raise _unavailable(ctx, job.action, rows)
    new = clean_reply(outcome.completion.text)
    language = job.language or detect_language(new, ctx.language)
    out = DraftOut(text=new, original=job.original, language=language, **produced(ctx, outcome))
    return out, rows


async def draft(ctx: Context, job: DraftJob) -> tuple[DraftOut, Rows]:
    return draft_result(ctx, job, await complete(ctx, job.chat))


def _parse_summary(text: str) -> tuple[str, list[str]] | None:
    try:
        data = extract_json(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("summary"), str):
        return None
    needs = data.get("needs")
    items = [str(n).strip() for n in needs if str(n).strip()] if isinstance(needs, list) else []
    return data["summary"].strip(), items[:10]


async def summarize(ctx: Context) -> tuple[SummaryOut, Rows]:
    """The model's summary; the extractive one when no model answers (or its answer is
    not the JSON asked for)."""
    outcome = await complete(ctx, summary_messages(ctx.turns, ctx.language), SUMMARY_SCHEMA)
    parsed = _parse_summary(outcome.completion.text) if outcome.completion else None
    rows: Rows = []
    if outcome.completion is not None and parsed is None:
        rows = log_rows(ctx, "summary", outcome)
        rows[-1]["error"] = "invalid model output: not the summary JSON"
        outcome = Outcome(None, [], outcome.messages)
    if parsed is None:
        summary, needs = offline.summarize(ctx.turns, ctx.language, ctx.handoff_reason)
        rows += log_rows(ctx, "summary", outcome, offline_answer=summary)
    else:
        summary, needs = parsed
        rows = log_rows(ctx, "summary", outcome)
    out = SummaryOut(
        summary=summary,
        needs=needs,
        language=ctx.language,
        handoff_reason=ctx.handoff_reason,
        **produced(ctx, outcome),
    )
    return out, rows


# --- streaming -----------------------------------------------------------------------------


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def stream_outcome(
    ctx: Context, chat: tuple[ChatMessage, ...], deltas: list[str]
) -> AsyncIterator[bytes | Outcome]:
    """The chain's streamed answer: ``delta`` events as the provider writes (also appended
    to ``deltas``), a ``reset`` event when a provider failed mid-answer (what was shown is
    void), and finally the :class:`Outcome` (its completion ``None`` when no remote link
    answered in full)."""
    if not ctx.remote:
        yield Outcome(None, [], chat)
        return
    started = time.perf_counter()
    stream = ctx.chain.stream(_request(ctx, chat))
    usage: Usage | None = None
    try:
        async for chunk in stream:
            if chunk.delta:
                deltas.append(chunk.delta)
                yield sse("delta", {"text": chunk.delta})
            usage = chunk.usage or usage
    except AllProvidersFailed as failed:
        yield Outcome(None, list(failed.attempts), chat)
        return
    except ProviderError:
        yield sse("reset", {})
        yield Outcome(None, list(stream.attempts), chat)
        return
    link = stream.link
    if link is None:  # an empty answer
        yield Outcome(None, list(stream.attempts), chat)
        return
    usage = usage or Usage()
    completion = Completion(
        text="".join(deltas),
        model=link.model,
        provider=link.kind,
        usage=usage,
        latency_ms=(time.perf_counter() - started) * 1000.0,
        cost=ctx.chain.prices.cost(link.model, usage),
    )
    yield Outcome(completion, list(stream.attempts), chat)


# --- the summary made when a conversation is handed off -------------------------------------


async def handoff_summary(
    ctx: JobContext, box: SecretBox, breakers: BreakerRegistry, deadline_seconds: float
) -> None:
    """The handoff job: summarize the conversation as it was handed off (the chain, else the
    extractive summary), then store the summary with the conversation and log the calls, in
    one transaction with the job's completion. Nothing is stored when the conversation has
    moved on meanwhile (handed back, resolved, handed off again) or has no messages."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    conversation_id = int(ctx.payload["conversation_id"])
    try:
        async with ctx.db.reader() as session:
            context = await load(
                session, scope, box, breakers, conversation_id, deadline_seconds=deadline_seconds
            )
    except (NotFound, ConversationEmpty):
        return  # deleted meanwhile, or nothing to summarize
    out, rows = await summarize(context)
    stored = out.model_dump(mode="json", include={"summary", "needs", "language"})
    stored.update(provider=out.provider, model=out.model, degraded=out.degraded)
    async with ctx.db.transaction() as session:
        await conversations.store_handoff_summary(
            session, scope, conversation_id, str(ctx.payload["handoff_at"]), stored
        )
        await aisettings.record_calls(session, scope, rows)
        await ctx.complete_in(session)
