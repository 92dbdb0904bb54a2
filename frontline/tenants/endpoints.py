from __future__ import annotations

from fastapi import APIRouter, status

from frontline.auth.deps import Admin, Operator, Superadmin
from frontline.deps import Session
from frontline.kit.repository import TenantScope
from frontline.models import Role
from frontline.tenants import service
from frontline.tenants.schemas import MemberIn, MemberOut, TenantIn, TenantOut

router = APIRouter(tags=["tenants"])


@router.post("/tenants", response_model=TenantOut, status_code=status.HTTP_201_CREATED)
async def create_tenant(body: TenantIn, _subject: Superadmin, session: Session) -> TenantOut:
    tenant = await service.create_tenant(
        session, name=body.name, slug=body.slug, locale=body.locale
    )
    await service.add_member(
        session,
        TenantScope(tenant.id),
        email=str(body.owner_email),
        password=body.owner_password,
        role=Role.OWNER,
        name=body.owner_name,
    )
    return TenantOut.model_validate(tenant)


@router.get("/tenant", response_model=TenantOut)
async def current_tenant(subject: Operator, session: Session) -> TenantOut:
    return TenantOut.model_validate(await service.get_tenant(session, subject.scope))


@router.get("/members", response_model=list[MemberOut])
async def list_members(subject: Operator, session: Session) -> list[MemberOut]:
    return await service.list_members(session, subject.scope)


@router.post("/members", response_model=MemberOut, status_code=status.HTTP_201_CREATED)
async def add_member(body: MemberIn, subject: Admin, session: Session) -> MemberOut:
    role = Role(body.role)
    user = await service.add_member(
        session,
        subject.scope,
        email=str(body.email),
        password=body.password,
        role=role,
        name=body.name,
        actor_role=None if subject.is_superadmin else subject.role,
    )
    return MemberOut(user_id=user.id, email=user.email, name=user.name, role=role.value)
