"""What happens to one Telegram update, for the webhook and the long poller alike.

Messages go through the common inbound pipeline (stored, deduplicated by
``<chat>:<message id>``, AI first line or operator queue). Button presses (callback
queries) are routed by their data prefix; their answer (``answerCallbackQuery``) is returned
as a Bot API method call, which the webhook puts in its response body (Telegram performs
it) and the poller calls itself. Ignored updates are logged, never an error: Telegram
would redeliver them forever otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from frontline.channels.base import InboundMessage
from frontline.channels.service import ChannelRuntime
from frontline.channels.telegram import csat
from frontline.channels.telegram.adapter import TelegramChannelAdapter
from frontline.channels.telegram.texts import text
from frontline.channels.telegram.updates import Callback, ParsedUpdate, answer_callback
from frontline.conversations import flows
from frontline.conversations.limits import InboundLimits, OverLimit
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.messages import service as messages

log = logging.getLogger(__name__)

# a button's answer: the Bot API method call to make (or None)
CallbackHandler = Callable[[Database, ChannelRuntime, Callback], Awaitable[dict[str, Any] | None]]
# callback data prefix -> handler
CALLBACK_HANDLERS: dict[str, CallbackHandler] = {csat.PREFIX: csat.handle_button}


@dataclass(frozen=True)
class Outcome:
    stored: bool = False
    duplicate: bool = False
    reply: dict[str, Any] | None = None  # a Bot API method call answering the update


async def handle_update(
    db: Database,
    runtime: ChannelRuntime,
    adapter: TelegramChannelAdapter,
    parsed: ParsedUpdate,
    limits: InboundLimits | None = None,
) -> Outcome:
    if parsed.message is not None:
        scope = TenantScope(runtime.tenant_id)
        result = await flows.ingest(
            db,
            scope,
            runtime.id,
            runtime.type.value,
            parsed.message,
            limits=limits,
            over_limit=OverLimit.STORE,
        )
        if not parsed.message.ai_reply and not result.duplicate:
            await _welcome(db, scope, adapter, parsed.message, result.conversation_id)
        return Outcome(stored=not result.duplicate, duplicate=result.duplicate)
    if parsed.callback is not None:
        prefix = parsed.callback.data.split(":", 1)[0]
        handler = CALLBACK_HANDLERS.get(prefix)
        if handler is None:
            log.info(
                "telegram button ignored",
                extra={"channel_id": str(runtime.id), "update_id": parsed.update_id},
            )
            return Outcome(reply=answer_callback(parsed.callback.id))
        return Outcome(reply=await handler(db, runtime, parsed.callback))
    log.info(
        "telegram update ignored",
        extra={
            "channel_id": str(runtime.id),
            "update_id": parsed.update_id,
            "reason": parsed.ignored,
        },
    )
    return Outcome()


async def _welcome(
    db: Database,
    scope: TenantScope,
    adapter: TelegramChannelAdapter,
    message: InboundMessage,
    conversation_id: int,
) -> None:
    """The answer to /start: the channel's welcome text (or a greeting in the customer's
    Telegram language), stored and delivered like any reply while the AI owns the
    conversation (an operator who has it answers themselves)."""
    language = message.meta.get("telegram", {}).get("language_code")
    greeting = adapter.welcome_text or text("welcome", language)
    async with db.transaction() as session:
        await messages.queue_reply_if_bot(session, scope, conversation_id, greeting)
