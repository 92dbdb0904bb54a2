"""Operator alerts in Telegram: a workspace setting names a bot and a staff chat; every
handoff (the AI escalates or the customer asks for a person) posts the customer, the
channel, the reason, the AI's summary and a console link there, with an inline "Accept"
button. A press assigns the conversation to the member whose Telegram user id is linked
to their account (``PUT /api/v1/members/{user_id}/telegram``).

The alert is a durable job enqueued in the handoff's transaction (see :mod:`.hooks`): the
inbound path never waits on Telegram, and a Telegram outage delays alerts, never messages.
The bot's webhook is ``/api/v1/webhooks/telegram-alerts/{tenant_id}`` with its own secret.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels import service as channels
from frontline.channels.base import ChannelError, InboundRequest, SignatureRejected
from frontline.channels.telegram.botapi import DEFAULT_API_BASE, BotApi
from frontline.channels.telegram.hooks import ACCEPT_PREFIX, SETTINGS_KEY
from frontline.channels.telegram.retry import job_retry_policy
from frontline.channels.telegram.texts import text
from frontline.channels.telegram.updates import Callback, ParsedUpdate, answer_callback
from frontline.contacts import service as contacts
from frontline.conversations import service as conversations
from frontline.errors import NotFound, Unprocessable
from frontline.jobs.registry import JobContext
from frontline.kit.crypto import SecretBox, constant_time_equals, new_token
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import Conversation, ConversationStatus, SenderType
from frontline.tenants import service as tenants

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MASK = "**********"
_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$")
_CHAT = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")


class AlertSettingsIn(BaseModel):
    """The staff chat's bot. ``bot_token`` may be left out to keep the stored one."""

    model_config = ConfigDict(extra="forbid")

    bot_token: SecretStr | None = None
    chat_id: str = Field(description="the staff chat: a numeric id (-100...) or @channelname")
    api_base_url: AnyHttpUrl = AnyHttpUrl(DEFAULT_API_BASE)
    mode: Literal["webhook", "poll"] = "webhook"
    # off: the settings stay, handoffs post nothing (the test alert still goes out)
    enabled: bool = True

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat(cls, value: object) -> str:
        raw = str(value).strip() if isinstance(value, (int, str)) else ""
        if not _CHAT.fullmatch(raw):
            raise ValueError("chat_id must be a Telegram chat id (e.g. -1001234567890) or @name")
        return raw

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("bot_token must look like 123456789:AAE... (from @BotFather)")
        return value


class AlertSettingsOut(BaseModel):
    configured: bool = False  # a bot and a staff chat are stored
    enabled: bool  # configured and switched on: handoffs are posted
    chat_id: str | None = None
    api_base_url: str | None = None
    mode: str | None = None
    bot_token: str | None = None  # masked
    webhook_url: str | None = None


class TestAlertOut(BaseModel):
    ok: bool
    chat_id: str
    message_id: int | None = None


class TelegramLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    telegram_user_id: int | None = Field(
        description="the member's numeric Telegram user id (null unlinks)", gt=0, lt=2**53
    )


def is_enabled(stored: dict[str, Any] | None) -> bool:
    """Whether handoffs are posted (settings stored before the switch existed are on)."""
    return bool(stored) and bool((stored or {}).get("enabled", True))


def alerts_webhook_url(public_url: str, tenant_id: uuid.UUID) -> str:
    return f"{public_url.rstrip('/')}/api/v1/webhooks/telegram-alerts/{tenant_id}"


def _out(stored: dict[str, Any] | None, public_url: str, tenant_id: uuid.UUID) -> AlertSettingsOut:
    if not stored:
        return AlertSettingsOut(enabled=False)
    return AlertSettingsOut(
        configured=True,
        enabled=is_enabled(stored),
        chat_id=stored["chat_id"],
        api_base_url=stored["api_base_url"],
        mode=stored["mode"],
        bot_token=MASK,
        webhook_url=alerts_webhook_url(public_url, tenant_id),
    )


async def get_settings(
    session: AsyncSession, scope: TenantScope, public_url: str
) -> AlertSettingsOut:
    tenant = await tenants.get_tenant(session, scope)
    return _out((tenant.settings or {}).get(SETTINGS_KEY), public_url, scope.tenant_id)


