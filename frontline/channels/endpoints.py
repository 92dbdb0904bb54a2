"""HTTP: channel management (admins) and the inbound endpoints of the API and e-mail channels."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from frontline.audit import service as audit
from frontline.auth.deps import Admin, Operator
from frontline.channels import service
from frontline.channels.api.adapter import ApiMessageIn
from frontline.channels.base import ChannelType, InboundRequest, InvalidPayload, SignatureRejected
from frontline.channels.email.adapter import EmailInbound
from frontline.channels.registry import REGISTRY
from frontline.channels.schemas import (
    ChannelHealth,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    ChannelSummary,
    ChannelWithSecret,
    InboundAccepted,
)
from frontline.conversations import flows
from frontline.conversations.limits import OverLimit
from frontline.deps import Services, ServicesDep, Session
from frontline.errors import Unauthorized, Unprocessable, error_body
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import Channel

router = APIRouter(tags=["channels"])
# the inbound endpoints, mounted ahead of every other API route (see frontline.api)
inbound_router = APIRouter(tags=["channels"])


@router.get("/channels", response_model=list[ChannelOut])
async def list_channels(
    subject: Admin, session: Session, services: ServicesDep
) -> list[ChannelOut]:
    rows = await service.list_channels(session, subject.scope)
    return [service.to_out(c, services.secret_box) for c in rows]


@router.get("/inbox/channels", response_model=list[ChannelSummary])
async def inbox_channels(subject: Operator, session: Session) -> list[ChannelSummary]:
    """The workspace's channels by name, for operators' inbox filters (no configuration)."""
    rows = await service.list_channels(session, subject.scope)
    return [ChannelSummary(id=c.id, name=c.name, type=ChannelType(c.type)) for c in rows]


@router.post("/channels", response_model=ChannelWithSecret, status_code=status.HTTP_201_CREATED)
async def create_channel(
    body: ChannelIn, subject: Admin, session: Session, services: ServicesDep
) -> ChannelWithSecret:
    try:
        channel, secret = await service.create_channel(
            session,
            subject.scope,
            services.secret_box,
            channel_type=body.type,
            name=body.name,
            config=body.config,
        )
    except InvalidPayload as exc:
        raise _invalid(exc) from None
    await _register_webhook(services, channel)
    await audit.record(
        session, subject.scope, subject, "channels.create", f"{body.type}:{channel.id}"
    )
    out = service.to_out(channel, services.secret_box)
    return ChannelWithSecret(**out.model_dump(), secret=secret)


@router.get("/channels/{channel_id}", response_model=ChannelOut)
async def get_channel(
    channel_id: uuid.UUID, subject: Admin, session: Session, services: ServicesDep
) -> ChannelOut:
    return service.to_out(
        await service.get_channel(session, subject.scope, channel_id), services.secret_box
    )


@router.get("/channels/{channel_id}/health", response_model=ChannelHealth)
async def channel_health(channel_id: uuid.UUID, subject: Admin, session: Session) -> ChannelHealth:
    """Delivery health of one channel of the workspace: last inbound, last outbound, final
    failures in the last 24 hours with the latest reason. A mailbox's IMAP state is at
    ``GET .../mailbox``, a Telegram bot's webhook or poll state at ``GET .../telegram``."""
    channel = await service.get_channel(session, subject.scope, channel_id)
    stats = await messages.channel_delivery(session, subject.scope, channel.id, timedelta(hours=24))
    return ChannelHealth(
        channel_id=channel.id,
        type=ChannelType(channel.type),
        is_active=channel.is_active,
        **stats,
    )


@router.patch("/channels/{channel_id}", response_model=ChannelOut)
async def update_channel(
    channel_id: uuid.UUID,
    body: ChannelPatch,
    subject: Admin,
    session: Session,
    services: ServicesDep,
) -> ChannelOut:
    try:
        channel = await service.update_channel(
            session,
            subject.scope,
            services.secret_box,
            channel_id,
            name=body.name,
            config=body.config,
            is_active=body.is_active,
            cache=services.channel_cache,
        )
    except InvalidPayload as exc:
        raise _invalid(exc) from None
    if body.config is not None or body.is_active:
        await _register_webhook(services, channel)
    await audit.record(session, subject.scope, subject, "channels.update", str(channel_id))
    return service.to_out(channel, services.secret_box)


