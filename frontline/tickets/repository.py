from __future__ import annotations

from sqlalchemy import func, or_

from frontline.kit.repository import TenantRepository
from frontline.models import CannedReply, Category


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
