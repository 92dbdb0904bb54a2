"""Who is calling: the authenticated :class:`Subject` and role checks for endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from frontline.auth.repository import api_key_by_hash
from frontline.auth.tokens import InvalidToken
from frontline.deps import Session
from frontline.errors import Forbidden, Unauthorized
from frontline.kit.crypto import hash_token
from frontline.kit.repository import TenantScope
from frontline.models import ROLE_RANK, Role

API_KEY_PREFIX = "flk_"


@dataclass(frozen=True)
class Subject:
    """An authenticated staff user (JWT) or integration (API key), acting in one tenant."""

    user_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    role: Role | None
    is_superadmin: bool = False
    api_key_id: uuid.UUID | None = None

    @property
    def scope(self) -> TenantScope:
        if self.tenant_id is None:
            raise Forbidden("this endpoint needs a tenant; log in to a tenant first")
        return TenantScope(self.tenant_id)

    def has_role(self, minimum: Role) -> bool:
        if self.is_superadmin and self.tenant_id is not None:
            return True
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[minimum]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    return token.strip()


async def current_subject(request: Request, session: Session) -> Subject:
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        key = await api_key_by_hash(session, hash_token(token))
        if key is None:
            raise Unauthorized("invalid API key")
        return Subject(
            user_id=None, tenant_id=key.tenant_id, role=Role(key.role), api_key_id=key.id
        )
    try:
        claims = request.app.state.services.tokens.verify(token)
    except InvalidToken:
        raise Unauthorized("invalid or expired access token") from None
    role = Role(claims.role) if claims.role else None
    return Subject(claims.user_id, claims.tenant_id, role, claims.is_superadmin)


CurrentSubject = Annotated[Subject, Depends(current_subject)]


def require_role(minimum: Role) -> Callable[..., Coroutine[Any, Any, Subject]]:
    async def _check(subject: CurrentSubject) -> Subject:
        _ = subject.scope  # a tenant is required
        if not subject.has_role(minimum):
            raise Forbidden(f"this action needs the {minimum.value} role")
        return subject

    return _check


Operator = Annotated[Subject, Depends(require_role(Role.OPERATOR))]
Admin = Annotated[Subject, Depends(require_role(Role.ADMIN))]
Owner = Annotated[Subject, Depends(require_role(Role.OWNER))]


async def _superadmin(subject: CurrentSubject) -> Subject:
    if not subject.is_superadmin:
        raise Forbidden("platform superadmin only")
    return subject


Superadmin = Annotated[Subject, Depends(_superadmin)]