@router.post("/channels/{channel_id}/rotate-secret", response_model=ChannelWithSecret)
async def rotate_secret(
    channel_id: uuid.UUID, subject: Admin, session: Session, services: ServicesDep
) -> ChannelWithSecret:
    channel, secret = await service.rotate_secret(
        session, subject.scope, services.secret_box, channel_id, cache=services.channel_cache
    )
    await _register_webhook(services, channel)
    await audit.record(session, subject.scope, subject, "channels.rotate_secret", str(channel_id))
    out = service.to_out(channel, services.secret_box)
    return ChannelWithSecret(**out.model_dump(), secret=secret)


async def _register_webhook(services: Services, channel: Channel) -> None:
    await service.register_webhook(
        services.secret_box, channel, services.settings.public_url, services.adapter_options
    )


def _invalid(exc: InvalidPayload) -> Unprocessable:
    """A refused config as a 422 whose ``fields`` locate each error in the request body
    (``["body", "config", "bot_token"]``), like a request validation error, so the console
    shows each one under its input; the message still lists them all for API clients."""
    details = "; ".join(f"{'.'.join(str(p) for p in f['loc'])}: {f['message']}" for f in exc.fields)
    fields = [{**f, "loc": ["body", "config", *f["loc"]]} for f in exc.fields]
    return Unprocessable(f"{exc}: {details}", fields=fields)


async def _receive(
    services: Services, request: Request, channel_id: uuid.UUID, kind: ChannelType
) -> JSONResponse:
    """Verify, parse, store in one transaction, acknowledge. Nothing is written unless the
    request is authentic and valid."""
    body = await request.body()
    runtime = await service.runtime_for_webhook(
        services.db.sessionmaker, services.secret_box, channel_id, kind, services.channel_cache
    )
    adapter = service.adapter_for(runtime, services.adapter_options)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        parsed = adapter.verify_and_parse(InboundRequest(headers=headers, body=body))
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    except InvalidPayload as exc:
        return JSONResponse(error_body("invalid", str(exc), fields=exc.fields), status_code=422)
    scope = TenantScope(runtime.tenant_id)
    result = None
    for inbound in parsed:
        result = await flows.ingest(
            services.db,
            scope,
            runtime.id,
            runtime.type.value,
            inbound,
            limits=services.inbound_limits,
            # the API's caller sends again after Retry-After; an e-mail provider would not
            over_limit=OverLimit.REFUSE if kind is ChannelType.API else OverLimit.STORE,
        )
    assert result is not None
    payload = InboundAccepted(
        message_id=result.message_id,
        conversation_id=result.conversation_id,
        duplicate=result.duplicate,
    )
    return JSONResponse(payload.model_dump(), status_code=200 if result.duplicate else 202)


_INBOUND_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ApiMessageIn.model_json_schema()}},
    }
}


@inbound_router.post(
    "/channels/{channel_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundAccepted,
    tags=["inbound"],
    openapi_extra=_INBOUND_DOC,
    responses={200: {"description": "duplicate: already stored", "model": InboundAccepted}},
)
async def api_inbound(
    channel_id: uuid.UUID, request: Request, services: ServicesDep
) -> JSONResponse:
    """Inbound message on an API channel; ``Authorization: Bearer <channel secret>``."""
    return await _receive(services, request, channel_id, ChannelType.API)


# the body the signature covers, documented so clients (and the contract fuzzer) send one
_EMAIL_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EmailInbound.model_json_schema()}},
    }
}


@inbound_router.post(
    "/webhooks/email/{channel_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundAccepted,
    tags=["inbound"],
    openapi_extra=_EMAIL_DOC,
    responses={200: {"description": "duplicate: already stored", "model": InboundAccepted}},
)
async def email_inbound(
    channel_id: uuid.UUID, request: Request, services: ServicesDep
) -> JSONResponse:
    """Inbound e-mail, signed with ``X-Frontline-Signature``."""
    return await _receive(services, request, channel_id, ChannelType.EMAIL)


class ChannelTypeOut(BaseModel):
    type: str
    # the JSON Schema of the type's config (secrets are ``writeOnly``, ``format: password``)
    config_schema: dict[str, Any]


@router.get("/channel-types", response_model=list[ChannelTypeOut])
async def channel_types(_subject: Admin) -> list[ChannelTypeOut]:
    """Every channel type this server knows, with its config's schema (the console builds
    its channel forms from these)."""
    return [
        ChannelTypeOut(type=kind.value, config_schema=spec.config_model.model_json_schema())
        for kind, spec in REGISTRY.items()
    ]
