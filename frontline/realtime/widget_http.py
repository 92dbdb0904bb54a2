"""The web chat widget's HTTP endpoints (the socket is in :mod:`frontline.realtime.widget`).

- ``POST /api/v1/widget/session``: start or resume a visitor's chat.
- ``POST /api/v1/widget/attachments``: a visitor uploads a file (multipart: ``key``,
  ``visitor_token``, ``file``), rate-limited like messages; the answer's id is then sent
  with a message (``message.send`` with ``attachments: [id]``).
- ``GET /api/v1/widget/attachments/{id}?key&exp&sig``: a file of the visitor's
  conversation, through the short-lived signed link their messages carry.

Only pages on the channel's allowed origins may call the POST endpoints (CORS); answers,
refusals included, carry the CORS headers so the widget can read why.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from frontline.attachments import service as attachments
from frontline.attachments.endpoints import file_response
from frontline.attachments.schemas import UploadOut
from frontline.channels.base import MAX_ATTACHMENTS_PER_MESSAGE
from frontline.channels.service import ChannelRuntime
from frontline.channels.web.adapter import WebChannelConfig
from frontline.contacts import flows as contact_flows
from frontline.contacts.flows import Profile
from frontline.deps import Services, ServicesDep
from frontline.errors import AppError, NotFound, Unauthorized, error_body
from frontline.kit.i18n import normalize_locale
from frontline.kit.params import PathId
from frontline.kit.repository import TenantScope
from frontline.models import ConversationStatus
from frontline.realtime.connection import own_origin
from frontline.realtime.visitors import (
    contact_external_id,
    identified_visitor_id,
    verify_user_hash,
)
from frontline.realtime.widget import (
    RATE_WINDOW_SECONDS,
    channel_config,
    load_visitor,
    operators_online,
    widget_channel,
    widget_state,
)

router = APIRouter()


# ---- HTTP: session ---------------------------------------------------------------------


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=100)
    visitor_token: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=20)
    # a signed-in user of the host site (``user_hash``: see ``visitors.user_hash``)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_hash: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    attributes: dict[str, Any] | None = None


def _cors_headers(origin: str | None) -> dict[str, str]:
    if origin is None:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


@router.options("/api/v1/widget/session", include_in_schema=False)
async def session_preflight(request: Request) -> Response:
    # the key is in the body, which a preflight does not carry: the real request is
    # checked against the channel's origins, so the preflight may answer any origin
    origin = request.headers.get("origin")
    return Response(status_code=204, headers=_cors_headers(origin))


@router.post(
    "/api/v1/widget/session",
    tags=["widget"],
    # the body is read by hand (its CORS-aware refusals); documented for clients and fuzzers
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SessionIn.model_json_schema()}},
        }
    },
)
async def widget_session(request: Request, services: ServicesDep) -> JSONResponse:
    """Start (or resume) a visitor's chat: the widget calls this first, with the visitor
    token it kept, and gets a (possibly new) token, the conversation and the widget's
    settings. Only pages on the channel's allowed origins may call it."""
    origin = request.headers.get("origin")
    try:
        raw = await request.json()
        body = SessionIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            error_body("invalid", f"{where}: {first.get('msg', 'invalid')}"),
            status_code=422,
            headers=_cors_headers(origin),
        )
    except ValueError:
        return JSONResponse(
            error_body("invalid", "body must be {key, visitor_token?, user_id?, user_hash?}"),
            status_code=422,
            headers=_cors_headers(origin),
        )
    channel = await widget_channel(services, body.key)
    config = channel_config(channel)
    if not config.allows(origin, own_origin(request)):
        # readable by the refused page (CORS headers), so the widget can hide itself
        # instead of retrying: the answer reveals nothing but the refusal
        return JSONResponse(
            error_body("forbidden", "this site is not allowed to use this widget"),
            status_code=403,
            headers=_cors_headers(origin),
        )
    try:
        visitor_id, token = await _visitor(services, channel, config, body)
    except AppError as exc:
        return _refusal(exc, origin)
    visitor = await load_visitor(services, channel, visitor_id)
    language = normalize_locale(body.language or config.language)
    payload = {
        "visitor_token": token,
        "visitor_id": visitor_id,
        "conversation_id": visitor.conversation_id,
        "status": visitor.status or ConversationStatus.BOT.value,
        "state": widget_state(visitor.status),
        "identified": body.user_id is not None,
        "operators_online": await operators_online(services, channel.tenant_id),
        "heartbeat_seconds": services.settings.realtime_heartbeat_seconds,
        "config": {
            "title": config.title,
            "greeting": config.greeting,
            "color": config.color,
            "position": config.position,
            "language": config.language or language,
        },
        "limits": {
            "max_message_chars": config.max_message_chars,
            "messages_per_minute": config.messages_per_minute,
            "max_file_bytes": services.attachments.limits.max_bytes,
            "max_files": MAX_ATTACHMENTS_PER_MESSAGE,
        },
    }
    return JSONResponse(payload, headers=_cors_headers(origin))


