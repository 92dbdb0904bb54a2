from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.errors import Conflict, NotFound
from frontline.kit.repository import TenantScope
from frontline.models import Category
from frontline.tickets.repository import CategoryRepository


async def list_categories(session: AsyncSession, scope: TenantScope) -> list[Category]:
    return await CategoryRepository(session, scope).list()


async def get_category(
    session: AsyncSession, scope: TenantScope, category_id: uuid.UUID
) -> Category:
    category = await CategoryRepository(session, scope).get(category_id)
    if category is None:
        raise NotFound("category not found")
    return category


async def create_category(
    session: AsyncSession, scope: TenantScope, name: str, description: str
) -> Category:
    repo = CategoryRepository(session, scope)
    if await repo.by_name(name.strip()) is not None:
        raise Conflict(f"category {name!r} already exists")
    category = repo.add(Category(name=name.strip(), description=description))
    await session.flush()
    return category


async def update_category(
    session: AsyncSession,
    scope: TenantScope,
    category_id: uuid.UUID,
    name: str | None,
    description: str | None,
) -> Category:
    repo = CategoryRepository(session, scope)
    category = await get_category(session, scope, category_id)
    if name is not None and name.strip() != category.name:
        if await repo.by_name(name.strip()) is not None:
            raise Conflict(f"category {name!r} already exists")
        category.name = name.strip()
    if description is not None:
        category.description = description
    await session.flush()
    return category


async def delete_category(
    session: AsyncSession, scope: TenantScope, category_id: uuid.UUID
) -> None:
    category = await get_category(session, scope, category_id)
    await session.delete(category)
    await session.flush()
