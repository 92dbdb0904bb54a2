"""Moderation before the AI, in the inbound path every channel shares.

The rules and their detectors are :mod:`frontline.ai.moderation` (profanity, flood, repeated
spam, link-only); a tenant sets a mode per rule in its AI settings (``moderation``). Here,
in the transaction that stores an inbound customer message (every channel goes through
:func:`frontline.conversations.flows.receive_inbound`, so the web widget, the API, e-mail,
the mailbox, Telegram, WhatsApp and Avito alike), before the AI turn is asked for:

1. :func:`screen` takes the contact's recent messages (only when a flood or spam rule is
   on and the contact is known; read along with the inbound context, see
   :func:`history_since`) and returns the verdict, ``None`` when no rule fires;
2. :func:`mark` puts the verdict on the message as it is stored (``meta.moderation =
   {mode, reasons}``; it arrives in the console with the ``message.created`` event) and,
   for ``hold``, takes the AI turn away;
3. :func:`act` keeps the verdict on the conversation (``meta.moderation``), hands a held
   conversation the AI owns to the operators' queue with the reason ``Held by moderation
   (<rules>)`` and a rule-based handoff summary (``held by moderation: <rules>``: no model
   is asked to summarize a held message), publishes ``message.moderated`` to the inbox
   and the conversation, records the decision in the workspace's audit log
   (``message.moderated``, by ``system:moderation``) and counts it
   (``frontline_inbound_moderated_total``).

A held message gets no automatic reply: an operator answers it in turn (a flooder or a
spammer learns nothing from an instant notice). Moderation never refuses a message: it is
stored either way, and a detector failing on some input logs the error and lets the
message through unmoderated rather than lose it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.ai.moderation import (
    Mode,
    ModerationSettings,
    Recent,
    Verdict,
    load_settings,
    moderate,
)
from frontline.audit import service as audit
from frontline.channels.base import InboundMessage
from frontline.conversations import service as conversations
from frontline.kit.db import Unit, as_unit
from frontline.kit.metrics import inbound_moderated
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.realtime.publish import publish_after_commit

log = logging.getLogger(__name__)

MODERATION = conversations.MODERATION
HOLD_REASON = "Held by moderation"  # reasons.ReasonCode.MODERATION; the rules follow


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


# tenant id -> the history window (seconds) its moderation needed at its last inbound
# message in this process: the inbound context read fetches that much of the contact's
# history along (see :func:`history_since`); only a guess that saves a statement - a
# window grown since (another process changed the settings) is caught by :func:`screen`
_WINDOWS: dict[uuid.UUID, int] = {}
_WINDOWS_KEPT = 10_000  # tenants remembered at most (forgotten all at once, then relearned)
_DEFAULT_WINDOW = ModerationSettings().history_seconds


def history_since(tenant_id: uuid.UUID, now: datetime) -> datetime:
    """From when the inbound context read should fetch a known contact's messages: the
    window the tenant's settings needed last time (the defaults' before its first message
    here)."""
    return now - timedelta(seconds=_WINDOWS.get(tenant_id, _DEFAULT_WINDOW))


async def screen(
    session: AsyncSession | Unit,
    scope: TenantScope,
    contact_id: uuid.UUID | None,
    stored_settings: object,
    text: str,
    fetched: tuple[datetime, list[tuple[int, datetime, str]]] | None = None,
) -> Verdict | None:
    """The verdict on an inbound message of ``contact_id`` (``None``: a contact seen for
    the first time, who has no history) under the tenant's stored settings. ``fetched``:
    ``(since, rows)``, the contact's ``(id, created_at, text)`` inbound messages since
    ``since`` read along with the inbound context; used when that reaches back far
    enough for the settings, else the history is read here."""
    settings = load_settings(stored_settings)
    now = utcnow()
    window = settings.history_seconds
    if len(_WINDOWS) >= _WINDOWS_KEPT:
        _WINDOWS.clear()
    _WINDOWS[scope.tenant_id] = window
    recent: list[Recent] = []
    if contact_id is not None and window:
        since = now - timedelta(seconds=window)
        if fetched is not None and fetched[0] <= since:
            newest = sorted((r for r in fetched[1] if r[1] >= since), reverse=True)
            recent = [Recent(at, body) for _id, at, body in newest[: settings.history_limit]]
        else:
            rows = await conversations.recent_inbound(
                as_unit(session).session(), scope, contact_id, since, settings.history_limit
            )
            recent = [Recent(_aware(at), body) for at, body in rows]
    try:
        return moderate(text, recent, now, settings)
    except Exception:  # a detector bug must never lose a customer's message
        log.exception("moderation failed; the message passes unmoderated")
        return None


def mark(inbound: InboundMessage, verdict: Verdict) -> InboundMessage:
    """The message to store: the verdict in its meta; a held one gets no AI turn."""
    meta = {**inbound.meta, MODERATION: verdict.as_meta()}
    ai_reply = inbound.ai_reply and verdict.mode is not Mode.HOLD
    return replace(inbound, meta=meta, ai_reply=ai_reply)


def hold_reason(verdict: Verdict) -> str:
    return f"{HOLD_REASON} ({', '.join(r.value for r in verdict.reasons)})"


def hold_summary(verdict: Verdict) -> str:
    """The handoff summary of a hold, written by rule: the held message's content is not
    sent to a model to be summarized (it may be abuse, spam or an injection attempt)."""
    return f"held by moderation: {', '.join(r.value for r in verdict.reasons)}"


async def act(
    session: AsyncSession,
    scope: TenantScope,
    conversation_id: int,
    message_id: int,
    verdict: Verdict,
) -> None:
    """Flag the conversation, hold it for the operators when the verdict says so, and tell
    the consoles and the audit log."""
    flag = {**verdict.as_meta(), "message_id": message_id, "at": utcnow().isoformat()}
    held = verdict.mode is Mode.HOLD
    await conversations.flag_moderation(
        session,
        scope,
        conversation_id,
        flag,
        hold_reason(verdict) if held else None,
        hold_summary(verdict) if held else None,
    )
    data = {"conversation_id": conversation_id, "message_id": message_id, **verdict.as_meta()}
    for topic in (
        events.inbox_topic(scope.tenant_id),
        events.conversation_topic(scope.tenant_id, conversation_id),
    ):
        publish_after_commit(session, topic, events.MESSAGE_MODERATED, data)
    await audit.record_system(
        session,
        scope,
        "system:moderation",
        events.MESSAGE_MODERATED,
        f"conversation:{conversation_id}",
        data,
    )
    for rule in verdict.reasons:
        inbound_moderated.labels(rule.value, verdict.mode.value).inc()
