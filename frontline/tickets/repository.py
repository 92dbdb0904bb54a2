from __future__ import annotations

from frontline.kit.repository import TenantRepository
from frontline.models import Category


class CategoryRepository(TenantRepository[Category]):
    model = Category

    async def list(self) -> list[Category]:
        return list((await self.session.execute(self.select().order_by(Category.name))).scalars())

    async def by_name(self, name: str) -> Category | None:
        stmt = self.select().where(Category.name == name)
        return await self.one_or_none(stmt)
