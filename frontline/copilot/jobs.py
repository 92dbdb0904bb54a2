"""Job kinds of the copilot (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.ai.chain import BreakerRegistry
from frontline.copilot import service
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox


def register(
    registry: JobRegistry,
    box: SecretBox,
    breakers: BreakerRegistry,
    provider_timeout_seconds: float,
) -> None:
    """``provider_timeout_seconds``: ``FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS``."""

    async def handoff_summary(ctx: JobContext) -> None:
        await service.handoff_summary(ctx, box, breakers, provider_timeout_seconds)

    registry.register(JobKind(events.JOB_COPILOT_HANDOFF_SUMMARY, handoff_summary))
