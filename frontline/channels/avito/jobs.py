"""Job kind of the Avito channel: subscribe the channel's webhook URL at Avito."""

from __future__ import annotations

import uuid

from frontline import events
from frontline.channels import service
from frontline.channels.avito.adapter import AvitoChannelAdapter, AvitoChannelConfig
from frontline.channels.base import ChannelError, RateLimited
from frontline.channels.registry import AdapterOptions
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.retry import PermanentJobError, RetryAfter
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope


def webhook_url(public_url: str, channel_id: uuid.UUID, secret: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/webhooks/avito/{channel_id}?token={secret}"


def register(
    registry: JobRegistry, box: SecretBox, options: AdapterOptions, public_url: str
) -> None:
    async def subscribe(ctx: JobContext) -> None:
        if ctx.tenant_id is None:
            raise PermanentJobError("subscription job without a tenant")
        channel_id = uuid.UUID(str(ctx.payload["channel_id"]))
        async with ctx.db.reader() as session:
            runtime = await service.runtime_for(
                session, TenantScope(ctx.tenant_id), box, channel_id
            )
        config = AvitoChannelConfig.model_validate(runtime.config)
        adapter = AvitoChannelAdapter(config, runtime.secret, options.outbound_timeout_seconds)
        try:
            await adapter.subscribe(webhook_url(public_url, channel_id, runtime.secret))
        except RateLimited as exc:
            raise RetryAfter(str(exc), exc.retry_after or 0.0) from exc
        except ChannelError as exc:
            if exc.transient:
                raise
            raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc

    registry.register(JobKind(events.JOB_AVITO_SUBSCRIBE, subscribe))
