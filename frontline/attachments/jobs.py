"""Job kinds of the attachments domain (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.attachments import service
from frontline.attachments.service import AttachmentRuntime
from frontline.channels.registry import AdapterOptions
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox


def register(
    registry: JobRegistry, box: SecretBox, options: AdapterOptions, runtime: AttachmentRuntime
) -> None:
    async def fetch(ctx: JobContext) -> None:
        await service.fetch(ctx, box, options, runtime)

    registry.register(
        JobKind(events.JOB_FETCH_ATTACHMENT, fetch, on_dead=service.mark_fetch_failed)
    )