async def save_settings(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    body: AlertSettingsIn,
    public_url: str,
    call_seconds: float,
) -> AlertSettingsOut:
    """Store the alert bot (token and webhook secret encrypted) and point the bot at our
    webhook (``setWebhook`` for button presses) or remove its webhook (poll mode); a
    refusal by Telegram is a 422 and nothing is stored."""
    tenant = await tenants.get_tenant(session, scope)
    settings = dict(tenant.settings or {})
    current = settings.get(SETTINGS_KEY) or {}
    if body.bot_token is not None and body.bot_token.get_secret_value() != MASK:
        token = body.bot_token.get_secret_value()
    elif current:
        token = box.decrypt(current["bot_token"])
    else:
        raise Unprocessable("bot_token is required")
    secret = box.decrypt(current["secret"]) if current.get("secret") else new_token("fla_", 32)
    api = BotApi(token, str(body.api_base_url), call_seconds)
    try:
        if body.mode == "poll":
            await api.call("deleteWebhook", {"drop_pending_updates": False})
        else:
            await api.call(
                "setWebhook",
                {
                    "url": alerts_webhook_url(public_url, scope.tenant_id),
                    "secret_token": secret,
                    "allowed_updates": ["callback_query"],
                },
            )
    except ChannelError as exc:
        raise Unprocessable(f"Telegram refused the alert bot: {exc}") from None
    settings[SETTINGS_KEY] = {
        "bot_token": box.encrypt(token),
        "secret": box.encrypt(secret),
        "chat_id": body.chat_id,
        "api_base_url": str(body.api_base_url),
        "mode": body.mode,
        "enabled": body.enabled,
    }
    if "offset" in current:
        settings[SETTINGS_KEY]["offset"] = current["offset"]
    tenant.settings = settings
    await session.flush()
    return _out(settings[SETTINGS_KEY], public_url, scope.tenant_id)


async def send_test(
    session: AsyncSession, scope: TenantScope, box: SecretBox, call_seconds: float
) -> TestAlertOut:
    """Post a test message to the staff chat with the stored bot (switched on or not), so
    an admin sees at once whether the token and the chat id work; Telegram's refusal
    ("chat not found", "bot was kicked", a revoked token) is a 422 carrying its words."""
    tenant = await tenants.get_tenant(session, scope)
    stored = (tenant.settings or {}).get(SETTINGS_KEY)
    if not stored:
        raise Unprocessable("Telegram alerts are not set up: save a bot token and a chat first")
    locale = tenant.locale
    message = f"🔔 {text('alert.test', locale)}"
    try:
        result = await bot_for(stored, box, call_seconds).call(
            "sendMessage", {"chat_id": stored["chat_id"], "text": message}
        )
    except ChannelError as exc:
        raise Unprocessable(
            f"Telegram did not deliver the test alert: {exc}", code="telegram_refused"
        ) from None
    message_id = result.get("message_id") if isinstance(result, dict) else None
    return TestAlertOut(
        ok=True,
        chat_id=stored["chat_id"],
        message_id=message_id if isinstance(message_id, int) else None,
    )


async def delete_settings(session: AsyncSession, scope: TenantScope) -> None:
    tenant = await tenants.get_tenant(session, scope)
    settings = dict(tenant.settings or {})
    settings.pop(SETTINGS_KEY, None)
    tenant.settings = settings
    await session.flush()


def bot_for(stored: dict[str, Any], box: SecretBox, call_seconds: float) -> BotApi:
    return BotApi(box.decrypt(stored["bot_token"]), stored["api_base_url"], call_seconds)


async def save_offset(db: Database, tenant_id: uuid.UUID, offset: int) -> None:
    """The alert bot's ``getUpdates`` offset (poll mode), kept with its setting."""
    scope = TenantScope(tenant_id)
    async with db.transaction() as session:
        tenant = await tenants.get_tenant(session, scope)
        settings = dict(tenant.settings or {})
        if not settings.get(SETTINGS_KEY):
            return
        settings[SETTINGS_KEY] = {**settings[SETTINGS_KEY], "offset": offset}
        tenant.settings = settings
        await session.flush()


async def summary_for_alert(
    session: AsyncSession, scope: TenantScope, conversation: Conversation
) -> str:
    """The copilot's handoff summary when it is ready by now (with what the customer still
    needs), else the AI's issue summary of its latest turn, else the customer's latest
    words."""
    stored = conversations.handoff_summary(conversation) or {}
    ready = stored.get("summary")
    if isinstance(ready, str) and ready.strip():
        needs = [str(n) for n in stored.get("needs") or [] if str(n).strip()]
        return ready.strip() + "".join(f"\n• {n}" for n in needs[:5])
    conversation_id = conversation.id
    rows = await messages.visible_messages(session, scope, conversation_id, limit=20)
    for message in reversed(rows):
        summary = (message.meta or {}).get("issue_summary")
        if isinstance(summary, str) and summary.strip():
            return summary.strip()
    for message in reversed(rows):
        if message.sender_type == SenderType.CONTACT.value and message.text.strip():
            return message.text.strip()
    return ""


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


