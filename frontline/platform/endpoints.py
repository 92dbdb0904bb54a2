"""``/api/v1/platform/...``: the platform superadmin's tenant administration."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from frontline.audit import service as audit
from frontline.auth.deps import Superadmin
from frontline.deps import Session
from frontline.kit.repository import TenantScope
from frontline.models import Role
from frontline.platform import service
from frontline.platform.schemas import Limits, PlatformTenantOut
from frontline.tenants import service as tenants
from frontline.tenants.schemas import TenantIn

router = APIRouter(prefix="/platform", tags=["platform"])


@router.get("/tenants", response_model=list[PlatformTenantOut])
async def list_tenants(_subject: Superadmin, session: Session) -> list[PlatformTenantOut]:
    """Every tenant with its usage: conversations (all, this month), messages, LLM tokens,
    stored bytes (knowledge and attachments), members and documents."""
    return await service.list_tenants(session)


@router.post("/tenants", response_model=PlatformTenantOut, status_code=status.HTTP_201_CREATED)
async def create_tenant(body: TenantIn, subject: Superadmin, session: Session) -> PlatformTenantOut:
    """A new tenant and its owner account."""
    tenant = await tenants.create_tenant(
        session, name=body.name, slug=body.slug, locale=body.locale
    )
    scope = TenantScope(tenant.id)
    await tenants.add_member(
        session,
        scope,
        email=str(body.owner_email),
        password=body.owner_password,
        role=Role.OWNER,
        name=body.owner_name,
    )
    await audit.record(session, scope, subject, "platform.tenant_create", body.slug)
    return await service.tenant_out(session, tenant)


@router.post("/tenants/{tenant_id}/suspend", response_model=PlatformTenantOut)
async def suspend(tenant_id: uuid.UUID, subject: Superadmin, session: Session) -> PlatformTenantOut:
    tenant = await service.set_suspended(session, tenant_id, True)
    await audit.record(session, TenantScope(tenant.id), subject, "platform.suspend", tenant.slug)
    return await service.tenant_out(session, tenant)


@router.post("/tenants/{tenant_id}/resume", response_model=PlatformTenantOut)
async def resume(tenant_id: uuid.UUID, subject: Superadmin, session: Session) -> PlatformTenantOut:
    tenant = await service.set_suspended(session, tenant_id, False)
    await audit.record(session, TenantScope(tenant.id), subject, "platform.resume", tenant.slug)
    return await service.tenant_out(session, tenant)


@router.put("/tenants/{tenant_id}/limits", response_model=PlatformTenantOut)
async def set_limits(
    tenant_id: uuid.UUID, body: Limits, subject: Superadmin, session: Session
) -> PlatformTenantOut:
    """The tenant's plan limits (``null`` or left out: unlimited); reaching one refuses
    the next conversation, member or document with 403 ``plan_limit_reached``."""
    tenant = await service.set_limits(session, tenant_id, body)
    await audit.record(
        session,
        TenantScope(tenant.id),
        subject,
        "platform.limits",
        tenant.slug,
        body.model_dump(exclude_none=True),
    )
    return await service.tenant_out(session, tenant)
