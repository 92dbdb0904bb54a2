"""HTTP: what would answer a customer now."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from frontline.ai.chain import BreakerState, ChainLink, FallbackChain
from frontline.aisettings import service as aisettings
from frontline.auth.deps import Operator
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
