"""The offline triage engine: no network, no randomness, the last resort of every provider
chain (and the default of the embedded set-up).

Order of the checks, first hit wins:

1. the customer asks for a person -> ``escalate_to_human`` (``human_requested``);
2. the customer is upset -> ``escalate_to_human`` (``customer_upset``);
3. retrieval is confident -> ``full_answer`` quoting the best passage, cited by id;
4. the message is too vague to act on -> ``need_more_info`` with a specific question;
5. otherwise -> ``escalate_to_human`` (``no_confident_answer``).

A vague message is first searched together with the customer's previous message, so "and
how much is it?" after "do you have a sauna?" can still be answered.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from frontline.ai.base import ChatMessage
from frontline.ai.offline.retrieval import (
    SENTENCE_SPLIT,
    KnowledgeIndex,
    Match,
    Passage,
    ScoringWeights,
)
from frontline.ai.offline.signals import human_request, upset
from frontline.ai.offline.text import Language, content_stems, detect_language, words
from frontline.ai.triage import Decision as Decision
from frontline.ai.triage import TriageResult as TriageResult


class HandoffReason(enum.StrEnum):
    HUMAN_REQUESTED = "human_requested"
    CUSTOMER_UPSET = "customer_upset"
    NO_CONFIDENT_ANSWER = "no_confident_answer"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Confidence thresholds on the retrieval score (tuned on CLINC150 val, see
    ``frontline.ai.offline.evaluate``)."""

    answer: float = 0.66
    # a vague message whose best match reaches this gets a "did you mean" question
    suggest: float = 0.45
    # messages with at most this many content words (and few words) count as vague
    vague_content_words: int = 1
    vague_words: int = 3


# For passages found by knowledge search in uploaded documents (long, prose) rather than FAQ
# entries: measured on XQuAD-R paragraphs (top 5 of the lexical index as the passages; see
# ``frontline.knowledge.evaluate.evaluate_offline_answers``), 0.60 answers 60% (ru) / 69%
# (en) of questions with 0.6% wrong answers, and answers 4% / 7% of questions whose paragraph
# was removed from the base; the FAQ-tuned 0.66 answers only 35% / 42%.
DOCUMENT_THRESHOLDS = Thresholds(answer=0.60)


@dataclass(frozen=True, slots=True)
class Analysis:
    """The result plus the engine's reasoning, for evaluation and the AI log."""

    result: TriageResult
    reason: HandoffReason | None
    confidence: float
    matches: tuple[Match, ...]


_REPLIES: dict[str, dict[Language, str]] = {
    HandoffReason.HUMAN_REQUESTED: {
        "en": "Of course. I am passing your conversation to a member of our team; "
        "a person will answer you here shortly.",
        "ru": "Конечно. Передаю ваш вопрос сотруднику, он ответит вам здесь в ближайшее время.",
    },
    HandoffReason.CUSTOMER_UPSET: {
        "en": "I am sorry about this. I am passing your conversation to a member of our "
        "team right away; a person will answer you here shortly.",
        "ru": "Приносим извинения. Я сразу передаю ваше обращение сотруднику, он ответит "
        "вам здесь в ближайшее время.",
    },
    HandoffReason.NO_CONFIDENT_ANSWER: {
        "en": "Thank you for your question. I want to be sure you get a correct answer, so "
        "I am passing it to a member of our team; a person will answer you here shortly.",
        "ru": "Спасибо за вопрос. Чтобы ответ был точным, я передаю его сотруднику, он "
        "ответит вам здесь в ближайшее время.",
    },
}
_REASON_TEXT: dict[HandoffReason, str] = {
    HandoffReason.HUMAN_REQUESTED: "Customer asked for a person",
    HandoffReason.CUSTOMER_UPSET: "Customer seems upset",
    HandoffReason.NO_CONFIDENT_ANSWER: "No confident answer in the knowledge base",
}
_ANSWER_INTRO: dict[Language, str] = {
    "en": 'From our knowledge base, "{title}":',
    "ru": "Из нашей базы знаний, «{title}»:",
}
_SUGGEST: dict[Language, str] = {
    "en": 'Could you tell me a bit more about your question? Is it about "{title}"?',
    "ru": "Уточните, пожалуйста, ваш вопрос: он касается темы «{title}»?",
}
_ASK: dict[Language, str] = {
    "en": "Could you describe your question in a bit more detail: what would you like to "
    "know or what happened, and which order or booking is it about?",
    "ru": "Опишите, пожалуйста, ваш вопрос подробнее: что именно вы хотите узнать или что "
    "случилось, и о каком заказе или бронировании идёт речь?",
}
_NAME = re.compile(
    r"\b(?i:my name is|this is|i am|i'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
    r"|(?i:меня зовут|с вами говорит|это)\s+([А-ЯЁ][а-яё]+(?:\s+[А-ЯЁ][а-яё]+)?)"
)
_QUOTE_LIMIT = 600


