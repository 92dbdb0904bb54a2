"""Job kinds of the Telegram channel (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.channels.registry import AdapterOptions
from frontline.channels.telegram import csat
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox


def register(registry: JobRegistry, box: SecretBox, options: AdapterOptions) -> None:
    async def send_csat(ctx: JobContext) -> None:
        await csat.send_request(ctx, box, options)

    registry.register(JobKind(events.JOB_TELEGRAM_CSAT, send_csat))
