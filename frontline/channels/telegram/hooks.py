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
from frontline.tenants import service as tenants

CSAT_PREFIX = "csat"
ACCEPT_PREFIX = "accept"
# the workspace setting (in ``tenants.settings``) that holds the alert bot
SETTINGS_KEY = "telegram_alerts"


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


async def on_handoff(session: AsyncSession, scope: TenantScope, conversation: Conversation) -> None:
    """Enqueue the staff-chat alert of a handoff when the workspace set alerts up."""
    tenant = await tenants.get_tenant(session, scope)
    stored = (tenant.settings or {}).get(SETTINGS_KEY)
    if not stored or not stored.get("enabled", True):
        return  # not set up, or switched off in the console
    stamp = int(conversation.updated_at.timestamp() * 1000)
    await queue.insert(
        session,
        events.JOB_TELEGRAM_HANDOFF_ALERT,
        {"conversation_id": conversation.id},
        tenant_id=scope.tenant_id,
        idempotency_key=f"telegram.alert:{conversation.id}:{stamp}",
    )
