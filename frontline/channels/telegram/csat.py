"""Customer satisfaction on Telegram: when a conversation on a Telegram channel is
resolved, a job sends the customer a 1-5 inline keyboard; a press (``csat:<id>:<n>``) is
stored as the conversation's rating, only from the chat the conversation belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels import service as channels
from frontline.channels.base import ChannelError, ChannelType, RateLimited
from frontline.channels.registry import AdapterOptions, build_adapter
from frontline.channels.telegram.adapter import TelegramChannelAdapter
from frontline.channels.telegram.hooks import CSAT_PREFIX
from frontline.channels.telegram.texts import text
from frontline.channels.telegram.updates import Callback, answer_callback
from frontline.contacts import service as contacts
from frontline.conversations import service as conversations
from frontline.errors import AppError, Conflict
from frontline.jobs.registry import JobContext
from frontline.jobs.retry import PermanentJobError, RetryAfter
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages
from frontline.models import Conversation, ConversationStatus, SenderType
from frontline.tenants import service as tenants

PREFIX = CSAT_PREFIX


async def _chat_and_locale(
    session: AsyncSession, scope: TenantScope, conversation: Conversation
) -> tuple[str | None, str]:
    """The customer's chat id and language (Telegram's ``language_code`` of their latest
    message, else the workspace's)."""
    identity = await contacts.identity_on_channel(
        session, scope, conversation.contact_id, conversation.channel_id
    )
    locale: str | None = None
    for message in reversed(await messages.visible_messages(session, scope, conversation.id)):
        meta = message.meta.get("telegram") if message.meta else None
        if message.sender_type == SenderType.CONTACT.value and isinstance(meta, dict):
            locale = meta.get("language_code")
            break
    if locale is None:
        locale = (await tenants.get_tenant(session, scope)).locale
    return (identity.external_id if identity else None), locale


async def send_request(ctx: JobContext, box: SecretBox, options: AdapterOptions) -> None:
    if ctx.tenant_id is None:
        return
    scope = TenantScope(ctx.tenant_id)
    conversation_id = int(ctx.payload["conversation_id"])
    async with ctx.db.reader() as session:
        conversation = await conversations.get(session, scope, conversation_id)
        if conversation.status != ConversationStatus.RESOLVED.value:
            return  # reopened meanwhile
        runtime = await channels.runtime_for(session, scope, box, conversation.channel_id)
        chat, locale = await _chat_and_locale(session, scope, conversation)
    if chat is None or runtime.type != ChannelType.TELEGRAM or not runtime.is_active:
        return
    adapter = build_adapter(runtime.type, runtime.config, runtime.secret, options)
    assert isinstance(adapter, TelegramChannelAdapter)
    row = [
        {"text": str(n), "callback_data": f"{CSAT_PREFIX}:{conversation_id}:{n}"}
        for n in range(1, 6)
    ]
    try:
        await adapter.send_keyboard(chat, text("csat.ask", locale), [row])
    except RateLimited as exc:
        raise RetryAfter(str(exc), exc.retry_after or 0.0) from exc
    except ChannelError as exc:
        if exc.transient:
            raise
        raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc


async def handle_button(
    db: Database, runtime: channels.ChannelRuntime, callback: Callback
) -> dict[str, Any]:
    """A rating pressed: stored when the button is this chat's own conversation's."""
    try:
        _prefix, raw_id, raw_rating = callback.data.split(":")
        conversation_id, rating = int(raw_id), int(raw_rating)
    except ValueError:
        return answer_callback(callback.id)
    scope = TenantScope(runtime.tenant_id)
    locale: str | None = None
    try:
        async with db.transaction() as session:
            conversation = await conversations.get(session, scope, conversation_id)
            chat, locale = await _chat_and_locale(session, scope, conversation)
            if conversation.channel_id != runtime.id or chat != str(callback.chat_id):
                return answer_callback(callback.id, text("button.unknown", locale))
            await conversations.rate(session, scope, conversation_id, rating, None)
    except Conflict:
        return answer_callback(callback.id, text("csat.reopened", locale))
    except AppError:
        return answer_callback(callback.id, text("button.unknown", locale))
    return answer_callback(callback.id, text("csat.thanks", locale))
