"""Streaming the AI's reply to the conversation's live viewers while the model writes it."""

from __future__ import annotations

import logging
import time
from typing import Any

from frontline import events
from frontline.ai.leakguard import LeakGuard
from frontline.ai.triage import Decision, DraftReplyStream
from frontline.kit.repository import TenantScope
from frontline.realtime.broker import Broker

log = logging.getLogger(__name__)

# how often streamed reply text is sent to viewers (deltas in between are merged)
STREAM_FLUSH_SECONDS = 0.05


class LiveDraft:
    """Shows the AI's reply to the conversation's live viewers (the web chat, an operator
    with the conversation open) while the model is still writing it, as ``message.delta``
    events: ``{stream_id, delta}`` pieces, ``{stream_id, reset}`` when a provider failed
    mid-answer and the next one starts over, and ``{stream_id, done, discarded}`` at the
    end. The stored reply's ``message.created`` carries the same ``stream_id`` in its meta,
    so a viewer replaces the streamed text with it; ``discarded`` means the streamed text
    was not sent (the model escalated, its output was invalid, an operator took over).
    Deltas are events only - the database keeps the final message, as always."""

    def __init__(
        self,
        broker: Broker,
        scope: TenantScope,
        conversation_id: int,
        stream_id: str,
        guard: LeakGuard | None = None,
    ):
        self._broker = broker
        # a reply that reveals the instructions is never shown: the last characters (room
        # for the longest secret) are held back until the text so far passed the guard
        self._guard = guard
        self._checked = ""
        self.blocked = False
        self._topic = events.conversation_topic(scope.tenant_id, conversation_id)
        self._conversation_id = conversation_id
        self.stream_id = stream_id
        self._parser = DraftReplyStream()
        self._attempt: int | None = None
        self._pending = ""
        self._flushed_at = 0.0
        self.published = False

    async def on_delta(self, attempt: int, delta: str) -> None:
        if attempt != self._attempt:
            self._pending = ""
            if self.published:
                await self._send({"reset": True})
            self._attempt = attempt
            self._parser = DraftReplyStream()
            self._checked = ""
        if self.blocked:
            return
        text = self._parser.feed(delta)
        if not text or self._parser.decision == Decision.ESCALATE_TO_HUMAN.value:
            return  # an escalation's text is the handoff notice, sent when stored
        self._pending += text
        if self._parser.done or time.monotonic() - self._flushed_at >= STREAM_FLUSH_SECONDS:
            await self._flush(final=self._parser.done)

    async def finish(self, sent: bool) -> None:
        if not self.published:
            return
        if sent and not self.blocked:
            await self._flush(final=True)
        await self._send({"done": True, "discarded": not sent or self.blocked})

    async def _flush(self, final: bool = False) -> None:
        hold = 0 if final or self._guard is None else self._guard.holdback
        if len(self._pending) <= hold or self.blocked:
            return
        if self._guard is not None and self._guard.check(self._checked + self._pending):
            self.blocked = True
            self._pending = ""
            if self.published:
                await self._send({"reset": True})
            return
        cut = len(self._pending) - hold
        text, self._pending = self._pending[:cut], self._pending[cut:]
        self._checked += text
        self._flushed_at = time.monotonic()
        await self._send({"delta": text})

    async def typing(self, active: bool) -> None:
        """``ai.typing``: the AI started (or stopped) working on a reply."""
        event = {
            "type": events.AI_TYPING,
            "data": {"conversation_id": self._conversation_id, "active": active},
        }
        await self._publish(event)

    async def _send(self, data: dict[str, Any]) -> None:
        self.published = True
        event = {
            "type": events.MESSAGE_DELTA,
            "data": {"conversation_id": self._conversation_id, "stream_id": self.stream_id, **data},
        }
        await self._publish(event)

    async def _publish(self, event: dict[str, Any]) -> None:
        try:
            await self._broker.publish(self._topic, event)
        except Exception:
            log.warning("streaming a reply failed", extra={"topic": self._topic}, exc_info=True)
