"""The offline triage engine: no network, no randomness, the last resort of every provider
chain (and the default of the embedded set-up).

Order of the checks, first hit wins:

1. the customer asks for a person -> ``escalate_to_human`` (``human_requested``);
2. the customer is upset -> ``escalate_to_human`` (``customer_upset``);
3. a billing dispute (charged twice, a refund that never came) -> ``escalate_to_human``
   (``billing_dispute``);
4. the engine is confident -> ``full_answer``, cited by passage id. For FAQ entries the
   entry's answer (or the best unit of its text); for documents (``Thresholds.compose``) the
   one to three sentences, or the list, that carry the answer (``compose.Composer``), then
   the source's name; when no sentence carries it in the question's own words (prose
   says it otherwise), the most similar passage's sentence answers if the similarity is
   high, the entities fit and any value asked for (a price, a date, a duration) is in it;
5. several passages about different things answer equally -> ``need_more_info`` asking
   which one is meant; a message too vague to act on -> ``need_more_info`` with a question;
6. otherwise -> ``escalate_to_human`` (``no_confident_answer``), the reason saying why.

A vague message is first searched together with the customer's previous message, so "and
how much is it?" after "do you have a sauna?" can still be answered; in document mode an
entity the customer named earlier (a tour, a house) carries over to a question naming none.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from frontline.ai.base import ChatMessage
from frontline.ai.offline.compose import Composer
from frontline.ai.offline.learned import PassageClassifier
from frontline.ai.offline.lexicon import FILLERS, VALUE_CONCEPTS, values
from frontline.ai.offline.retrieval import (
    SENTENCE_SPLIT,
    KnowledgeIndex,
    Match,
    Passage,
    ScoringWeights,
    units,
)
from frontline.ai.offline.signals import billing_dispute, human_request, upset
from frontline.ai.offline.text import Language, content_stems, detect_language, stem, words
from frontline.ai.triage import Decision as Decision
from frontline.ai.triage import TriageResult as TriageResult


class HandoffReason(enum.StrEnum):
    HUMAN_REQUESTED = "human_requested"
    CUSTOMER_UPSET = "customer_upset"
    BILLING_DISPUTE = "billing_dispute"
    NO_CONFIDENT_ANSWER = "no_confident_answer"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How the engine decides. FAQ matching (the default): the confidence is the retrieval
    similarity blended with the learned classifier's probability (``learned_weight``; 0
    turns the classifier off), answered from ``answer`` up (tuned on CLINC150, see
    ``frontline.ai.offline.evaluate``). Documents (``compose``): answers are composed from
    sentences (``compose.Composer``), whose main sentence must score ``compose_answer``."""

    answer: float = 0.3375
    learned_weight: float = 0.5
    # with out-of-scope examples: the confidence loses this share of the blended
    # out-of-scope probability (``learned_weight`` times the reject class's probability)
    reject_weight: float = 0.5
    # ... and the answer threshold then (the first with OOS recall >= 0.70 on CLINC150's
    # tuning half, see ``frontline.ai.offline.evaluate``)
    answer_with_rejects: float = 0.317
    # FAQ matching: less than this share of the question's words known to the base at all
    # means the question is about something else, however similar its best match looks
    known_words: float = 0.34
    compose: bool = False
    compose_answer: float = 0.6
    # documents: when no sentence carries the answer, the passage most similar to the whole
    # question answers (with an excerpt) from ``answer`` up
    similar: bool = False
    # a vague message whose best match reaches this gets a "did you mean" question
    suggest: float = 0.45
    # messages with at most this many content words (and few words) count as vague
    vague_content_words: int = 1
    vague_words: int = 3


