"""HTTP: a mailbox channel's health, and polling it now (admins)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.auth.deps import Admin
from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.deps import Session
from frontline.errors import NotFound
from frontline.jobs import queue
from frontline.kit.repository import TenantScope
from frontline.mail.schemas import MailboxStatus, PollQueued

router = APIRouter(tags=["channels"])


async def _mailbox(session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID) -> None:
    channel = await channels.get_channel(session, scope, channel_id)
    if channel.type != ChannelType.MAILBOX.value:
        raise NotFound("mailbox channel not found")


@router.get("/channels/{channel_id}/mailbox", response_model=MailboxStatus)
async def mailbox_status(channel_id: uuid.UUID, subject: Admin, session: Session) -> MailboxStatus:
    """Health of an IMAP mailbox: when it was last polled, the last error (a refused login,
    an unreachable server), what the last poll did, how much mail it took in all."""
    await _mailbox(session, subject.scope, channel_id)
    state = await channels.load_state(session, subject.scope, channel_id)
    healthy = None if "last_poll_at" not in state else not state.get("last_error")
    fields = {k: v for k, v in state.items() if k in MailboxStatus.model_fields}
    return MailboxStatus(**{**fields, "channel_id": channel_id, "healthy": healthy})


@router.post(
    "/channels/{channel_id}/mailbox/poll",
    response_model=PollQueued,
    status_code=status.HTTP_202_ACCEPTED,
)
async def poll_mailbox(channel_id: uuid.UUID, subject: Admin, session: Session) -> PollQueued:
    """Fetch the mailbox's new mail now, in the worker (which also polls every mailbox every
    ``FRONTLINE_MAIL_POLL_SECONDS``); the outcome shows in ``GET .../mailbox``."""
    await _mailbox(session, subject.scope, channel_id)
    job = queue.enqueue(
        session,
        events.JOB_MAIL_POLL,
        {"channel_id": str(channel_id)},
        tenant_id=subject.scope.tenant_id,
        max_attempts=1,
    )
    await session.flush()
    return PollQueued(channel_id=channel_id, job_id=job.id)
