"""What an AI turn counts in ``frontline_ai_turns_total`` (:mod:`frontline.kit.metrics`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.ai.chain import Attempt
from frontline.ai.triage import Decision, TriageResult
from frontline.jobs.registry import JobContext
from frontline.kit.metrics import ai_turns

# the handoff reason of a turn whose every provider failed
ALL_FAILED_REASON = "all AI providers failed"


def turn_outcome(
    result: TriageResult, attempts: list[Attempt], *, acted: bool, auto_reply: bool
) -> tuple[str, str]:
    """``(provider, outcome)`` of a turn for the ``frontline_ai_turns_total`` metric: the
    provider that answered (``none`` when none did) and ``failed`` (every provider failed),
    ``handed_off``, ``superseded`` (an operator took over meanwhile), ``suggested`` (a draft
    for an operator), ``fell_back`` (answered after an earlier provider failed) or
    ``answered``."""
    answered = [a for a in attempts if a.error is None]
    provider = answered[-1].provider.value if answered else "none"
    if result.handoff_reason == ALL_FAILED_REASON:
        return provider, "failed"
    if result.decision is Decision.ESCALATE_TO_HUMAN:
        return provider, "handed_off"
    if not acted:
        return provider, "superseded"
    if not auto_reply:
        return provider, "suggested"
    if answered and any(a.error is not None for a in attempts[: attempts.index(answered[0])]):
        return provider, "fell_back"
    return provider, "answered"


async def turn_died(session: AsyncSession, ctx: JobContext, error: str) -> None:
    """``on_dead`` of the AI job: counted as a failed turn (the error is on the job)."""
    ai_turns.labels("none", "failed").inc()
