"""Event names, one place for realtime, analytics and jobs."""

from __future__ import annotations

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"  # delivery status or an attachment changed
# moderation flagged or held an inbound message: ``{conversation_id, message_id, mode,
# reasons}`` (the message and the conversation carry ``meta.moderation`` too)
MESSAGE_MODERATED = "message.moderated"
MESSAGE_DELTA = "message.delta"  # AI reply text as it is written (not stored)
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_STATUS = "conversation.status"
CONVERSATION_HANDOFF_REQUESTED = "conversation.handoff_requested"
CONVERSATION_ASSIGNED = "conversation.assigned"
AI_TYPING = "ai.typing"  # the AI is working on a reply (not stored)
TYPING = "typing"  # a visitor or an operator is typing (not stored)
OPERATORS_PRESENCE = "operators.presence"  # the first operator came online / the last left
WIDGET_BOUND = "widget.bound"  # a visitor's first message opened their conversation

# job kinds
JOB_DELIVER_MESSAGE = "message.deliver"
JOB_AI_REPLY = "ai.reply"
JOB_KNOWLEDGE_INGEST = "knowledge.ingest"
JOB_KNOWLEDGE_EMBED = "knowledge.embed"
JOB_KNOWLEDGE_RERANK = "knowledge.rerank"
JOB_FETCH_ATTACHMENT = "attachments.fetch"
JOB_AVITO_SUBSCRIBE = "channels.avito_subscribe"  # register an Avito channel's webhook URL
JOB_MAIL_POLL = "mail.poll"  # fetch one IMAP mailbox's new mail now
JOB_COPILOT_HANDOFF_SUMMARY = "copilot.handoff_summary"  # summarize a handed-off conversation


def inbox_topic(tenant_id: object) -> str:
    """Topic of a tenant's operator inbox."""
    return f"tenant:{tenant_id}:inbox"


def conversation_topic(tenant_id: object, conversation_id: int) -> str:
    return f"tenant:{tenant_id}:conversation:{conversation_id}"


def presence_topic(tenant_id: object) -> str:
    """Topic of a tenant's operator presence changes (widgets show "no operator online")."""
    return f"tenant:{tenant_id}:presence"


def visitor_topic(tenant_id: object, channel_id: object, visitor_id: str) -> str:
    """Topic of one web visitor's open widgets (all their tabs)."""
    return f"tenant:{tenant_id}:visitor:{channel_id}:{visitor_id}"


# job kinds of the Telegram channel
JOB_TELEGRAM_CSAT = "telegram.csat"  # ask a Telegram customer to rate a resolved conversation
JOB_TELEGRAM_HANDOFF_ALERT = "telegram.handoff_alert"  # tell the staff chat about a handoff
# a deactivated Telegram channel's webhook removed at Telegram (``deleteWebhook``)
JOB_TELEGRAM_DELETE_WEBHOOK = "telegram.delete_webhook"
# bookings (published on the tenant's inbox topic)
BOOKING_CREATED = "booking.created"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_REJECTED = "booking.rejected"
BOOKING_EXPIRED = "booking.expired"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_UPDATED = "booking.updated"
JOB_BOOKING_EXPIRE = "booking.expire"
