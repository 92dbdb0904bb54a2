"""Creating tenants and staff accounts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.auth import service as auth
from frontline.errors import Conflict, Forbidden, NotFound
from frontline.kit.repository import TenantScope
from frontline.models import ROLE_RANK, Membership, Role, Tenant, User
from frontline.tenants.repository import MembershipRepository, TenantAdminRepository
from frontline.tenants.schemas import MemberOut


async def create_tenant(
    session: AsyncSession, *, name: str, slug: str, locale: str = "ru"
) -> Tenant:
    repo = TenantAdminRepository(session)
    if await repo.by_slug(slug) is not None:
        raise Conflict(f"a tenant with slug {slug!r} already exists")
    tenant = repo.add(Tenant(name=name, slug=slug, locale=locale, settings={}))
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, scope: TenantScope) -> Tenant:
    tenant = await TenantAdminRepository(session).get(scope.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def add_member(
    session: AsyncSession,
    scope: TenantScope,
    *,
    email: str,
    password: str | None,
    role: Role,
    name: str = "",
    is_superadmin: bool = False,
    actor_role: Role | None = None,
) -> User:
    """Create the user if the e-mail is new (a password is then required) and add them to
    the tenant with ``role``. An actor cannot grant a role above their own."""
    if actor_role is not None and ROLE_RANK[role] > ROLE_RANK[actor_role]:
        raise Forbidden("you cannot grant a role above your own")
    user = await auth.user_by_email(session, email)
    if user is None:
        if not password:
            raise Conflict("a password is required for a new user")
        user = await auth.create_user(
            session, email=email, password=password, name=name, is_superadmin=is_superadmin
        )
    members = MembershipRepository(session, scope)
    if await members.for_user(user.id) is not None:
        raise Conflict("this user is already a member of the tenant")
    await enforce_limit(session, scope, "operators", lambda: _count(members))
    members.add(Membership(user_id=user.id, role=role.value))
    await session.flush()
    return user


async def list_members(session: AsyncSession, scope: TenantScope) -> list[MemberOut]:
    rows = await MembershipRepository(session, scope).members()
    return [
        MemberOut(
            user_id=u.id,
            email=u.email,
            name=u.name,
            role=m.role,
            telegram_user_id=m.telegram_user_id,
        )
        for m, u in rows
    ]


async def is_member(session: AsyncSession, scope: TenantScope, user_id: uuid.UUID) -> bool:
    return await MembershipRepository(session, scope).for_user(user_id) is not None


async def by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return await TenantAdminRepository(session).by_slug(slug)


async def by_slug_or_id(session: AsyncSession, ref: str) -> Tenant | None:
    try:
        tenant = await TenantAdminRepository(session).get(uuid.UUID(ref))
    except ValueError:
        tenant = None
    return tenant or await by_slug(session, ref)


async def link_telegram(
    session: AsyncSession, scope: TenantScope, user_id: uuid.UUID, telegram_user_id: int | None
) -> None:
    """Link a member to their Telegram user id (``None`` unlinks): their "Accept" on an
    operator alert in Telegram then assigns them. One member per Telegram user."""
    repo = MembershipRepository(session, scope)
    membership = await repo.for_user(user_id)
    if membership is None:
        raise NotFound("member not found")
    if telegram_user_id is not None:
        other = await repo.for_telegram_user(telegram_user_id)
        if other is not None and other.user_id != user_id:
            raise Conflict("this Telegram user is linked to another member")
    membership.telegram_user_id = telegram_user_id
    await session.flush()


async def member_for_telegram(
    session: AsyncSession, scope: TenantScope, telegram_user_id: int
) -> uuid.UUID | None:
    """The member linked to a Telegram user id, if any."""
    found = await MembershipRepository(session, scope).for_telegram_user(telegram_user_id)
    return found.user_id if found is not None else None


async def all_tenants(session: AsyncSession) -> list[Tenant]:
    """Every workspace (for operations processes such as the Telegram poller)."""
    return await TenantAdminRepository(session).all()


class PlanLimitReached(Forbidden):
    """A plan limit the platform set for this tenant is reached (403, code
    ``plan_limit_reached``); the message names the limit and its value."""

    code = "plan_limit_reached"


class TenantSuspended(Forbidden):
    code = "tenant_suspended"


LIMIT_NAMES = ("conversations_per_month", "operators", "documents")


async def enforce_limit(
    session: AsyncSession,
    scope: TenantScope,
    name: str,
    used: Callable[[], Awaitable[int]],
) -> None:
    """Refuse one more of ``name`` (see :data:`LIMIT_NAMES`) when the tenant is suspended or
    ``used()`` already reaches its plan limit; ``used`` is only called when a limit is set."""
    tenant = await TenantAdminRepository(session).get(scope.tenant_id)
    if tenant is None:
        return
    if tenant.suspended_at is not None:
        raise TenantSuspended("this workspace is suspended")
    if isinstance((tenant.limits or {}).get(name), int):
        check_limit(tenant, name, await used())


def check_limit(tenant: Tenant, name: str, used: int) -> None:
    """Refuse one more of ``name`` when ``used`` already reaches the tenant's limit."""
    if tenant.suspended_at is not None:
        raise TenantSuspended("this workspace is suspended")
    limit = (tenant.limits or {}).get(name)
    if isinstance(limit, int) and used >= limit:
        label = name.replace("_", " ")
        raise PlanLimitReached(f"the plan's limit is reached: {label} at most {limit}")


async def _owners(members: MembershipRepository) -> int:
    return sum(1 for m, _ in await members.members() if m.role == Role.OWNER.value)


async def change_member(
    session: AsyncSession,
    scope: TenantScope,
    user_id: uuid.UUID,
    role: Role,
    actor_role: Role | None,
) -> MemberOut:
    """A member's new role. Nobody grants above their own role or changes someone above
    it; the last owner stays an owner."""
    members = MembershipRepository(session, scope)
    membership = await members.for_user(user_id)
    if membership is None:
        raise NotFound("no such member")
    current = Role(membership.role)
    if actor_role is not None and (
        ROLE_RANK[role] > ROLE_RANK[actor_role] or ROLE_RANK[current] > ROLE_RANK[actor_role]
    ):
        raise Forbidden("you cannot change a role above your own")
    if current is Role.OWNER and role is not Role.OWNER and await _owners(members) <= 1:
        raise Conflict("the workspace's last owner cannot lose the owner role")
    membership.role = role.value
    await session.flush()
    return next(m for m in await list_members(session, scope) if m.user_id == user_id)


async def remove_member(
    session: AsyncSession, scope: TenantScope, user_id: uuid.UUID, actor_role: Role | None
) -> None:
    """Deactivate a member in this workspace (the membership goes; the account stays for
    their other workspaces). The last owner cannot be removed."""
    members = MembershipRepository(session, scope)
    membership = await members.for_user(user_id)
    if membership is None:
        raise NotFound("no such member")
    current = Role(membership.role)
    if actor_role is not None and ROLE_RANK[current] > ROLE_RANK[actor_role]:
        raise Forbidden("you cannot remove a member above your own role")
    if current is Role.OWNER and await _owners(members) <= 1:
        raise Conflict("the workspace's last owner cannot be removed")
    await session.delete(membership)
    await session.flush()


async def _count(members: MembershipRepository) -> int:
    return len(await members.members())
