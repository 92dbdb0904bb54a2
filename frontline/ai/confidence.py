"""The knowledge confidence of a customer's message: how well the knowledge found covers
it, 0..1, and the tenant's handoff threshold's decision on it."""

from __future__ import annotations

from frontline.ai.offline import DOCUMENT_THRESHOLDS, OfflineEngine, Passage
from frontline.ai.triage import Language


def knowledge_confidence(passages: list[Passage], question: str, language: Language) -> float:
    """The offline engine's confidence over the passages (the number its own answer
    threshold is compared with; 0 without passages). The tenant's handoff threshold is
    compared with it whichever provider answers, so an LLM does not answer what the
    knowledge base does not hold."""
    if not passages or not question.strip():
        return 0.0
    engine = OfflineEngine(passages, thresholds=DOCUMENT_THRESHOLDS, default_language=language)
    return round(min(1.0, max(0.0, engine.analyze(question).confidence)), 4)


def below_threshold(threshold: float, confidence: float | None) -> bool:
    """The threshold (0: off) sends the message to a person."""
    return threshold > 0 and (confidence or 0.0) < threshold