async def _visitor(
    services: Services, channel: ChannelRuntime, config: WebChannelConfig, body: SessionIn
) -> tuple[str, str | None]:
    """The visitor id and token of a session call. A signed-in user (verified ``user_hash``)
    gets their one visitor id on every device and their anonymous history merged in; a
    wrong or missing hash is refused (401) before anything is stored."""
    anonymous = services.visitor_tokens.verify(channel.id, body.visitor_token)
    if body.user_id is None:
        if config.require_identity:
            raise Unauthorized("this chat is for signed-in users: user_id and user_hash required")
        if anonymous is None:
            return services.visitor_tokens.issue(channel.id)
        return anonymous, body.visitor_token
    if not verify_user_hash(channel.secret, body.user_id, body.user_hash):
        raise Unauthorized("user_hash does not match user_id")
    visitor_id = identified_visitor_id(channel.id, body.user_id)
    profile = Profile(
        name=body.name, email=body.email, phone=body.phone, attributes=body.attributes
    )
    for attempt in (1, 2):
        try:
            async with services.db.transaction() as session:
                await contact_flows.identify(
                    session,
                    TenantScope(channel.tenant_id),
                    channel.id,
                    user_id=body.user_id,
                    external_id=contact_external_id(visitor_id),
                    anonymous_external_id=contact_external_id(anonymous) if anonymous else None,
                    profile=profile,
                )
            break
        except IntegrityError:
            # the user's first sign-in on two devices at once: the loser rolled back and
            # now finds the winner's contact
            if attempt == 2:
                raise
    return visitor_id, services.visitor_tokens.token_for(channel.id, visitor_id)


# ---- files -----------------------------------------------------------------------------


@router.options("/api/v1/widget/attachments", include_in_schema=False)
async def upload_preflight(request: Request) -> Response:
    return Response(status_code=204, headers=_cors_headers(request.headers.get("origin")))


def _refusal(exc: AppError, origin: str | None, **headers: str) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message),
        status_code=exc.status_code,
        headers={**_cors_headers(origin), **headers},
    )


@router.post(
    "/api/v1/widget/attachments",
    tags=["widget"],
    status_code=201,
    response_model=UploadOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["key", "visitor_token", "file"],
                        "properties": {
                            "key": {"type": "string"},
                            "visitor_token": {"type": "string"},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    },
)
async def widget_upload(request: Request, services: ServicesDep) -> JSONResponse:
    """A visitor's file, stored at once; send its id with the next message."""
    origin = request.headers.get("origin")
    limit = services.attachments.limits.max_bytes
    try:
        form = await request.form(max_files=1, max_fields=4)
    except MultiPartException as exc:
        return _refusal(AppError(f"invalid upload: {exc.message}", 422, "invalid"), origin)
    file, key, token = form.get("file"), form.get("key"), form.get("visitor_token")
    try:
        if not isinstance(file, UploadFile) or not isinstance(key, str):
            raise AppError("the form needs key, visitor_token and file", 422, "invalid")
        channel = await widget_channel(services, key)
        config = channel_config(channel)
        if not config.allows(origin, own_origin(request)):
            raise AppError("this site is not allowed to use this widget", 403, "forbidden")
        visitor_id = services.visitor_tokens.verify(
            channel.id, token if isinstance(token, str) else None
        )
        if visitor_id is None:
            raise AppError("invalid visitor token", 401, "unauthorized")
        retry_after = await services.rate_limiter.hit(
            f"widget-upload:{channel.id}:{visitor_id}",
            config.messages_per_minute,
            RATE_WINDOW_SECONDS,
        )
        if retry_after is not None:
            return _refusal(
                AppError(
                    f"at most {config.messages_per_minute} files a minute", 429, "rate_limited"
                ),
                origin,
                **{"Retry-After": str(max(1, int(retry_after + 0.999)))},
            )
        if file.size is not None and file.size > limit:
            raise AppError(f"a file is at most {limit} bytes", 413, "payload_too_large")
        data = await file.read(limit + 1)
        async with services.db.transaction() as session:
            row = await attachments.upload(
                session,
                TenantScope(channel.tenant_id),
                channel_id=channel.id,
                uploader=contact_external_id(visitor_id),
                filename=file.filename,
                data=data,
            )
            out = UploadOut(
                id=row.id,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size or 0,
            )
    except AppError as exc:
        return _refusal(exc, origin)
    finally:
        await form.close()
    return JSONResponse(out.model_dump(), status_code=201, headers=_cors_headers(origin))


@router.get(
    "/api/v1/widget/attachments/{attachment_id}",
    tags=["widget"],
    response_class=Response,
    # served with its sniffed type (image/png, application/pdf, ...)
    responses={
        200: {"description": "the file", "content": {"*/*": {}}},
        403: {"description": "the link is forged or has expired"},
    },
)
async def widget_file(
    attachment_id: PathId,
    services: ServicesDep,
    key: str = "",
    exp: int = 0,
    sig: str = "",
) -> Response:
    """A file through a signed link (403 when the link is forged or expired)."""
    channel = await widget_channel(services, key)
    if not services.attachments.links.verify(channel.id, attachment_id, exp, sig):
        return JSONResponse(
            error_body("forbidden", "the link is invalid or has expired"), status_code=403
        )
    async with services.db.reader() as session:
        row, data = await attachments.open_file(
            session, TenantScope(channel.tenant_id), attachment_id, channel_id=channel.id
        )
    if row.channel_id != channel.id:
        raise NotFound("attachment not found")
    return file_response(row, data, cache_seconds=max(0, min(exp - int(time.time()), 86400)))
