from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select

from frontline.kit.repository import TenantRepository
from frontline.models import Conversation, Message


@dataclass(frozen=True)
class ConversationFilter:
    status: list[str] | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    priority: list[str] | None = None
    category_id: uuid.UUID | None = None
    channel_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    q: str | None = None


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    async def latest_for_contact(self, contact_id: uuid.UUID, channel_id: uuid.UUID) -> Conversation | None:
        stmt = (
            self.select()
            .where(Conversation.contact_id == contact_id, Conversation.channel_id == channel_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_for_update(self, conversation_id: int) -> Conversation | None:
        stmt = self.select().where(Conversation.id == conversation_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def search(
        self,
        flt: ConversationFilter,
        *,
        limit: int,
        after: tuple[datetime, int] | None = None,
    ) -> list[Conversation]:
        """Newest activity first; keyset pagination on ``(last_activity_at, id)``."""
        stmt = self.select()
        if flt.status:
            stmt = stmt.where(Conversation.status.in_(flt.status))
        if flt.assignee_id is not None:
            stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
        if flt.unassigned:
            stmt = stmt.where(Conversation.assignee_id.is_(None))
        if flt.priority:
            stmt = stmt.where(Conversation.priority.in_(flt.priority))
        if flt.category_id is not None:
            stmt = stmt.where(Conversation.category_id == flt.category_id)
        if flt.channel_id is not None:
            stmt = stmt.where(Conversation.channel_id == flt.channel_id)
        if flt.contact_id is not None:
            stmt = stmt.where(Conversation.contact_id == flt.contact_id)
        if flt.q:
            pattern = _like_pattern(flt.q)
            in_messages = exists(
                select(Message.id).where(
                    Message.conversation_id == Conversation.id,
                    Message.tenant_id == self.scope.tenant_id,
                    Message.text.ilike(pattern, escape="\\"),
                )
            )
            stmt = stmt.where(or_(Conversation.subject.ilike(pattern, escape="\\"), in_messages))
        if after is not None:
            ts, last_id = after
            stmt = stmt.where(
                or_(
                    Conversation.last_activity_at < ts,
                    and_(Conversation.last_activity_at == ts, Conversation.id < last_id),
                )
            )
        stmt = stmt.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
