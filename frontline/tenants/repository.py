from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository
from frontline.models import Membership, Tenant, User


class TenantAdminRepository:
    """Platform-level tenant rows (the superadmin's view, and the tenant's own row)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_slug(self, slug: str) -> Tenant | None:
        return (
            await self.session.execute(select(Tenant).where(Tenant.slug == slug))
        ).scalar_one_or_none()

    async def get(self, tenant_id: object) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def all(self) -> list[Tenant]:
        return list(
            (await self.session.execute(select(Tenant).order_by(Tenant.created_at))).scalars()
        )

    def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        return tenant


class MembershipRepository(TenantRepository[Membership]):
    model = Membership

    async def members(self) -> list[tuple[Membership, User]]:
        stmt = (
            self.select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .order_by(Membership.created_at)
        )
        return [(m, u) for m, u in (await self.session.execute(stmt)).all()]

    async def for_user(self, user_id: object) -> Membership | None:
        stmt = self.select().where(Membership.user_id == user_id)
        return await self.one_or_none(stmt)

    async def for_telegram_user(self, telegram_user_id: int) -> Membership | None:
        stmt = self.select().where(Membership.telegram_user_id == telegram_user_id)
        return await self.one_or_none(stmt)