class OfflineEngine:
    """Triage over a fixed set of knowledge passages. Build once per knowledge version;
    ``triage`` is a pure function of its arguments."""

    def __init__(
        self,
        knowledge: Sequence[Passage],
        *,
        thresholds: Thresholds | None = None,
        weights: ScoringWeights | None = None,
        default_language: Language = "en",
    ) -> None:
        self.index = KnowledgeIndex(knowledge, weights)
        self.thresholds = thresholds or Thresholds()
        self.default_language = default_language

    def triage(self, text: str, history: Sequence[ChatMessage] = ()) -> TriageResult:
        return self.analyze(text, history).result

    def analyze(self, text: str, history: Sequence[ChatMessage] = ()) -> Analysis:
        earlier = [m.content for m in history if m.role == "user"]
        fallback = (
            detect_language(" ".join(earlier), self.default_language)
            if earlier
            else self.default_language
        )
        language = detect_language(text, fallback)
        name = _full_name(text)
        summary = " ".join(text.split())[:200]

        signal = human_request(text)
        reason = HandoffReason.HUMAN_REQUESTED if signal else None
        if signal is None:
            signal = upset(text)
            reason = HandoffReason.CUSTOMER_UPSET if signal else None
        if signal is not None and reason is not None:
            return self._escalate(
                reason,
                f"{_REASON_TEXT[reason]} ({signal.evidence!r})",
                language,
                name,
                summary,
                0.0,
                (),
            )

        t = self.thresholds
        vague = (
            len(content_stems(text)) <= t.vague_content_words and len(words(text)) <= t.vague_words
        )
        query = f"{earlier[-1]} {text}" if vague and earlier else text
        matches = tuple(self.index.search(query, limit=3))
        confidence = matches[0].score if matches else 0.0
        if matches and confidence >= t.answer:
            best = matches[0]
            intro = _ANSWER_INTRO[language].format(title=best.passage.title or best.passage.id)
            reply = f"{intro}\n\n{_quote(best.passage, best.best_unit)}"
            result = TriageResult(
                full_name=name,
                issue_summary=summary,
                decision=Decision.FULL_ANSWER,
                draft_reply=reply,
                language=language,
                citations=[best.passage.id],
            )
            return Analysis(result, None, confidence, matches)
        if vague:
            if matches and confidence >= t.suggest:
                title = matches[0].passage.title or matches[0].passage.id
                question = _SUGGEST[language].format(title=title)
            else:
                question = _ASK[language]
            result = TriageResult(
                full_name=name,
                issue_summary=summary,
                decision=Decision.NEED_MORE_INFO,
                draft_reply=question,
                language=language,
            )
            return Analysis(result, None, confidence, matches)
        return self._escalate(
            HandoffReason.NO_CONFIDENT_ANSWER,
            f"{_REASON_TEXT[HandoffReason.NO_CONFIDENT_ANSWER]} (confidence {confidence:.2f})",
            language,
            name,
            summary,
            confidence,
            matches,
        )

    @staticmethod
    def _escalate(
        reason: HandoffReason,
        reason_text: str,
        language: Language,
        name: str | None,
        summary: str,
        confidence: float,
        matches: tuple[Match, ...],
    ) -> Analysis:
        result = TriageResult(
            full_name=name,
            issue_summary=summary,
            decision=Decision.ESCALATE_TO_HUMAN,
            draft_reply=_REPLIES[reason][language],
            language=language,
            handoff_reason=reason_text,
        )
        return Analysis(result, reason, confidence, matches)


def _quote(passage: Passage, best_unit: str = "") -> str:
    """What a confident answer quotes: the passage's answer (FAQ), a short passage whole, or
    from a long one the best-matching sentence and the one after it."""
    text = (passage.answer or passage.text or passage.title).strip()
    if len(text) <= _QUOTE_LIMIT:
        return text
    if not passage.answer and best_unit and best_unit != passage.title.strip():
        sentences = [u.strip() for u in SENTENCE_SPLIT.split(text) if u.strip()]
        if best_unit in sentences:
            at = sentences.index(best_unit)
            quoted = sentences[at]
            if at + 1 < len(sentences) and len(quoted) + len(sentences[at + 1]) < _QUOTE_LIMIT:
                quoted += " " + sentences[at + 1]
            if len(quoted) <= _QUOTE_LIMIT:
                return quoted
    cut = text[:_QUOTE_LIMIT]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    return (cut[: end + 1] if end > _QUOTE_LIMIT // 3 else cut.rstrip()) + " …"


def _full_name(text: str) -> str | None:
    found = _NAME.search(text)
    if not found:
        return None
    return (found.group(1) or found.group(2)).strip()
