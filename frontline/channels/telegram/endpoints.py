"""HTTP: the Telegram webhooks (customer bots, the alert bot) and the alert settings."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from frontline.auth.deps import Admin, Operator
from frontline.channels import service
from frontline.channels.base import ChannelType, InboundRequest, SignatureRejected
from frontline.channels.registry import build_adapter
from frontline.channels.telegram import alerts
from frontline.channels.telegram.adapter import TelegramChannelAdapter
from frontline.channels.telegram.inbound import handle_update
from frontline.channels.telegram.status import TelegramState, telegram_state
from frontline.channels.telegram.updates import parse_body
from frontline.deps import ServicesDep, Session
from frontline.errors import Forbidden, NotFound, Unauthorized
from frontline.models import Role
from frontline.tenants import service as tenants

router = APIRouter(tags=["inbound"])
# the webhooks, mounted ahead of every other API route (see frontline.api)
inbound_router = APIRouter(tags=["inbound"])


@inbound_router.post(
    "/webhooks/telegram/{channel_id}",
    # the body is empty, or a Bot API method call as JSON (answerCallbackQuery) for a
    # button press: a plain Response, so the 200 is not documented as always JSON
    response_class=Response,
    responses={
        200: {
            "description": "accepted, stored once, or ignored (see the logs); the body is "
            "empty or, for a button press, a JSON answerCallbackQuery call"
        },
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
    adapter = service.adapter_for(runtime, services.adapter_options)
    assert isinstance(adapter, TelegramChannelAdapter)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        parsed = adapter.verify_and_parse_update(InboundRequest(headers=headers, body=body))
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    outcome = await handle_update(services.db, runtime, adapter, parsed, services.inbound_limits)
    if outcome.reply is None:
        return Response(status_code=200)
    return Response(json.dumps(outcome.reply, ensure_ascii=False), media_type="application/json")


@inbound_router.post(
    "/webhooks/telegram-alerts/{tenant_id}",
    response_class=Response,
    responses={
        200: {
            "description": "handled or ignored; the body is empty or, for a button press, "
            "a JSON answerCallbackQuery call"
        },
        401: {"description": "wrong X-Telegram-Bot-Api-Secret-Token"},
        404: {"description": "no workspace with Telegram alerts under this id"},
    },
)
async def telegram_alerts_webhook(
    tenant_id: uuid.UUID, request: Request, services: ServicesDep
) -> Response:
    """Button presses of the workspace's alert bot ("Accept" on a handoff alert)."""
    body = await request.body()
    found = await alerts.stored_for_webhook(services.db, tenant_id)
    if found is None:
        raise NotFound("no Telegram alerts for this workspace")
    stored, locale = found
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        alerts.verify(stored, services.secret_box, InboundRequest(headers=headers, body=body))
    except SignatureRejected as exc:
        raise Unauthorized(str(exc)) from None
    reply = await alerts.handle_update(services.db, tenant_id, locale, parse_body(body))
    return _answer(reply)


def _answer(reply: dict[str, Any] | None) -> Response:
    if reply is None:
        return Response(status_code=200)
    return Response(json.dumps(reply, ensure_ascii=False), media_type="application/json")


@router.get("/channels/{channel_id}/telegram", response_model=TelegramState, tags=["channels"])
async def channel_state(
    channel_id: uuid.UUID, subject: Admin, session: Session, services: ServicesDep
) -> TelegramState:
    """How Telegram delivers this bot's updates: in webhook mode what ``getWebhookInfo``
    reports (the URL, updates waiting, Telegram's last delivery error), in poll mode the
    offset reached. 404 for a channel of another type or another workspace."""
    channel = await service.get_channel(session, subject.scope, channel_id)
    if channel.type != ChannelType.TELEGRAM.value:
        raise NotFound("Telegram channel not found")
    runtime = service.runtime(channel, services.secret_box)
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, services.adapter_options)
    assert isinstance(adapter, TelegramChannelAdapter)
    stored = await service.load_state(session, subject.scope, channel.id)
    return await telegram_state(
        adapter.api,
        channel.id,
        str(runtime.config.get("mode", "webhook")),
        service.webhook_url(services.settings.public_url, channel),
        stored,
    )


@router.get("/telegram/alerts", response_model=alerts.AlertSettingsOut, tags=["telegram"])
async def get_alerts(
    subject: Admin, session: Session, services: ServicesDep
) -> alerts.AlertSettingsOut:
    """The workspace's operator alerts in Telegram (the bot token masked)."""
    return await alerts.get_settings(session, subject.scope, services.settings.public_url)


@router.put("/telegram/alerts", response_model=alerts.AlertSettingsOut, tags=["telegram"])
async def put_alerts(
    body: alerts.AlertSettingsIn, subject: Admin, session: Session, services: ServicesDep
) -> alerts.AlertSettingsOut:
    """Set the alert bot and the staff chat; Telegram is told where to send button
    presses (``setWebhook``) - a refusal is a 422 and nothing is stored."""
    return await alerts.save_settings(
        session,
        subject.scope,
        services.secret_box,
        body,
        services.settings.public_url,
        services.adapter_options.outbound_timeout_seconds,
    )


@router.post("/telegram/alerts/test", response_model=alerts.TestAlertOut, tags=["telegram"])
async def test_alert(
    subject: Admin, session: Session, services: ServicesDep
) -> alerts.TestAlertOut:
    """Post a test message to the staff chat now; Telegram's refusal is a 422 with its
    reason (``chat not found``, ``bot was kicked from the group chat``...)."""
    return await alerts.send_test(
        session,
        subject.scope,
        services.secret_box,
        services.adapter_options.outbound_timeout_seconds,
    )


@router.delete("/telegram/alerts", status_code=204, tags=["telegram"])
async def delete_alerts(subject: Admin, session: Session) -> Response:
    await alerts.delete_settings(session, subject.scope)
    return Response(status_code=204)


@router.put("/members/{user_id}/telegram", status_code=204, tags=["telegram"])
async def link_telegram(
    user_id: uuid.UUID, body: alerts.TelegramLinkIn, subject: Operator, session: Session
) -> Response:
    """Link a member to their Telegram user id (an admin for anyone, a member for
    themselves): their "Accept" on an alert then assigns the conversation to them."""
    if subject.user_id != user_id and not subject.has_role(Role.ADMIN):
        raise Forbidden("only an admin may link another member's Telegram account")
    await tenants.link_telegram(session, subject.scope, user_id, body.telegram_user_id)
    return Response(status_code=204)
