"""HTTP: the Avito Messenger webhook."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from frontline.channels import service
from frontline.channels.avito.adapter import AvitoChannelAdapter, AvitoChannelConfig
from frontline.channels.base import ChannelType, SignatureRejected
from frontline.channels.webhooks import ingest_messages
from frontline.deps import ServicesDep
from frontline.errors import Unauthorized

log = logging.getLogger(__name__)

router = APIRouter(tags=["inbound"])


@router.post("/webhooks/avito/{channel_id}")
async def avito_inbound(
    channel_id: uuid.UUID,
    request: Request,
    services: ServicesDep,
    token: str | None = Query(default=None, max_length=200),
) -> JSONResponse:
    """New Avito messages. Authenticated by the channel secret in the URL's ``token``
    (or the ``X-Frontline-Token`` header): Avito does not sign its calls. The message is
    stored (deduplicated by its id) before the 200; our own, system and malformed
    notifications are acknowledged and ignored."""
    body = await request.body()
    runtime = await service.runtime_for_webhook(
        services.db.sessionmaker,
        services.secret_box,
        channel_id,
        ChannelType.AVITO,
        services.channel_cache,
    )
    config = AvitoChannelConfig.model_validate(runtime.config)
    adapter = AvitoChannelAdapter(
        config, runtime.secret, services.adapter_options.outbound_timeout_seconds
    )
    try:
        content = adapter.parse(token or request.headers.get("x-frontline-token"), body)
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    stored, duplicates = await ingest_messages(
        services.db, runtime, content.messages, services.inbound_limits
    )
    if content.ignored:
        log.info("avito webhook ignored", extra={"channel_id": str(runtime.id)})
    return JSONResponse({"stored": stored, "duplicates": duplicates, "ignored": content.ignored})
