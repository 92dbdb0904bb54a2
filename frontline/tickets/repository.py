from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, or_

from frontline.kit.repository import TenantRepository
from frontline.models import CannedReply, Category, ConversationTag, Tag


class CategoryRepository(TenantRepository[Category]):
    model = Category

    async def list(self) -> list[Category]:
        return list((await self.session.execute(self.select().order_by(Category.name))).scalars())

    async def by_name(self, name: str) -> Category | None:
        stmt = self.select().where(Category.name == name)
        return await self.one_or_none(stmt)


class CannedReplyRepository(TenantRepository[CannedReply]):
    model = CannedReply

    async def list(self, q: str | None = None) -> list[CannedReply]:
        """By title; with ``q``, those whose title or text contains it (any case)."""
        stmt = self.select().order_by(CannedReply.title)
        if q:
            pattern = f"%{q.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(CannedReply.title).like(pattern),
                    func.lower(CannedReply.text).like(pattern),
                )
            )
        return list((await self.session.execute(stmt)).scalars())

    async def by_title(self, title: str) -> CannedReply | None:
        return await self.one_or_none(self.select().where(CannedReply.title == title))
class TagRepository(TenantRepository[Tag]):
    model = Tag

    async def by_name(self, name: str) -> Tag | None:
        return await self.one_or_none(self.select().where(Tag.name == name))

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[Tag]:
        if not ids:
            return []
        stmt = self.select().where(Tag.id.in_(ids)).order_by(Tag.name)
        return list((await self.session.execute(stmt)).scalars())

    async def list(self) -> list[Tag]:
        return list((await self.session.execute(self.select().order_by(Tag.name))).scalars())


class ConversationTagRepository(TenantRepository[ConversationTag]):
    model = ConversationTag

    async def tags_of(self, conversation_ids: Sequence[int]) -> dict[int, list[Tag]]:
        """The tags of each conversation, by name."""
        if not conversation_ids:
            return {}
        stmt = (
            self.select(ConversationTag.conversation_id, Tag)
            .join(Tag, Tag.id == ConversationTag.tag_id)
            .where(
                ConversationTag.conversation_id.in_(conversation_ids),
                Tag.tenant_id == self.scope.tenant_id,
            )
            .order_by(Tag.name)
        )
        found: dict[int, list[Tag]] = {}
        for conversation_id, tag in (await self.session.execute(stmt)).all():
            found.setdefault(conversation_id, []).append(tag)
        return found

    async def replace(self, conversation_id: int, tag_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(ConversationTag).where(
                ConversationTag.tenant_id == self.scope.tenant_id,
                ConversationTag.conversation_id == conversation_id,
            )
        )
        await self.insert_rows(
            [{"conversation_id": conversation_id, "tag_id": tag_id} for tag_id in tag_ids]
        )
