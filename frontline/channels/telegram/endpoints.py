"""HTTP: the Telegram webhook."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, Response

from frontline.channels import service
from frontline.channels.base import ChannelType, InboundRequest, SignatureRejected
from frontline.channels.registry import build_adapter
from frontline.channels.telegram.adapter import TelegramChannelAdapter
from frontline.channels.telegram.inbound import handle_update
from frontline.deps import ServicesDep
from frontline.errors import Unauthorized

router = APIRouter(tags=["inbound"])


@router.post(
    "/webhooks/telegram/{channel_id}",
    responses={
        200: {"description": "accepted, stored once, or ignored (see the logs)"},
        401: {"description": "wrong X-Telegram-Bot-Api-Secret-Token; nothing stored"},
        404: {"description": "no active Telegram channel with this id"},
    },
)
async def telegram_webhook(
    channel_id: uuid.UUID, request: Request, services: ServicesDep
) -> Response:
    """An ``Update`` from Telegram (set up by ``setWebhook`` when the channel is created).
    The message is stored before the 200; an update Frontline does not handle is answered
    200 too (Telegram would redeliver it otherwise) and logged. A button press is answered
    in the response body (``answerCallbackQuery``)."""
    body = await request.body()
    runtime = await service.runtime_for_webhook(
        services.db.sessionmaker,
        services.secret_box,
        channel_id,
        ChannelType.TELEGRAM,
        services.channel_cache,
    )
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, services.adapter_options)
    assert isinstance(adapter, TelegramChannelAdapter)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        parsed = adapter.verify_and_parse_update(InboundRequest(headers=headers, body=body))
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    outcome = await handle_update(services.db, runtime, adapter, parsed)
    if outcome.reply is None:
        return Response(status_code=200)
    return Response(json.dumps(outcome.reply, ensure_ascii=False), media_type="application/json")
