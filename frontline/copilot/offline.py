"""What the copilot does without any language model: suggestions from the knowledge base by
the offline engine, and an extractive summary. Rewriting and translating need a model; the
service says so instead of pretending."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from frontline.ai.base import ChatMessage
from frontline.ai.offline import DOCUMENT_THRESHOLDS, OfflineEngine, Passage
from frontline.ai.triage import Decision, Language
from frontline.copilot.prompts import Source, Turn

# customer messages an offline suggestion tries, newest first
SUGGEST_TRIES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_QUOTE_CHARS = 400

_FROM_KB: dict[Language, str] = {
    "ru": "Вот что говорится в нашей базе знаний: {quote}",
    "en": "Here is what our knowledge base says: {quote}",
}
_SUMMARY: dict[Language, str] = {
    "ru": "Клиент написал {count} сообщ. Начало: «{first}». Последнее: «{last}».",
    "en": 'The customer wrote {count} message(s). First: "{first}". Latest: "{last}".',
}
_SUMMARY_ONE: dict[Language, str] = {
    "ru": "Клиент написал: «{first}».",
    "en": 'The customer wrote: "{first}".',
}
_HANDOFF: dict[Language, str] = {
    "ru": " Передан оператору: {reason}.",
    "en": " Handed to an operator: {reason}.",
}


@dataclass(frozen=True, slots=True)
class OfflineSuggestion:
    text: str
    cited: tuple[str, ...]  # labels of the sources used


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def suggest(
    turns: Sequence[Turn], sources: Sequence[Source], language: Language
) -> OfflineSuggestion:
    """The engine's answer to the customer's latest answerable message; else the best
    passage quoted; else nothing (the knowledge base has no answer)."""
    if not sources:
        return OfflineSuggestion("", ())
    passages = [Passage(id=s.label, title=s.title, text=s.text) for s in sources]
    engine = OfflineEngine(passages, thresholds=DOCUMENT_THRESHOLDS, default_language=language)
    said = [t.text for t in turns if t.sender_type == "contact" and t.text.strip()]
    for index in range(len(said) - 1, max(len(said) - 1 - SUGGEST_TRIES, -1), -1):
        history = tuple(ChatMessage("user", text) for text in said[:index])
        result = engine.triage(said[index], history)
        if result.decision is not Decision.ESCALATE_TO_HUMAN and result.draft_reply.strip():
            cited = tuple(c for c in result.citations if c in {s.label for s in sources})
            return OfflineSuggestion(result.draft_reply.strip(), cited or (sources[0].label,))
    best = sources[0]
    quote = " ".join(best.text.split())
    if len(quote) > _QUOTE_CHARS:
        cut = quote[:_QUOTE_CHARS]
        sentences = _SENTENCE_END.split(cut)
        quote = " ".join(sentences[:-1]) if len(sentences) > 1 else cut.rstrip() + "…"
    return OfflineSuggestion(_FROM_KB[language].format(quote=quote), (best.label,))


def summarize(
    turns: Sequence[Turn], language: Language, handoff_reason: str | None
) -> tuple[str, list[str]]:
    """An extractive summary (the customer's first and latest words) and what they still
    need: their messages since anyone last answered, questions first."""
    said = [t.text for t in turns if t.sender_type == "contact" and t.text.strip()]
    if not said:
        summary = ""
    elif len(said) == 1:
        summary = _SUMMARY_ONE[language].format(first=_short(said[0]))
    else:
        summary = _SUMMARY[language].format(
            count=len(said), first=_short(said[0]), last=_short(said[-1])
        )
    if handoff_reason:
        summary += _HANDOFF[language].format(reason=_short(handoff_reason, 200))
    unanswered: list[str] = []
    for turn in reversed(turns):
        if turn.sender_type != "contact":
            break
        unanswered.append(turn.text)
    unanswered.reverse()
    questions = [_short(t, 200) for t in unanswered if "?" in t]
    needs = questions or [_short(t, 200) for t in unanswered if t.strip()]
    return summary.strip(), needs[:5]
