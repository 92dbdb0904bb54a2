"""Where the conversation flow calls into the Telegram channel: a resolution (rating
request) and a handoff (operator alert). Each only enqueues a durable job in the caller's
transaction - nothing here waits on Telegram - and costs nothing for workspaces that do
not use Telegram. Imports no domain service (the conversations service imports this)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.jobs import queue
from frontline.kit.repository import TenantScope
from frontline.models import Conversation

CSAT_PREFIX = "csat"


async def on_resolved(
    session: AsyncSession, scope: TenantScope, conversation: Conversation
) -> None:
    """Enqueue the rating request when a Telegram conversation is resolved (it goes out
    only if the resolution commits)."""
    channel = await channels.get_channel(session, scope, conversation.channel_id)
    if channel.type != ChannelType.TELEGRAM.value or conversation.resolved_at is None:
        return
    stamp = int(conversation.resolved_at.timestamp())
    await queue.insert(
        session,
        events.JOB_TELEGRAM_CSAT,
        {"conversation_id": conversation.id},
        tenant_id=scope.tenant_id,
        idempotency_key=f"telegram.csat:{conversation.id}:{stamp}",
    )
