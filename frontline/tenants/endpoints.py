from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from frontline.audit import service as audit
from frontline.auth.deps import Admin, Operator, Superadmin
from frontline.deps import Session
from frontline.kit.repository import TenantScope
from frontline.models import Role
from frontline.tenants import service
from frontline.tenants.schemas import MemberIn, MemberOut, MemberPatch, TenantIn, TenantOut

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
    await audit.record(
        session, subject.scope, subject, "members.add", user.email, {"role": role.value}
    )
    return MemberOut(user_id=user.id, email=user.email, name=user.name, role=role.value)


@router.patch("/members/{user_id}", response_model=MemberOut)
async def change_member(
    user_id: uuid.UUID, body: MemberPatch, subject: Admin, session: Session
) -> MemberOut:
    """A member's new role (the last owner stays owner; nobody grants above their own)."""
    member = await service.change_member(
        session,
        subject.scope,
        user_id,
        Role(body.role),
        None if subject.is_superadmin else subject.role,
    )
    await audit.record(
        session, subject.scope, subject, "members.role", member.email, {"role": body.role}
    )
    return member


@router.delete("/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(user_id: uuid.UUID, subject: Admin, session: Session) -> None:
    """Deactivate a member in this workspace: they can no longer sign in to it."""
    await service.remove_member(
        session, subject.scope, user_id, None if subject.is_superadmin else subject.role
    )
    await audit.record(session, subject.scope, subject, "members.remove", str(user_id))
