from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update

from frontline.kit.repository import TenantRepository
from frontline.models import Attachment


class AttachmentRepository(TenantRepository[Attachment]):
    model = Attachment

    async def create(self, values: dict[str, Any]) -> Attachment:
        row = self.add(Attachment(**values))
        await self.session.flush()
        return row

    async def for_messages(self, message_ids: Sequence[int]) -> list[Attachment]:
        if not message_ids:
            return []
        stmt = (
            self.select()
            .where(Attachment.message_id.in_(list(message_ids)))
            .order_by(Attachment.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def uploads(
        self, ids: Sequence[int], channel_id: uuid.UUID, uploader: str
    ) -> list[Attachment]:
        """Widget uploads of this visitor not yet sent with a message."""
        stmt = self.select().where(
            Attachment.id.in_(list(ids)),
            Attachment.channel_id == channel_id,
            Attachment.uploader == uploader,
            Attachment.message_id.is_(None),
        )
        return list((await self.session.execute(stmt)).scalars())

    async def claim_uploads(
        self,
        ids: Sequence[int],
        channel_id: uuid.UUID,
        uploader: str,
        conversation_id: int,
        message_id: int,
    ) -> list[int]:
        """Attach this visitor's unsent uploads to their message; the ids claimed."""
        stmt = (
            update(Attachment)
            .where(
                Attachment.tenant_id == self.scope.tenant_id,
                Attachment.id.in_(list(ids)),
                Attachment.channel_id == channel_id,
                Attachment.uploader == uploader,
                Attachment.message_id.is_(None),
            )
            .values(conversation_id=conversation_id, message_id=message_id)
            .returning(Attachment.id)
        )
        return [int(i) for i in (await self.session.execute(stmt)).scalars()]

    async def locked(self, attachment_id: int) -> Attachment | None:
        stmt = self.select().where(Attachment.id == attachment_id).with_for_update()
        return await self.one_or_none(stmt)

    async def for_ids(self, ids: Sequence[int]) -> list[Attachment]:
        stmt = self.select().where(Attachment.id.in_(list(ids))).order_by(Attachment.id)
        return list((await self.session.execute(stmt)).scalars())
