from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.errors import NotFound
from frontline.kit.time import utcnow
from frontline.models import Tenant
from frontline.platform.repository import PlatformRepository
from frontline.platform.schemas import Limits, PlatformTenantOut, Usage


def _out(tenant: Tenant, usage: dict[str, dict[uuid.UUID, Any]]) -> PlatformTenantOut:
    def n(name: str) -> int:
        return int(usage[name].get(tenant.id) or 0)

    return PlatformTenantOut(
        id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        locale=tenant.locale,
        created_at=tenant.created_at,
        suspended=tenant.suspended_at is not None,
        suspended_at=tenant.suspended_at,
        limits=Limits.model_validate(tenant.limits or {}),
        usage=Usage(
            conversations=n("conversations"),
            conversations_this_month=n("conversations_this_month"),
            messages=n("messages"),
            tokens=n("tokens"),
            storage_bytes=n("knowledge_bytes") + n("attachment_bytes"),
            members=n("members"),
            documents=n("documents"),
        ),
    )


def _month_start() -> Any:
    return utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def list_tenants(session: AsyncSession) -> list[PlatformTenantOut]:
    repo = PlatformRepository(session)
    usage = await repo.usage(_month_start())
    return [_out(t, usage) for t in await repo.tenants()]


async def tenant_out(session: AsyncSession, tenant: Tenant) -> PlatformTenantOut:
    usage = await PlatformRepository(session).usage(_month_start())
    return _out(tenant, usage)


async def _get(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await PlatformRepository(session).get(tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def set_suspended(session: AsyncSession, tenant_id: uuid.UUID, suspended: bool) -> Tenant:
    """Suspend (staff cannot sign in, new conversations are refused) or resume a tenant."""
    tenant = await _get(session, tenant_id)
    if suspended and tenant.suspended_at is None:
        tenant.suspended_at = utcnow()
    elif not suspended:
        tenant.suspended_at = None
    await session.flush()
    return tenant


async def set_limits(session: AsyncSession, tenant_id: uuid.UUID, limits: Limits) -> Tenant:
    tenant = await _get(session, tenant_id)
    tenant.limits = limits.model_dump(exclude_none=True)
    await session.flush()
    return tenant
