"""Who is calling: the authenticated :class:`Subject` and role checks for endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from frontline.auth.repository import api_key_by_hash
from frontline.auth.tokens import InvalidToken
from frontline.deps import Services, Session
from frontline.errors import Forbidden, Unauthorized
from frontline.kit.crypto import constant_time_equals, hash_token
from frontline.kit.repository import TenantScope
from frontline.models import ROLE_RANK, Role

API_KEY_PREFIX = "flk_"
# the operator console's session: an access JWT in an HttpOnly cookie, plus the CSRF token
# (double submit: a readable cookie the console's script echoes in ``CSRF_HEADER``)
SESSION_COOKIE = "fl_session"
CSRF_COOKIE = "fl_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


def subject_from_access_token(services: Services, token: str) -> Subject:
    """The staff user an access JWT names (a bearer token, or the console's session cookie,
    which the console WebSocket authenticates with too); raises :class:`Unauthorized`."""
    try:
        claims = services.tokens.verify(token)
    except InvalidToken:
        raise Unauthorized("invalid or expired access token") from None
    try:
        role = Role(claims.role) if claims.role else None
    except ValueError:
        raise Unauthorized("invalid or expired access token") from None
    return Subject(claims.user_id, claims.tenant_id, role, claims.is_superadmin)


def check_csrf(request: Request) -> None:
    """Refuse a state-changing request authenticated by the session cookie unless it echoes
    the CSRF cookie in the ``X-CSRF-Token`` header (a cross-site page can make the browser
    send the cookies, but cannot read them to set the header)."""
    if request.method.upper() in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not constant_time_equals(cookie, header):
        raise Forbidden(
            "missing or wrong CSRF token: a request authenticated by the console session "
            f"must send the {CSRF_COOKIE} cookie's value in the {CSRF_HEADER} header"
        )


async def current_subject(request: Request, session: Session) -> Subject:
    """The caller: a bearer JWT or API key in ``Authorization`` or, without that header, the
    console's session cookie (state-changing requests then need the CSRF header)."""
    if "authorization" not in request.headers:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            subject = subject_from_access_token(request.app.state.services, cookie)
            check_csrf(request)
            return subject
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        key = await api_key_by_hash(session, hash_token(token))
        if key is None:
            raise Unauthorized("invalid API key")
        return Subject(
            user_id=None, tenant_id=key.tenant_id, role=Role(key.role), api_key_id=key.id
        )
    return subject_from_access_token(request.app.state.services, token)


CurrentSubject = Annotated[Subject, Depends(current_subject)]


async def detached_subject(request: Request) -> Subject:
    """:func:`current_subject` without the request's transaction, for endpoints that wait
    on a slow outside call (a language model) and must not hold a database connection
    meanwhile: tokens need no database, an API key is looked up in a short read of its
    own."""
    services = request.app.state.services
    if "authorization" not in request.headers:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            subject = subject_from_access_token(services, cookie)
            check_csrf(request)
            return subject
    token = _bearer(request)
    if token.startswith(API_KEY_PREFIX):
        async with services.db.reader() as session:
            key = await api_key_by_hash(session, hash_token(token))
        if key is None:
            raise Unauthorized("invalid API key")
        return Subject(
            user_id=None, tenant_id=key.tenant_id, role=Role(key.role), api_key_id=key.id
        )
    return subject_from_access_token(services, token)


async def _detached_operator(
    subject: Annotated[Subject, Depends(detached_subject)],
) -> Subject:
    _ = subject.scope  # a tenant is required
    if not subject.has_role(Role.OPERATOR):
        raise Forbidden(f"this action needs the {Role.OPERATOR.value} role")
    return subject


# an operator (or above) authenticated without holding a database connection
DetachedOperator = Annotated[Subject, Depends(_detached_operator)]


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
