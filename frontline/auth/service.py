"""Login, refresh-token rotation, identity, API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.audit import service as audit
from frontline.auth.deps import API_KEY_PREFIX, Subject
from frontline.auth.repository import ApiKeyRepository, RefreshTokenRepository, UserRepository
from frontline.auth.schemas import ApiKeyCreated, MembershipOut, MeOut, TokenPair
from frontline.auth.throttle import LoginThrottle
from frontline.auth.tokens import AccessClaims, TokenCodec
from frontline.errors import NotFound, Unauthorized
from frontline.kit.crypto import hash_password, hash_token, new_token, verify_password
from frontline.kit.repository import TenantScope
from frontline.kit.time import as_utc, utcnow
from frontline.models import ApiKey, RefreshToken, User

# verified against when the e-mail is unknown, so both paths cost one argon2 verification
_DUMMY_HASH = hash_password("frontline-timing-equaliser")


class RefreshTokenReused(Unauthorized):
    """A spent refresh token was presented; its family has been revoked in the session,
    and the edge must commit that revocation although the request fails."""


async def _issue_pair(
    session: AsyncSession,
    codec: TokenCodec,
    user: User,
    tenant_id: uuid.UUID | None,
    role: str | None,
    refresh_ttl: int,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    refresh = new_token("flr_", 32)
    RefreshTokenRepository(session).add(
        RefreshToken(
            user_id=user.id,
            tenant_id=tenant_id,
            token_hash=hash_token(refresh),
            family_id=family_id or uuid.uuid4(),
            expires_at=utcnow() + timedelta(seconds=refresh_ttl),
        )
    )
    access = codec.issue(AccessClaims(user.id, tenant_id, role, user.is_superadmin))
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=codec.ttl_seconds,
        tenant_id=tenant_id,
        role=role,
    )


async def login(
    session: AsyncSession,
    codec: TokenCodec,
    email: str,
    password: str,
    tenant_id: uuid.UUID | None,
    refresh_ttl: int,
) -> TokenPair:
    users = UserRepository(session)
    user = await users.by_email(email.strip())
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("wrong e-mail or password")
    if not verify_password(user.password_hash, password) or not user.is_active:
        raise Unauthorized("wrong e-mail or password")
    memberships = await users.memberships(user.id)
    if not user.is_superadmin:
        # a suspended workspace's staff cannot sign in to it (the platform suspended it)
        memberships = [(m, t) for m, t in memberships if t.suspended_at is None]
        if not memberships and tenant_id is None:
            raise Unauthorized("this account has no active workspace")
    role: str | None = None
    chosen: uuid.UUID | None = None
    if tenant_id is not None:
        match = [m for m, _t in memberships if m.tenant_id == tenant_id]
        if match:
            chosen, role = tenant_id, match[0].role
        elif user.is_superadmin:
            chosen, role = tenant_id, None
        else:
            raise Unauthorized("no access to that tenant")
    elif memberships:
        chosen, role = memberships[0][0].tenant_id, memberships[0][0].role
    elif not user.is_superadmin:
        raise Unauthorized("this account has no workspace")
    await session.flush()
    return await _issue_pair(session, codec, user, chosen, role, refresh_ttl)


async def refresh(
    session: AsyncSession, codec: TokenCodec, token: str, refresh_ttl: int
) -> TokenPair:
    """Rotate a refresh token. Presenting a spent token revokes its whole family."""
    repo = RefreshTokenRepository(session)
    stored = await repo.by_hash(hash_token(token))
    now = utcnow()
    if stored is None or stored.revoked_at is not None:
        raise Unauthorized("invalid refresh token")
    if stored.used_at is not None:
        await repo.revoke_family(stored.family_id, now)
        raise RefreshTokenReused("refresh token reuse detected; please log in again")
    if as_utc(stored.expires_at) <= now:
        raise Unauthorized("refresh token expired")
    users = UserRepository(session)
    user = await users.get(stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("invalid refresh token")
    role: str | None = None
    if stored.tenant_id is not None:
        membership = await users.membership(user.id, stored.tenant_id)
        if membership is None and not user.is_superadmin:
            raise Unauthorized("access to the tenant was removed")
        role = membership.role if membership else None
    stored.used_at = now
    await session.flush()
    return await _issue_pair(
        session, codec, user, stored.tenant_id, role, refresh_ttl, family_id=stored.family_id
    )


async def me(session: AsyncSession, subject: Subject) -> MeOut:
    if subject.user_id is None:
        return MeOut(
            user_id=None,
            email=None,
            name=None,
            is_superadmin=False,
            tenant_id=subject.tenant_id,
            role=subject.role.value if subject.role else None,
            api_key_id=subject.api_key_id,
        )
    users = UserRepository(session)
    user = await users.get(subject.user_id)
    if user is None:
        raise Unauthorized("user no longer exists")
    memberships = await users.memberships(user.id)
    return MeOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        is_superadmin=user.is_superadmin,
        tenant_id=subject.tenant_id,
        role=subject.role.value if subject.role else None,
        memberships=[
            MembershipOut(tenant_id=t.id, tenant_name=t.name, role=m.role) for m, t in memberships
        ],
    )


async def create_api_key(
    session: AsyncSession, subject: Subject, name: str, role: str
) -> ApiKeyCreated:
    key = new_token(API_KEY_PREFIX, 32)
    row = ApiKeyRepository(session, subject.scope).add(
        ApiKey(name=name, prefix=key[:12], key_hash=hash_token(key), role=role)
    )
    await session.flush()
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        role=row.role,
        created_at=row.created_at,
        revoked_at=None,
        key=key,
    )


async def revoke_api_key(session: AsyncSession, subject: Subject, key_id: uuid.UUID) -> None:
    row = await ApiKeyRepository(session, subject.scope).get(key_id)
    if row is None:
        raise NotFound("API key not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    await session.flush()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await UserRepository(session).by_email(email)


async def create_user(
    session: AsyncSession, *, email: str, password: str, name: str = "", is_superadmin: bool = False
) -> User:
    user = UserRepository(session).add(
        User(
            email=email.lower().strip(),
            name=name,
            password_hash=hash_password(password),
            is_superadmin=is_superadmin,
        )
    )
    await session.flush()
    return user


async def display_name(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The name an operator shows customers (their name, else the e-mail's local part)."""
    user = await UserRepository(session).get(user_id)
    if user is None:
        return None
    return user.name or user.email.split("@", 1)[0]


