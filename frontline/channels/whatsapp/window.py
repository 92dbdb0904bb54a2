"""WhatsApp's customer service window: a business may send free text only within 24 hours
of the customer's last message (later only an approved template goes out, which Meta
refuses with error 131047). Frontline refuses such a reply up front, clearly, instead of
queueing a message that can only fail."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.errors import Conflict
from frontline.kit.repository import TenantScope
from frontline.kit.time import as_utc, utcnow
from frontline.messages import service as messages

WINDOW = timedelta(hours=24)
WINDOW_CLOSED = "whatsapp_window_closed"


class ReplyWindowClosed(Conflict):
    code = WINDOW_CLOSED


def window_closes_at(last_customer_message: datetime | None) -> datetime | None:
    return as_utc(last_customer_message) + WINDOW if last_customer_message else None


async def check_reply_window(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, conversation_id: int
) -> None:
    """Raise :class:`ReplyWindowClosed` (409) when the conversation is on WhatsApp and the
    customer's last message is more than 24 hours old (or there is none)."""
    channel = await channels.get_channel(session, scope, channel_id)
    if channel.type != ChannelType.WHATSAPP.value:
        return
    last = await messages.last_customer_message_at(session, scope, conversation_id)
    closes = window_closes_at(last)
    if closes is None or closes <= utcnow():
        since = f" (the last one came at {as_utc(last):%Y-%m-%d %H:%M} UTC)" if last else ""
        raise ReplyWindowClosed(
            "WhatsApp allows a free-text reply only within 24 hours of the customer's last "
            f"message{since}; the customer has to write again first (template messages are "
            "not supported yet)"
        )
