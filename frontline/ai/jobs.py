"""Job kinds of the AI first line (thin: the workflow is in ``frontline.ai.flows``)."""

from __future__ import annotations

from frontline import events
from frontline.ai import flows, turn_metrics
from frontline.ai.chain import BreakerRegistry
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox
from frontline.knowledge.index import IndexBackend
from frontline.realtime.broker import Broker


def register(
    registry: JobRegistry,
    box: SecretBox,
    breakers: BreakerRegistry,
    broker: Broker,
    knowledge: IndexBackend | None = None,
    provider_timeout_seconds: float = flows.PROVIDER_TIMEOUT_SECONDS,
) -> None:
    async def reply(ctx: JobContext) -> None:
        await flows.reply(
            ctx, box, breakers, broker, knowledge, provider_timeout_seconds=provider_timeout_seconds
        )

    registry.register(JobKind(events.JOB_AI_REPLY, reply, on_dead=turn_metrics.turn_died))
