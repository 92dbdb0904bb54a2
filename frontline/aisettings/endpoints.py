"""HTTP: AI settings (operators read, admins write, owners rotate) and the AI log (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from frontline.aisettings import service
from frontline.aisettings.repository import AiCallFilter
from frontline.aisettings.schemas import (
    AiCallOut,
    AiCallPage,
    AiCallSummary,
    AiSettingsIn,
    AiSettingsOut,
    KeysRotated,
)
from frontline.audit import service as audit
from frontline.auth.deps import Admin, Operator, Owner
from frontline.deps import ServicesDep, Session
from frontline.errors import error_body
from frontline.kit.pagination import CursorQuery
from frontline.kit.params import BIGINT_MAX, PathId
from frontline.kit.time import as_utc

router = APIRouter(prefix="/ai", tags=["ai"])


@router.get("/settings", response_model=AiSettingsOut)
async def get_settings(subject: Operator, session: Session) -> AiSettingsOut:
    """The tenant's AI settings; API keys show only as ``has_api_key``."""
    return service.to_out(await service.get_settings(session, subject.scope))


@router.put(
    "/settings",
    response_model=AiSettingsOut,
    responses={422: {"description": "invalid settings, with the failing fields"}},
)
async def put_settings(
    body: AiSettingsIn, subject: Admin, session: Session, services: ServicesDep
) -> AiSettingsOut | JSONResponse:
    """Change the AI settings. Fields left out keep their value; an entry's ``api_key`` is
    write-only (given: stored encrypted, left out: kept, ``null``: removed)."""
    try:
        row = await service.update_settings(session, subject.scope, services.secret_box, body)
    except service.InvalidSettings as exc:
        return JSONResponse(
            error_body(exc.code, exc.message, fields=exc.fields), status_code=exc.status_code
        )
    changed = sorted(body.model_fields_set)
    await audit.record(
        session, subject.scope, subject, "ai_settings.update", "", {"fields": changed}
    )
    return service.to_out(row)


@router.post("/settings/rotate-keys", response_model=KeysRotated)
async def rotate_keys(subject: Owner, session: Session, services: ServicesDep) -> KeysRotated:
    """Re-encrypt the stored API keys under the current secret key (after adding a new
    ``FRONTLINE_SECRET_KEY`` and keeping the old one as a previous key)."""
    rotated = await service.rotate_keys(session, subject.scope, services.secret_box)
    return KeysRotated(rotated=rotated)


@router.get("/calls", response_model=AiCallPage)
async def list_calls(
    subject: Admin,
    session: Session,
    conversation_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    provider: Annotated[str | None, Query(max_length=30)] = None,
    decision: Annotated[str | None, Query(max_length=30)] = None,
    errors_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AiCallPage:
    """The AI log, newest first."""
    flt = AiCallFilter(
        conversation_id=conversation_id,
        provider=provider,
        decision=decision,
        errors_only=errors_only,
        since=as_utc(since) if since else None,
        until=as_utc(until) if until else None,
    )
    rows, next_cursor = await service.list_calls(
        session, subject.scope, flt, limit=limit, cursor=cursor
    )
    return AiCallPage(
        items=[AiCallSummary.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get("/calls/{call_id}", response_model=AiCallOut)
async def get_call(call_id: PathId, subject: Admin, session: Session) -> AiCallOut:
    return AiCallOut.model_validate(await service.get_call(session, subject.scope, call_id))
