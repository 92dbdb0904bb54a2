"""Job kinds of the Telegram channel (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.channels.registry import AdapterOptions
from frontline.channels.telegram import alerts, csat, webhook
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox


def register(
    registry: JobRegistry, box: SecretBox, options: AdapterOptions, public_url: str
) -> None:
    async def send_csat(ctx: JobContext) -> None:
        await csat.send_request(ctx, box, options)

    async def send_alert(ctx: JobContext) -> None:
        await alerts.send_alert(ctx, box, public_url, options.outbound_timeout_seconds)

    async def delete_webhook(ctx: JobContext) -> None:
        await webhook.delete_webhook(ctx, box, options)

    registry.register(JobKind(events.JOB_TELEGRAM_CSAT, send_csat))
    registry.register(JobKind(events.JOB_TELEGRAM_DELETE_WEBHOOK, delete_webhook))
    registry.register(JobKind(events.JOB_TELEGRAM_HANDOFF_ALERT, send_alert))
