"""Job kinds of the messages domain (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.channels.registry import AdapterOptions
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox
from frontline.messages import delivery


def register(registry: JobRegistry, box: SecretBox, options: AdapterOptions) -> None:
    async def deliver(ctx: JobContext) -> None:
        await delivery.deliver(ctx, box, options)

    registry.register(
        JobKind(
            events.JOB_DELIVER_MESSAGE,
            deliver,
            on_dead=delivery.mark_failed,
            on_requeue=delivery.mark_requeued,
        )
    )
