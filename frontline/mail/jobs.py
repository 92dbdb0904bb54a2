"""Job kinds of the mail poller (thin: load the channel, poll it)."""

from __future__ import annotations

import uuid

from frontline import events
from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.conversations.limits import InboundLimits
from frontline.errors import NotFound
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.retry import PermanentJobError
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.mail import service


def register(
    registry: JobRegistry, box: SecretBox, batch: int, limits: InboundLimits | None = None
) -> None:
    async def poll(ctx: JobContext) -> None:
        """Poll one mailbox now (``POST /channels/{id}/mailbox/poll``). A mailbox that
        fails is not retried here: the error is its health, and the loop polls again."""
        if ctx.tenant_id is None:
            raise PermanentJobError("mail poll job without a tenant")
        scope = TenantScope(ctx.tenant_id)
        try:
            async with ctx.db.reader() as session:
                runtime = await channels.runtime_for(
                    session, scope, box, uuid.UUID(str(ctx.payload["channel_id"]))
                )
        except NotFound:
            return  # the channel was deleted meanwhile
        if runtime.type != ChannelType.MAILBOX or not runtime.is_active:
            return
        await service.poll_channel(ctx.db, runtime, batch, limits)

    registry.register(JobKind(events.JOB_MAIL_POLL, poll))
