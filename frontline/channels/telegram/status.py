"""A Telegram channel's inbound state, for the console's channel health: in webhook mode
what Telegram itself reports (``getWebhookInfo``: the URL it posts to, updates waiting,
its last delivery error), in poll mode the ``getUpdates`` offset reached and whether a
stray webhook would block polling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from frontline.channels.base import ChannelError
from frontline.channels.telegram.botapi import BotApi


class TelegramState(BaseModel):
    channel_id: uuid.UUID
    mode: str  # webhook | poll
    # webhook mode: the URL Frontline registered, and the one Telegram has
    expected_url: str | None = None
    webhook_url: str | None = None
    pending_update_count: int | None = None
    last_error_at: datetime | None = None
    last_error_message: str | None = None
    poll_offset: int | None = None  # poll mode: the next update id to read
    # True: Telegram delivers where it should; False: see last_error_message or error
    healthy: bool | None = None
    error: str | None = None  # Telegram could not be asked (bad token, unreachable)


async def telegram_state(
    api: BotApi,
    channel_id: uuid.UUID,
    mode: str,
    expected_url: str,
    stored: dict[str, Any],
) -> TelegramState:
    """Ask Telegram (``getWebhookInfo``) how inbound delivery to this bot stands."""
    state = TelegramState(channel_id=channel_id, mode=mode)
    if mode == "webhook":
        state.expected_url = expected_url
    else:
        offset = stored.get("offset")
        state.poll_offset = int(offset) if isinstance(offset, int) else None
    try:
        info = await api.call("getWebhookInfo")
    except ChannelError as exc:
        state.error = str(exc)
        state.healthy = False
        return state
    info = info if isinstance(info, dict) else {}
    url = str(info.get("url") or "")
    pending = info.get("pending_update_count")
    state.webhook_url = url or None
    state.pending_update_count = pending if isinstance(pending, int) else None
    when = info.get("last_error_date")
    if isinstance(when, int):
        state.last_error_at = datetime.fromtimestamp(when, UTC)
    message = info.get("last_error_message")
    state.last_error_message = str(message) if message else None
    if mode == "webhook":
        state.healthy = url == expected_url and state.last_error_message is None
    else:
        # getUpdates answers 409 while a webhook is set
        state.healthy = not url
        if url:
            state.error = f"a webhook is set ({url}): getUpdates cannot poll until it is removed"
    return state
