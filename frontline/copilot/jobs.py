"""Job kinds of the copilot (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.ai.chain import BreakerRegistry
from frontline.copilot import service
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox


def register(registry: JobRegistry, box: SecretBox, breakers: BreakerRegistry) -> None:
    async def handoff_summary(ctx: JobContext) -> None:
        await service.handoff_summary(ctx, box, breakers)

    registry.register(JobKind(events.JOB_COPILOT_HANDOFF_SUMMARY, handoff_summary))
