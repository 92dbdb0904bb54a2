"""The built-in offline engine as an :class:`~frontline.ai.base.LLMProvider` (kind
``OFFLINE``): no network, no key, no cost; the last resort of every fallback chain.

``complete()`` always answers with the engine's :class:`~frontline.ai.offline.TriageResult`
as JSON text, whatever the request asks for: the triage caller gets the structured shape it
validates every provider's answer against, and the engine has no free-text mode. ``stream()``
yields the ``draft_reply`` alone (the text a chat widget shows), a few words per chunk.

Token counts are estimates (whitespace-separated words) so the AI log and the analytics have
a figure; the cost is always zero.

Importing this module registers the adapter in :mod:`frontline.ai.providers.registry`.
The knowledge passages travel in :class:`OfflineConfig` (``knowledge``, excluded from
serialisation: they are build-time data, never part of a stored tenant config). Building the
index costs time for a large knowledge base, so a caller that answers many messages builds
one :class:`~frontline.ai.offline.OfflineEngine` per knowledge version and passes it as
``engine``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from frontline.ai.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    PriceTable,
    ProviderConfig,
    ProviderKind,
    StreamChunk,
    Usage,
)
from frontline.ai.offline import OfflineEngine, Passage, TriageResult
from frontline.ai.providers.registry import ProviderSpec, register

OFFLINE_MODEL = "offline"
# words per streamed chunk
STREAM_WORDS = 4


class OfflineConfig(ProviderConfig):
    """No secrets. ``default_language`` is used when a message gives no language clue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_language: Literal["en", "ru"] = "en"
    knowledge: tuple[Passage, ...] = Field(default=(), exclude=True)


def estimate_tokens(text: str) -> int:
    return len(text.split())


def _split(messages: Sequence[ChatMessage]) -> tuple[str, tuple[ChatMessage, ...]]:
    """The last user message and the conversation turns before it (system prompts left
    out: the engine has its own rules)."""
    turns = [m for m in messages if m.role != "system"]
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role == "user":
            return turns[index].content, tuple(turns[:index])
    return "", tuple(turns)


class OfflineProvider:
    kind: ClassVar[ProviderKind] = ProviderKind.OFFLINE

    def __init__(
        self,
        config: OfflineConfig | None = None,
        prices: PriceTable | None = None,
        *,
        engine: OfflineEngine | None = None,
    ) -> None:
        config = config or OfflineConfig()
        self._engine = engine or OfflineEngine(
            config.knowledge, default_language=config.default_language
        )

    def triage(self, request: CompletionRequest) -> TriageResult:
        text, history = _split(request.messages)
        return self._engine.triage(text, history)

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        text = self.triage(request).model_dump_json()
        usage = Usage(
            input_tokens=sum(estimate_tokens(m.content) for m in request.messages),
            output_tokens=estimate_tokens(text),
        )
        return Completion(
            text=text,
            model=request.model or OFFLINE_MODEL,
            provider=self.kind,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cost=0.0,
            finish_reason="stop",
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]:
        reply = self.triage(request).draft_reply
        pieces = reply.split(" ")
        for start in range(0, len(pieces), STREAM_WORDS):
            chunk = " ".join(pieces[start : start + STREAM_WORDS])
            yield StreamChunk(delta=chunk if start == 0 else f" {chunk}")
        usage = Usage(
            input_tokens=sum(estimate_tokens(m.content) for m in request.messages),
            output_tokens=estimate_tokens(reply),
        )
        yield StreamChunk(delta="", usage=usage, finish_reason="stop")


register(ProviderKind.OFFLINE, ProviderSpec(OfflineConfig, OfflineProvider))