async def ensure_member(session: AsyncSession, scope: TenantScope, email: str) -> User:
    """The user with ``email`` if they belong to ``scope``'s workspace, else 404."""
    users = UserRepository(session)
    user = await users.by_email(email.strip())
    if user is None or not any(
        m.tenant_id == scope.tenant_id for m, _ in await users.memberships(user.id)
    ):
        raise NotFound("no member with that e-mail in this workspace")
    return user


THROTTLE_ACTOR = "system:login-throttle"


async def audit_throttle_event(
    session: AsyncSession, email: str, action: str, data: dict[str, Any]
) -> int:
    """Write a sign-in throttling event (``auth.login_locked``) to the audit log of every
    workspace the account ``email`` belongs to. Returns how many entries were written (0: no
    such user). The caller commits even though the sign-in failed."""
    users = UserRepository(session)
    user = await users.by_email(email.strip())
    if user is None:
        return 0
    memberships = await users.memberships(user.id)
    for membership, _tenant in memberships:
        await audit.record_system(
            session,
            TenantScope(membership.tenant_id),
            THROTTLE_ACTOR,
            action,
            target=f"user:{user.id}",
            data={"email": user.email, **data},
        )
    return len(memberships)


async def failed_login(
    session: AsyncSession, throttle: LoginThrottle, email: str, address: str | None
) -> float:
    """Count a failed sign-in (API or console); a back-off it imposes is written to the audit
    log of the account's workspaces as ``auth.login_locked`` and committed at once (the
    failed sign-in's own work is nothing: it only read). Returns the back-off."""
    imposed = await throttle.failed(email, address)
    if imposed > 0:
        await audit_throttle_event(
            session, email, "auth.login_locked", {"address": address, "seconds": imposed}
        )
        await session.commit()
    return imposed
