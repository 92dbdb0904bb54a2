"""HTTP: login, refresh, me, API keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from frontline.audit import service as audit
from frontline.auth import service
from frontline.auth.deps import Admin, CurrentSubject
from frontline.auth.repository import ApiKeyRepository
from frontline.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    MeOut,
    RefreshIn,
    TokenPair,
    UnlockIn,
)
from frontline.deps import ServicesDep, Session
from frontline.errors import Unauthorized

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/login",
    response_model=TokenPair,
    responses={429: {"description": "Too many failed attempts: back off for Retry-After s"}},
)
async def login(
    body: LoginIn, request: Request, session: Session, services: ServicesDep
) -> TokenPair:
    throttle = services.login_throttle
    address = request.client.host if request.client else None
    await throttle.check(body.email, address)
    try:
        pair = await service.login(
            session,
            services.tokens,
            body.email,
            body.password,
            body.tenant_id,
            services.settings.refresh_token_ttl_seconds,
        )
    except Unauthorized:
        await service.failed_login(session, services.login_throttle, body.email, address)
        raise
    await throttle.succeeded(body.email)
    return pair


@router.post("/auth/unlock", status_code=status.HTTP_204_NO_CONTENT)
async def unlock(body: UnlockIn, subject: Admin, session: Session, services: ServicesDep) -> None:
    """Lift a member's sign-in back-off at once (admins of a workspace the user belongs to)."""
    user = await service.ensure_member(session, subject.scope, body.email)
    await services.login_throttle.unlock(body.email)
    await audit.record(
        session, subject.scope, subject, "auth.unlocked", f"user:{user.id}", {"email": user.email}
    )


@router.post("/auth/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, session: Session, services: ServicesDep) -> TokenPair:
    try:
        return await service.refresh(
            session,
            services.tokens,
            body.refresh_token,
            services.settings.refresh_token_ttl_seconds,
        )
    except service.RefreshTokenReused:
        await session.commit()  # the family's revocation must outlive the 401
        raise


@router.get("/me", response_model=MeOut)
async def me(subject: CurrentSubject, session: Session) -> MeOut:
    return await service.me(session, subject)


@router.get("/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(subject: Admin, session: Session) -> list[ApiKeyOut]:
    rows = await ApiKeyRepository(session, subject.scope).list()
    return [ApiKeyOut.model_validate(r) for r in rows]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(body: ApiKeyIn, subject: Admin, session: Session) -> ApiKeyCreated:
    created = await service.create_api_key(session, subject, body.name, body.role)
    await audit.record(session, subject.scope, subject, "api_keys.create", body.name)
    return created


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: uuid.UUID, subject: Admin, session: Session) -> None:
    await service.revoke_api_key(session, subject, key_id)
    await audit.record(session, subject.scope, subject, "api_keys.revoke", str(key_id))