async def send_alert(ctx: JobContext, box: SecretBox, public_url: str, call_seconds: float) -> None:
    """The alert job: the staff chat gets the handoff with an "Accept" button."""
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    conversation_id = int(ctx.payload["conversation_id"])
    async with ctx.db.reader() as session:
        tenant = await tenants.get_tenant(session, scope)
        stored = (tenant.settings or {}).get(SETTINGS_KEY)
        if stored is None or not is_enabled(stored):
            return  # alerts were switched off meanwhile
        conversation = await conversations.get(session, scope, conversation_id)
        if conversation.status != ConversationStatus.PENDING.value:
            return  # already taken (or handed back) before the alert went out
        contact = await contacts.get_contact(session, scope, conversation.contact_id)
        channel = await channels.get_channel(session, scope, conversation.channel_id)
        summary = await summary_for_alert(session, scope, conversation)
    locale = tenant.locale
    who = contact.name or contact.email or contact.phone or text("alert.anonymous", locale)
    link = f"{public_url.rstrip('/')}/console/conversations/{conversation_id}"
    lines = [
        f"🔔 <b>{html.escape(text('alert.title', locale))}</b> #{conversation_id}",
        f"{text('alert.customer', locale)}: {html.escape(_clip(who, 200))}",
        f"{text('alert.channel', locale)}: {html.escape(channel.name)} ({channel.type})",
    ]
    if conversation.handoff_reason:
        reason = _clip(conversation.handoff_reason, 300)
        lines.append(f"{text('alert.reason', locale)}: {html.escape(reason)}")
    if summary:
        lines.append(f"{text('alert.summary', locale)}: {html.escape(_clip(summary, 1500))}")
    lines.append(f'<a href="{html.escape(link)}">{text("alert.open", locale)}</a>')
    button = {
        "text": text("alert.accept", locale),
        "callback_data": f"{ACCEPT_PREFIX}:{conversation_id}",
    }
    with job_retry_policy():
        await bot_for(stored, box, call_seconds).call(
            "sendMessage",
            {
                "chat_id": stored["chat_id"],
                "text": "\n".join(lines),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
                "reply_markup": {"inline_keyboard": [[button]]},
            },
        )


async def stored_for_webhook(
    db: Database, tenant_id: uuid.UUID
) -> tuple[dict[str, Any], str] | None:
    """The tenant's alert settings and locale (``None``: no such tenant or no alerts)."""
    async with db.reader() as session:
        tenant = await tenants.by_slug_or_id(session, str(tenant_id))
        if tenant is None:
            return None
        stored = (tenant.settings or {}).get(SETTINGS_KEY)
        return (dict(stored), tenant.locale) if stored else None


def verify(stored: dict[str, Any], box: SecretBox, request: InboundRequest) -> None:
    token = request.headers.get(SECRET_HEADER, "")
    if not token or not constant_time_equals(token, box.decrypt(stored["secret"])):
        raise SignatureRejected("invalid X-Telegram-Bot-Api-Secret-Token")


async def handle_accept(
    db: Database, tenant_id: uuid.UUID, locale: str, callback: Callback
) -> dict[str, Any]:
    """ "Accept" pressed in the staff chat: the linked member takes the conversation if it
    is still waiting; everyone else is told why not."""
    try:
        conversation_id = int(callback.data.split(":", 1)[1])
    except (IndexError, ValueError):
        return answer_callback(callback.id, text("button.unknown", locale))
    scope = TenantScope(tenant_id)
    async with db.transaction() as session:
        user_id = await tenants.member_for_telegram(session, scope, callback.user_id)
        if user_id is None:
            return answer_callback(callback.id, text("alert.unlinked", locale))
        try:
            conversation = await conversations.get(session, scope, conversation_id)
        except NotFound:
            return answer_callback(callback.id, text("button.unknown", locale))
        if conversation.assignee_id == user_id:
            return answer_callback(callback.id, text("alert.accepted", locale))
        if conversation.status != ConversationStatus.PENDING.value or conversation.assignee_id:
            return answer_callback(callback.id, text("alert.taken", locale))
        await conversations.assign(
            session, scope, conversation_id, user_id, assignee_is_member=True
        )
    return answer_callback(callback.id, text("alert.accepted", locale))


async def handle_update(
    db: Database, tenant_id: uuid.UUID, locale: str, parsed: ParsedUpdate
) -> dict[str, Any] | None:
    """One update of the alert bot (only button presses matter)."""
    callback = parsed.callback
    if callback is None:
        return None
    if callback.data.startswith(f"{ACCEPT_PREFIX}:"):
        return await handle_accept(db, tenant_id, locale, callback)
    return answer_callback(callback.id)
