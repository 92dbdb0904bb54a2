"""HTTP: what would answer a customer now."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from frontline.ai import playground
from frontline.ai.chain import BreakerState, ChainLink, FallbackChain
from frontline.aisettings import service as aisettings
from frontline.auth.deps import Admin, Operator
from frontline.conversations.reasons import reason_code, reason_detail
from frontline.deps import ServicesDep, Session

router = APIRouter(tags=["ai"])


class LinkStatus(BaseModel):
    kind: str
    model: str
    state: BreakerState


class AiStatus(BaseModel):
    ai_enabled: bool
    auto_reply: bool
    offline_fallback: bool
    # the first link whose circuit lets a call through; null: a person gets every message
    answering: LinkStatus | None
    chain: list[LinkStatus]


@router.get("/ai/status", response_model=AiStatus)
async def ai_status(subject: Operator, session: Session, services: ServicesDep) -> AiStatus:
    """The tenant's chain in order with each provider's circuit state (``closed`` healthy,
    ``open`` skipped after failures until its cooldown, ``half_open`` on trial)."""
    settings = await aisettings.load_runtime_settings(session, subject.scope, services.secret_box)
    links = [ChainLink(p.kind, p.model, p.config) for p in settings.chain]
    chain = FallbackChain(links, services.breakers, offline_fallback=settings.offline_fallback)
    statuses = [
        LinkStatus(kind=link.kind.value, model=link.model, state=state)
        for link, state in chain.status()
    ]
    answering = next((s for s in statuses if s.state is not BreakerState.OPEN), None)
    return AiStatus(
        ai_enabled=settings.ai_enabled,
        auto_reply=settings.auto_reply,
        offline_fallback=settings.offline_fallback,
        answering=answering if settings.ai_enabled else None,
        chain=statuses,
    )


class TryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)


class TrySource(BaseModel):
    chunk_id: int
    document_id: int
    title: str
    text: str
    score: float
    cited: bool


class TryOut(BaseModel):
    decision: str
    reply: str
    language: str
    handoff_reason: str | None
    handoff_reason_code: str | None = Field(
        default=None, description="the handoff reason's code (human_requested, ...)"
    )
    handoff_reason_detail: str | None = Field(
        default=None, description="what the reason says beyond its code"
    )
    confidence: float = Field(ge=0, le=1, description="knowledge coverage, 0..1")
    threshold: float = Field(description="the handoff threshold (0: off)")
    below_threshold: bool = Field(description="the threshold hands this question off")
    sources: list[TrySource]
    attempts: list[dict[str, Any]]
    latency_ms: int


@router.post("/ai/test", response_model=TryOut)
async def try_the_ai(
    body: TryIn, subject: Admin, session: Session, services: ServicesDep
) -> TryOut:
    """Answer one question with the current settings, knowledge and chain, as a customer's
    message would be (nothing is sent or logged): the decision, the reply, the knowledge
    it was given (``cited``: the ones the answer names), the knowledge confidence (0..1)
    and whether the handoff threshold sends the question to a person."""
    outcome = await playground.try_question(
        session,
        subject.scope,
        services.secret_box,
        services.breakers,
        services.knowledge,
        body.question,
    )
    code = reason_code(outcome.handoff_reason)
    return TryOut.model_validate(
        {
            **asdict(outcome),
            "handoff_reason_code": code.value if code is not None else None,
            "handoff_reason_detail": reason_detail(outcome.handoff_reason),
        }
    )
