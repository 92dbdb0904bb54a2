"""HTTP: the WhatsApp Cloud API webhook (subscription handshake and notifications)."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from frontline.channels import service
from frontline.channels.base import ChannelType, InboundRequest, SignatureRejected
from frontline.channels.service import ChannelRuntime
from frontline.channels.webhooks import ingest_messages
from frontline.channels.whatsapp.adapter import (
    WebhookContent,
    WhatsAppChannelAdapter,
    WhatsAppChannelConfig,
)
from frontline.deps import Services, ServicesDep
from frontline.errors import Forbidden, Unauthorized
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages

log = logging.getLogger(__name__)

router = APIRouter(tags=["inbound"])


async def _adapter(
    services: Services, channel_id: uuid.UUID
) -> tuple[ChannelRuntime, WhatsAppChannelAdapter]:
    runtime = await service.runtime_for_webhook(
        services.db.sessionmaker,
        services.secret_box,
        channel_id,
        ChannelType.WHATSAPP,
        services.channel_cache,
    )
    config = WhatsAppChannelConfig.model_validate(runtime.config)
    adapter = WhatsAppChannelAdapter(config, services.adapter_options.outbound_timeout_seconds)
    return runtime, adapter


@router.get("/webhooks/whatsapp/{channel_id}", response_class=PlainTextResponse)
async def whatsapp_verify(
    channel_id: uuid.UUID,
    services: ServicesDep,
    mode: str | None = Query(default=None, alias="hub.mode"),
    token: str | None = Query(default=None, alias="hub.verify_token"),
    challenge: str = Query(default="", alias="hub.challenge", max_length=1000),
) -> PlainTextResponse:
    """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is the
    channel's verify token (403 otherwise)."""
    _runtime, adapter = await _adapter(services, channel_id)
    if not adapter.verify_challenge(mode, token):
        raise Forbidden("hub.verify_token does not match this channel's verify_token")
    return PlainTextResponse(challenge)


# Meta's notification (``{"object": "whatsapp_business_account", "entry": [...]}``), the
# bytes ``X-Hub-Signature-256`` signs; documented so clients (and the contract fuzzer) send one
_NOTIFICATION_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "object": {"type": "string"},
                        "entry": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["object", "entry"],
                }
            }
        },
    }
}


@router.post("/webhooks/whatsapp/{channel_id}", openapi_extra=_NOTIFICATION_DOC)
async def whatsapp_inbound(
    channel_id: uuid.UUID, request: Request, services: ServicesDep
) -> JSONResponse:
    """Messages and delivery statuses, signed with ``X-Hub-Signature-256``. Each message is
    stored (deduplicated by its ``wamid``) before the 200; malformed or unhandled entries
    are logged and acknowledged so Meta does not retry them forever."""
    body = await request.body()
    runtime, adapter = await _adapter(services, channel_id)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        content = adapter.parse(InboundRequest(headers=headers, body=body))
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    return JSONResponse(await _store(services, runtime, content))


async def _store(
    services: Services, runtime: ChannelRuntime, content: WebhookContent
) -> dict[str, int]:
    scope = TenantScope(runtime.tenant_id)
    stored, duplicates = await ingest_messages(
        services.db, runtime, content.messages, services.inbound_limits
    )
    updated = 0
    if content.statuses:
        async with services.db.transaction() as session:
            for report in content.statuses:
                updated += await messages.apply_delivery_report(
                    session,
                    scope,
                    runtime.id,
                    report.wamid,
                    report.status,
                    message_id=report.message_id,
                    reason=report.error,
                )
    if content.ignored:
        log.info(
            "whatsapp webhook entries ignored",
            extra={"channel_id": str(runtime.id), "ignored": content.ignored},
        )
    return {
        "stored": stored,
        "duplicates": duplicates,
        "statuses_applied": updated,
        "ignored": content.ignored,
    }
