"""A deactivated Telegram channel's webhook removed at Telegram (``deleteWebhook``), so
Telegram stops posting updates that Frontline would now refuse (404) and retry-storm
against. Run as a durable job enqueued with the deactivation: the admin's change never
waits on Telegram, and a failure (retried with backoff, then logged) blocks nothing."""

from __future__ import annotations

import logging
import uuid

from frontline.channels import service as channels
from frontline.channels.base import ChannelError, ChannelType
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.channels.telegram.adapter import TelegramChannelAdapter
from frontline.channels.telegram.retry import job_retry_policy
from frontline.errors import NotFound
from frontline.jobs.registry import JobContext
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope

log = logging.getLogger(__name__)


async def delete_webhook(ctx: JobContext, box: SecretBox, options: AdapterOptions) -> None:
    """``deleteWebhook`` for the channel of the job, unless it was switched on again."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    channel_id = uuid.UUID(str(ctx.payload["channel_id"]))
    async with ctx.db.reader() as session:
        try:
            runtime = await channels.runtime_for(session, scope, box, channel_id)
        except NotFound:
            return
    if runtime.type != ChannelType.TELEGRAM or runtime.is_active:
        return  # active again: its webhook is set again by that change
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, options)
    assert isinstance(adapter, TelegramChannelAdapter)
    try:
        with job_retry_policy():
            await adapter.unregister_webhook()
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, ChannelError) else exc
        log.warning(
            "Telegram deleteWebhook failed",
            extra={"channel_id": str(channel_id), "attempt": ctx.attempt, "error": str(cause)},
        )
        raise
