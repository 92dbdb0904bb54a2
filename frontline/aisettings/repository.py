"""SQL for AI settings and the AI log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository
from frontline.models import AiCall, AiSettings


class AiSettingsRepository(TenantRepository[AiSettings]):
    model = AiSettings

    async def current(self, *, for_update: bool = False) -> AiSettings | None:
        stmt = self.select()
        if for_update:
            stmt = stmt.with_for_update()
        return await self.one_or_none(stmt)


@dataclass(frozen=True)
class AiCallFilter:
    conversation_id: int | None = None
    provider: str | None = None
    decision: str | None = None
    errors_only: bool = False
    since: datetime | None = None
    until: datetime | None = None


class AiCallRepository(TenantRepository[AiCall]):
    model = AiCall

    async def search(
        self, flt: AiCallFilter, *, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[AiCall]:
        """Newest first; keyset pagination on ``(created_at, id)``."""
        stmt = self.select()
        if flt.conversation_id is not None:
            stmt = stmt.where(AiCall.conversation_id == flt.conversation_id)
        if flt.provider:
            stmt = stmt.where(AiCall.provider == flt.provider)
        if flt.decision:
            stmt = stmt.where(AiCall.decision == flt.decision)
        if flt.errors_only:
            stmt = stmt.where(AiCall.error.is_not(None))
        if flt.since is not None:
            stmt = stmt.where(AiCall.created_at >= flt.since)
        if flt.until is not None:
            stmt = stmt.where(AiCall.created_at < flt.until)
        if after is not None:
            ts, last_id = after
            stmt = stmt.where(
                or_(AiCall.created_at < ts, and_(AiCall.created_at == ts, AiCall.id < last_id))
            )
        stmt = stmt.order_by(AiCall.created_at.desc(), AiCall.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())


# --- retention: the only unscoped queries, run by the maintenance job for every tenant ---


async def retention_days_by_tenant(session: AsyncSession) -> dict[uuid.UUID, int]:
    result = await session.execute(select(AiSettings.tenant_id, AiSettings.log_retention_days))
    return {row[0]: row[1] for row in result.all()}


async def delete_calls_before(session: AsyncSession, tenant_id: uuid.UUID, cutoff: datetime) -> int:
    result = await session.execute(
        delete(AiCall).where(AiCall.tenant_id == tenant_id, AiCall.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_calls_of_other_tenants_before(
    session: AsyncSession, configured: set[uuid.UUID], cutoff: datetime
) -> int:
    """Delete old calls of tenants without a settings row (they have the default retention)."""
    stmt = delete(AiCall).where(AiCall.created_at < cutoff)
    if configured:
        stmt = stmt.where(AiCall.tenant_id.not_in(configured))
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
