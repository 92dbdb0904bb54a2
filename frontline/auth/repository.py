"""SQL for users, memberships, refresh tokens and API keys.

Users are platform-level (one login, several tenants), so their queries are not tenant
filtered; API-key management is tenant scoped. Looking a key up by its hash during
authentication necessarily happens before any tenant is known.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository
from frontline.models import ApiKey, Membership, RefreshToken, Tenant, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email.lower()))
        return result.scalar_one_or_none()

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    def add(self, user: User) -> User:
        self.session.add(user)
        return user

    async def memberships(self, user_id: uuid.UUID) -> list[tuple[Membership, Tenant]]:
        result = await self.session.execute(
            select(Membership, Tenant)
            .join(Tenant, Tenant.id == Membership.tenant_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at)
        )
        return [(m, t) for m, t in result.all()]

    async def membership(self, user_id: uuid.UUID, tenant_id: uuid.UUID) -> Membership | None:
        result = await self.session.execute(
            select(Membership).where(
                Membership.user_id == user_id, Membership.tenant_id == tenant_id
            )
        )
        return result.scalar_one_or_none()


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        return result.scalar_one_or_none()

    def add(self, token: RefreshToken) -> RefreshToken:
        self.session.add(token)
        return token

    async def revoke_family(self, family_id: uuid.UUID, when: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when)
        )


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey

    async def list(self) -> list[ApiKey]:
        result = await self.session.execute(self.select().order_by(ApiKey.created_at))
        return list(result.scalars())


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """Authentication look-up (before a tenant is known): active keys only."""
    result = await session.execute(
        select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    return result.scalar_one_or_none()
