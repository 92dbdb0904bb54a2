"""The built-in offline engine: deterministic triage with no network (language detection,
requests for a person, upset customers, extractive answers from the knowledge base)."""

from frontline.ai.offline.engine import (
    DOCUMENT_THRESHOLDS,
    Analysis,
    Decision,
    HandoffReason,
    OfflineEngine,
    Thresholds,
    TriageResult,
)
from frontline.ai.offline.retrieval import KnowledgeIndex, Match, Passage, ScoringWeights
from frontline.ai.offline.text import Language, detect_language

__all__ = [
    "DOCUMENT_THRESHOLDS",
    "Analysis",
    "Decision",
    "HandoffReason",
    "KnowledgeIndex",
    "Language",
    "Match",
    "OfflineEngine",
    "Passage",
    "ScoringWeights",
    "Thresholds",
    "TriageResult",
    "detect_language",
]
