"""SQL for channels."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository
from frontline.models import Channel


class ChannelRepository(TenantRepository[Channel]):
    model = Channel

    async def list(self) -> list[Channel]:
        result = await self.session.execute(self.select().order_by(Channel.created_at))
        return list(result.scalars())


async def channel_for_webhook(session: AsyncSession, channel_id: uuid.UUID) -> Channel | None:
    """Look a channel up by the id in a webhook URL, before any tenant is known.

    The only unscoped channel query: the request is then authenticated with that channel's
    own secret, and everything after runs in the channel's tenant scope.
    """
    result = await session.execute(select(Channel).where(Channel.id == channel_id))
    return result.scalar_one_or_none()
