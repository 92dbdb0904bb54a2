"""SQL for channels."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository
from frontline.models import Channel, ChannelState


class ChannelRepository(TenantRepository[Channel]):
    model = Channel

    async def list(self) -> list[Channel]:
        result = await self.session.execute(self.select().order_by(Channel.created_at))
        return list(result.scalars())


class ChannelStateRepository(TenantRepository[ChannelState]):
    model = ChannelState

    async def get_for(
        self, channel_id: uuid.UUID, *, for_update: bool = False
    ) -> ChannelState | None:
        stmt = self.select().where(ChannelState.channel_id == channel_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.one_or_none(stmt)

    def new(self, channel_id: uuid.UUID, state: dict[str, Any]) -> ChannelState:
        return self.add(ChannelState(channel_id=channel_id, state=state))


async def channel_for_webhook(session: AsyncSession, channel_id: uuid.UUID) -> Channel | None:
    """Look a channel up by the id in a webhook URL, before any tenant is known.

    The only unscoped channel query: the request is then authenticated with that channel's
    own secret, and everything after runs in the channel's tenant scope.
    """
    result = await session.execute(select(Channel).where(Channel.id == channel_id))
    return result.scalar_one_or_none()


async def channels_of_type(session: AsyncSession, channel_type: str) -> list[Channel]:
    """Every tenant's active channels of one type, for pollers that serve them all (IMAP
    mailboxes); each channel is then handled in its own tenant's scope."""
    result = await session.execute(
        select(Channel)
        .where(Channel.type == channel_type, Channel.is_active.is_(True))
        .order_by(Channel.created_at)
    )
    return list(result.scalars())