# For passages found by knowledge search in uploaded documents (long, prose) rather than FAQ
# entries: measured on XQuAD-R paragraphs (top 5 of the lexical index as the passages; see
# ``frontline.knowledge.evaluate.evaluate_offline_answers``), 0.60 answers 60% (ru) / 69%
# (en) of questions with 0.6% wrong answers, and answers 4% / 7% of questions whose paragraph
# was removed from the base; the FAQ-tuned 0.66 answers only 35% / 42%. With the sentence
# composer first and this as its fallback (``similar``): right 60.3% / 68.7%, wrong 1.1% /
# 1.3%, answered with the paragraph removed 3.2% / 8.7% (the composer alone: 24% / 38%).
DOCUMENT_THRESHOLDS = Thresholds(answer=0.60, learned_weight=0.0, compose=True, similar=True)


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
    HandoffReason.BILLING_DISPUTE: {
        "en": "I am sorry for the trouble with the payment. I am passing your conversation to "
        "a member of our team who can check it; a person will answer you here shortly.",
        "ru": "Извините за проблему с оплатой. Передаю ваше обращение сотруднику, который "
        "сможет всё проверить, он ответит вам здесь в ближайшее время.",
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
    HandoffReason.BILLING_DISPUTE: "Billing dispute",
    HandoffReason.NO_CONFIDENT_ANSWER: "No confident answer in the knowledge base",
}
_ANSWER_INTRO: dict[Language, str] = {
    "en": 'From our knowledge base, "{title}":',
    "ru": "Из нашей базы знаний, «{title}»:",
}
_SOURCE: dict[Language, str] = {"en": "Source: {title}", "ru": "Источник: «{title}»"}
_CLARIFY: dict[Language, tuple[str, str]] = {
    "en": ("Which one do you mean: {options}?", " or "),
    "ru": ("Уточните, пожалуйста, что вас интересует: {options}?", " или "),
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
_FILLER_STEMS = frozenset(stem(w) for w in FILLERS)


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
        out_of_scope: Sequence[str] = (),
        own_answer: Callable[[str, Language], str | None] | None = None,
    ) -> None:
        """``out_of_scope``: example questions the knowledge base must not answer (FAQ
        matching learns them as a class of their own, see ``learned``). ``own_answer``:
        an answer from the customer's own data (an identified customer's bookings), tried
        after the requests for a person and before the knowledge base; ``None`` from it
        means the question is not about that data."""
        self.own_answer = own_answer
        self.thresholds = thresholds or Thresholds()
        self.passages: tuple[Passage, ...] = tuple(knowledge)
        self._weights = weights
        self._index: KnowledgeIndex | None = None
        self.default_language = default_language
        self._positions = {id(p): i for i, p in enumerate(self.passages)}
        self.composer = Composer(self.passages) if self.thresholds.compose else None
        self.classifier: PassageClassifier | None = None
        if self.thresholds.learned_weight > 0 and len(self.passages) > 1:
            self.classifier = PassageClassifier(
                [units(p) for p in self.passages], rejects=out_of_scope
            )
        examples = dict.fromkeys(" ".join(e.split()) for e in out_of_scope)
        self.out_of_scope = tuple(e for e in examples if e)
        self._known: frozenset[str] | None = None  # the passages' content stems

    @property
    def index(self) -> KnowledgeIndex:
        """The similarity index (FAQ matching), built on first use: composing answers from
        documents does not need it, and it costs most of an engine's construction."""
        if self._index is None:
            self._index = KnowledgeIndex(self.passages, self._weights)
        return self._index

    def triage(self, text: str, history: Sequence[ChatMessage] = ()) -> TriageResult:
        return self.analyze(text, history).result

    def search(self, query: str, limit: int = 3) -> list[Match]:
        """The best passages for ``query`` with the engine's confidence in each: the
        similarity score, blended with the learned classifier's probability when there is
        one."""
        matches = self.index.search(query, limit=max(limit, 10))
        if self.classifier is None:
            return matches[:limit]
        w = self.thresholds.learned_weight
        probabilities = self.classifier.probabilities(query)
        penalty = self.thresholds.reject_weight * w * self.classifier.reject(query)
        blended: dict[int, Match] = {}
        for match in matches:
            at = self._positions[id(match.passage)]
            score = w * probabilities[at] + (1 - w) * match.score - penalty
            blended[at] = Match(match.passage, round(float(score), 6), match.best_unit)
        for at in probabilities.argsort()[::-1][:3].tolist():
            if at not in blended:
                passage = self.passages[at]
                score = w * probabilities[at] - penalty
                blended[at] = Match(passage, round(float(score), 6), passage.title)
        ranked = sorted(blended.items(), key=lambda item: (-item[1].score, item[0]))
        return [m for _, m in ranked[:limit]]

    def out_of_scope_example(self, text: str) -> str | None:
        """The business's out-of-scope example that ``text`` is like (``None``: none).

        An example's own words are its content words that the passages do not contain
        and that carry a topic (not ``lexicon.FILLERS``: "how much", "do you have"), e.g.
        "Kamchatka" in "Do you have tours to Kamchatka?" beside passages about Baikal:
        they name what the business does not offer. A question using more than half of an
        example's own words is like it, however close a passage is otherwise - the passage
        would answer a neighbouring question. Used when the learned
        classifier does not already take the examples as a class of its own."""
        if not self.out_of_scope or (self.classifier is not None and self.classifier.has_rejects):
            return None
        asked = set(content_stems(text))
        if not asked:
            return None
        if self._known is None:
            self._known = frozenset(
                s
                for p in self.passages
                for s in content_stems(f"{p.title} {p.text} {p.answer or ''}")
            )
        for example, topic in zip(self.out_of_scope, _topic_stems(self.out_of_scope), strict=True):
            own = topic - self._known
            if own and 2 * len(own & asked) > len(own):
                return example
        return None

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

        for detect, why in (
            (human_request, HandoffReason.HUMAN_REQUESTED),
            (upset, HandoffReason.CUSTOMER_UPSET),
            (billing_dispute, HandoffReason.BILLING_DISPUTE),
        ):
            signal = detect(text)
            if signal is not None:
                reason_text = f"{_REASON_TEXT[why]} ({signal.evidence!r})"
                return self._escalate(why, reason_text, language, name, summary, 0.0, ())
        example = self.out_of_scope_example(text)
        if example is not None:
            reason_text = (
                f"{_REASON_TEXT[HandoffReason.NO_CONFIDENT_ANSWER]}"
                f" (out of scope, like the business's example {example!r})"
            )
            return self._escalate(
                HandoffReason.NO_CONFIDENT_ANSWER, reason_text, language, name, summary, 0.0, ()
            )

        own = self.own_answer(text, language) if self.own_answer is not None else None
        if own:
            result = TriageResult(
                full_name=name,
                issue_summary=summary,
                decision=Decision.FULL_ANSWER,
                draft_reply=own,
                language=language,
            )
            return Analysis(result, None, 1.0, ())

        t = self.thresholds
        vague = (
            len(content_stems(text)) <= t.vague_content_words and len(words(text)) <= t.vague_words
        )
        if self.composer is not None:
            return self._compose(text, earlier, vague, language, name, summary)
        query = f"{earlier[-1]} {text}" if vague and earlier else text
        matches = tuple(self.search(query, limit=3))
        confidence = matches[0].score if matches else 0.0
        if self.index.known_share(query) < t.known_words:
            confidence = 0.0
        threshold = t.answer
        if self.classifier is not None and self.classifier.has_rejects:
            threshold = t.answer_with_rejects
        if matches and confidence >= threshold:
            best = matches[0]
            intro = _ANSWER_INTRO[language].format(title=best.passage.title or best.passage.id)
            reply = f"{intro}\n\n{_quote(best.passage, best.best_unit)}"
            return self._answer(
                reply, language, name, summary, [best.passage.id], confidence, matches
            )
        if vague:
            if matches and confidence >= t.suggest:
                title = matches[0].passage.title or matches[0].passage.id
                question = _SUGGEST[language].format(title=title)
            else:
                question = _ASK[language]
            return self._ask(question, language, name, summary, confidence, matches)
        return self._escalate(
            HandoffReason.NO_CONFIDENT_ANSWER,
            f"{_REASON_TEXT[HandoffReason.NO_CONFIDENT_ANSWER]} (confidence {confidence:.2f})",
            language,
            name,
            summary,
            confidence,
            matches,
        )

    def _compose(
        self,
        text: str,
        earlier: list[str],
        vague: bool,
        language: Language,
        name: str | None,
        summary: str,
    ) -> Analysis:
        assert self.composer is not None
        composed = self.composer.compose(
            text, language, earlier, threshold=self.thresholds.compose_answer
        )
        if composed.kind == "none" and vague and earlier:
            composed = self.composer.compose(
                f"{earlier[-1]} {text}",
                language,
                earlier[:-1],
                threshold=self.thresholds.compose_answer,
            )
        matches: tuple[Match, ...] = ()
        if composed.kind == "none" and self.thresholds.similar:
            similar = self._similar(text, earlier)
            if similar is not None:
                best, body, confidence = similar
                title = best.passage.title or best.passage.id
                reply = f"{body}\n\n{_SOURCE[language].format(title=title)}"
                citations = [best.passage.id]
                return self._answer(reply, language, name, summary, citations, confidence, (best,))
        language = composed.language or language
        if composed.kind == "answer":
            reply = f"{composed.text}\n\n{_SOURCE[language].format(title=composed.title)}"
            citations = list(composed.citations)
            return self._answer(
                reply, language, name, summary, citations, composed.confidence, matches
            )
        if composed.kind == "clarify":
            template, last = _CLARIFY[language]
            *head, tail = composed.options
            options = f"{', '.join(head)}{last}{tail}"
            question = template.format(options=options)
            return self._ask(question, language, name, summary, composed.confidence, matches)
        if vague:
            return self._ask(_ASK[language], language, name, summary, composed.confidence, matches)
        reason = _REASON_TEXT[HandoffReason.NO_CONFIDENT_ANSWER]
        return self._escalate(
            HandoffReason.NO_CONFIDENT_ANSWER,
            f"{reason} ({composed.note})",
            language,
            name,
            _handoff_summary(summary, earlier),
            composed.confidence,
            matches,
        )

    def _similar(self, text: str, earlier: list[str]) -> tuple[Match, str, float] | None:
        """The passage most similar to ``text`` as a whole (``KnowledgeIndex``), when the
        sentence composer found no sentence carrying the answer: prose answers a factoid
        question in words the question does not repeat. Answered only when the similarity
        reaches ``Thresholds.answer``, most question words are known, the passage fits the
        entities named, and a value asked for (a price, a date, a duration) is in the
        excerpt."""
        assert self.composer is not None
        t = self.thresholds
        if not self.passages or self.index.known_share(text) < t.known_words:
            return None
        matches = self.search(text, limit=1)
        if not matches or matches[0].score < t.answer:
            return None
        best = matches[0]
        query = self.composer.read(text, earlier)
        info = self.composer.infos[self._positions[id(best.passage)]]
        if not self.composer.fits_entities(info, query):
            return None
        texts = [u.text for u in info.units]
        at = texts.index(best.best_unit) if best.best_unit in texts else 0
        body = self.composer.excerpt(info, at, query)
        asked = query.concepts & VALUE_CONCEPTS
        if asked - values(body):
            return None
        return best, body, best.score

    @staticmethod
    def _answer(
        reply: str,
        language: Language,
        name: str | None,
        summary: str,
        citations: list[str],
        confidence: float,
        matches: tuple[Match, ...],
        decision: Decision = Decision.FULL_ANSWER,
    ) -> Analysis:
        """A reply that states an answer (or, as ``decision``, asks a question)."""
        result = TriageResult(
            full_name=name,
            issue_summary=summary,
            decision=decision,
            draft_reply=reply,
            language=language,
            citations=citations,
        )
        return Analysis(result, None, confidence, matches)

    @classmethod
    def _ask(
        cls,
        question: str,
        language: Language,
        name: str | None,
        summary: str,
        confidence: float,
        matches: tuple[Match, ...],
    ) -> Analysis:
        return cls._answer(
            question, language, name, summary, [], confidence, matches, Decision.NEED_MORE_INFO
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


@functools.lru_cache(maxsize=256)
def _topic_stems(examples: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """The content stems of each example that carry a topic (not ``lexicon.FILLERS``); a
    tenant's examples change rarely, so each list is analysed once per process."""
    return tuple(frozenset(content_stems(e)) - _FILLER_STEMS for e in examples)


def _handoff_summary(summary: str, earlier: Sequence[str]) -> str:
    """What an operator reads first: the question, after the customer's previous message
    when there was one (a follow-up makes sense only with it)."""
    if not earlier:
        return summary
    before = " ".join(earlier[-1].split())[:80]
    return f"{summary} (after: {before})"[:200]


def _full_name(text: str) -> str | None:
    found = _NAME.search(text)
    if not found:
        return None
    return (found.group(1) or found.group(2)).strip()
