"""The settings page's "test the AI" box: one question answered with the tenant's current
settings, knowledge and provider chain - the same prompt, retrieval and chain as a real
turn - without a conversation, without sending anything and without the AI log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.chain import BreakerRegistry, ChainLink, FallbackChain
from frontline.ai.confidence import below_threshold, knowledge_confidence
from frontline.ai.flows import KNOWLEDGE_PASSAGES, _decide, _Turn
from frontline.ai.offline import DOCUMENT_THRESHOLDS, OfflineEngine
from frontline.ai.offline.retrieval import chunk_passage
from frontline.ai.prompts import KnowledgePassage, PromptSettings, build_prompt
from frontline.ai.triage import Language, TriageParams
from frontline.aisettings import service as aisettings
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.knowledge import service as knowledge_service
from frontline.knowledge.index import IndexBackend
from frontline.tenants import service as tenants


@dataclass(frozen=True)
class Source:
    chunk_id: int
    document_id: int
    title: str
    text: str
    score: float
    cited: bool


@dataclass(frozen=True)
class TryOutcome:
    decision: str
    reply: str
    language: str
    handoff_reason: str | None
    # how well the knowledge found covers the question, 0..1 (``confidence.knowledge_confidence``:
    # the number the tenant's handoff threshold is compared with); each source's ``score``
    # stays the raw retrieval rank score
    confidence: float
    threshold: float  # the tenant's handoff threshold (0: off)
    below_threshold: bool  # the threshold sent (or would send) the question to a person
    sources: list[Source]
    attempts: list[dict[str, Any]]
    latency_ms: int


async def try_question(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    breakers: BreakerRegistry,
    index: IndexBackend | None,
    question: str,
) -> TryOutcome:
    started = time.monotonic()
    settings = await aisettings.load_runtime_settings(session, scope, box)
    tenant = await tenants.get_tenant(session, scope)
    hits = []
    if index is not None:
        hits = await knowledge_service.search(
            session,
            scope,
            box,
            index,
            question[: knowledge_service.MAX_QUERY_CHARS],
            KNOWLEDGE_PASSAGES,
        )
    passages = [
        chunk_passage(h.chunk_id, h.title, h.heading_path, h.text, h.meta.get("answer"))
        for h in hits
    ]
    language: Language = "en" if tenant.locale == "en" else "ru"
    prompt = build_prompt(
        PromptSettings(
            system_prompt=settings.system_prompt or None,
            answer_style=settings.answer_style or None,
            business_name=tenant.name,
            history_limit=settings.history_size,
            language=language,
        ),
        [],
        [KnowledgePassage(id=p.id, text=p.text, title=p.title) for p in passages],
        [],
        question,
    )
    links = [ChainLink(p.kind, p.model, p.link_config) for p in settings.chain]

    def offline_engine() -> OfflineEngine:
        return OfflineEngine(
            passages,
            thresholds=DOCUMENT_THRESHOLDS,
            default_language=language,
            out_of_scope=settings.out_of_scope_examples,
        )

    chain = FallbackChain(
        links, breakers, offline_fallback=settings.offline_fallback, offline_engine=offline_engine
    )
    lowered = question.casefold()
    keyword = next((k for k in settings.escalation_keywords if k and k.casefold() in lowered), None)
    params = TriageParams(
        model=links[0].model if links else "offline",
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )
    # the test box applies the default channel's rules: the tenant's switch, no channel
    confidence = knowledge_confidence(passages, question, language)
    turn = _Turn(prompt, params, chain, keyword, settings, confidence)
    _, result, attempts = await _decide(turn)
    cited = set(result.citations)
    sources = [
        Source(
            chunk_id=h.chunk_id,
            document_id=h.document_id,
            title=h.title,
            text=h.text[:500],
            score=round(h.score, 4),
            cited=str(p.id) in cited,
        )
        for h, p in zip(hits, passages, strict=True)
    ]
    return TryOutcome(
        decision=str(
            result.decision.value if hasattr(result.decision, "value") else result.decision
        ),
        reply=result.draft_reply,
        language=result.language,
        handoff_reason=result.handoff_reason,
        confidence=confidence,
        threshold=settings.handoff_threshold,
        below_threshold=below_threshold(settings.handoff_threshold, confidence),
        sources=sources,
        attempts=[
            {"provider": a.provider.value, "model": a.model, "error": a.error} for a in attempts
        ],
        latency_ms=int((time.monotonic() - started) * 1000),
    )
