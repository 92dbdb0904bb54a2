"""``frontline eval answers``: the offline engine answering a QA set over a knowledge base,
the way a turn runs it (search the base, then triage over the top passages).

The default is the demo workspace's knowledge base (``frontline/demo_knowledge``: its
Markdown files and FAQ entries, chunked and indexed as an upload is) and its QA set
(``demo_knowledge/qa.jsonl``). Each QA line: ``q`` (the customer's message), ``history``
(their earlier messages, oldest first), ``expect`` (facts the reply must contain, compared
case- and space-insensitively), ``answer`` (false: the question must not be answered - a
service or place the business does not offer, a dispute, a request for a person), ``lang``
and ``kind`` (paraphrase, terse, typo, translit, follow-up, out of scope...).

Outcomes per question: *right* (answered with every expected fact), *confidently wrong*
(answered, but a fact is missing or the question must not be answered), *held back*
(should be answered, was not: a clarifying question or a handoff), *declined* (must not
be answered, was not). A confidently wrong answer is worse than a held-back one; both are
reported, and each confidently wrong case is listed.

Lines are split into two fixed parts by position (every third line is ``holdout``): the
engine's lexicon and thresholds were developed looking at the first part's failures only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from frontline.ai.base import ChatMessage
from frontline.ai.offline import (
    DOCUMENT_THRESHOLDS,
    Decision,
    Language,
    OfflineEngine,
    Passage,
)
from frontline.ai.offline.retrieval import chunk_passage, follow_up, search_query
from frontline.knowledge import rerank
from frontline.knowledge.chunking import chunk_document, faq_chunk
from frontline.knowledge.evaluate import Row
from frontline.knowledge.index import TenantIndex
from frontline.knowledge.parsing import parse_document
from frontline.knowledge.rerank import passage_text
from frontline.knowledge.service import index_terms

PASSAGES = 5  # as the AI turn (flows.KNOWLEDGE_PASSAGES)
OUTCOMES = ("right", "confidently_wrong", "held_back", "declined")


@dataclass(frozen=True, slots=True)
class QAItem:
    q: str
    expect: tuple[str, ...]
    answer: bool
    lang: str
    kind: str
    history: tuple[str, ...] = ()
    holdout: bool = False


@dataclass(slots=True)
class Outcome:
    item: QAItem
    outcome: str
    decision: str
    reply: str


@dataclass(slots=True)
class AnswerReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str, part: str = "", lang: str = "") -> int:
        return sum(
            1
            for o in self.outcomes
            if o.outcome == outcome
            and (not part or o.item.holdout == (part == "holdout"))
            and (not lang or o.item.lang == lang)
        )

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part in ("", "tune", "holdout"):
            prefix = f"{part}_" if part else ""
            chosen = [o for o in self.outcomes if not part or o.item.holdout == (part == "holdout")]
            should = [o for o in chosen if o.item.answer]
            answered = [o for o in chosen if o.outcome in ("right", "confidently_wrong")]
            for outcome in OUTCOMES:
                out[f"{prefix}{outcome}"] = float(self.count(outcome, part))
            out[f"{prefix}questions"] = float(len(chosen))
            out[f"{prefix}precision"] = (
                sum(o.outcome == "right" for o in answered) / len(answered) if answered else 1.0
            )
            out[f"{prefix}recall"] = (
                sum(o.outcome == "right" for o in should) / len(should) if should else 0.0
            )
        return out


def _demo_folder() -> Any:
    return resources.files("frontline") / "demo_knowledge"


def demo_knowledge() -> list[tuple[int, Passage, str, str]]:
    """The demo knowledge base as ``(chunk id, passage, stored terms, re-rank text)``: each
    Markdown file parsed, chunked and analysed as an upload is, then the FAQ entries."""
    folder = _demo_folder()
    out: list[tuple[int, Passage, str, str]] = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".md"):
            continue
        parsed = parse_document(item.read_bytes(), filename=item.name)
        chunks = chunk_document(parsed)
        for chunk, terms in zip(chunks, index_terms(chunks, parsed.title), strict=True):
            passage = chunk_passage(len(out) + 1, parsed.title, chunk.heading_path, chunk.text)
            text = passage_text(parsed.title, chunk.heading_path, chunk.text)
            out.append((len(out) + 1, passage, terms, text))
    faq = json.loads((folder / "faq.json").read_text("utf-8"))
    for entry in faq:
        chunk = faq_chunk(entry["question"], entry["answer"])
        [terms] = index_terms([chunk], entry["question"])
        passage = chunk_passage(len(out) + 1, entry["question"], (), chunk.text, entry["answer"])
        text = passage_text(entry["question"], (), chunk.text)
        out.append((len(out) + 1, passage, terms, text))
    return out


def load_qa(path: Path | None = None) -> list[QAItem]:
    text = (
        path.read_text("utf-8")
        if path is not None
        else (_demo_folder() / "qa.jsonl").read_text("utf-8")
    )
    items = []
    for number, line in enumerate(line for line in text.splitlines() if line.strip()):
        row = json.loads(line)
        items.append(
            QAItem(
                q=row["q"],
                expect=tuple(row.get("expect", ())),
                answer=bool(row.get("answer", True)),
                lang=row.get("lang", "ru"),
                kind=row.get("kind", ""),
                history=tuple(row.get("history", ())),
                holdout=number % 3 == 2,
            )
        )
    return items


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").casefold().split())


def _judge(item: QAItem, decision: Decision, reply: str) -> str:
    answered = decision is Decision.FULL_ANSWER
    if not item.answer:
        return "confidently_wrong" if answered else "declined"
    if not answered:
        return "held_back"
    body = _norm(reply)
    return "right" if all(_norm(fact) in body for fact in item.expect) else "confidently_wrong"


def evaluate_answers(
    qa: Sequence[QAItem] | None = None, default_language: Language = "ru"
) -> AnswerReport:
    """Every QA item asked in turn over the demo knowledge base (see the module doc),
    searched as the product searches: a ``TenantIndex`` with the semantic re-rank when its
    packages are installed."""
    items = list(qa) if qa is not None else load_qa()
    knowledge = demo_knowledge()
    passages = {chunk_id: passage for chunk_id, passage, _, _ in knowledge}
    encoder = rerank.encoder()
    vectors = encoder.passages([text for *_, text in knowledge]) if encoder is not None else None
    index = TenantIndex()
    index.add(
        [
            Row(chunk_id, terms, rerank.vector_bytes(vectors[n]) if vectors is not None else None)
            for n, (chunk_id, _, terms, _) in enumerate(knowledge)
        ]
    )
    report = AnswerReport()
    language = default_language
    for item in items:
        query = search_query(item.q, item.history)
        semantic = follow_up(item.q, item.history)  # as the turn: the message, not the expansion
        query_vector = encoder.queries([semantic])[0] if encoder is not None else None
        found = [
            passages[i]
            for i, _ in index.rank(query, PASSAGES, rerank_vector=query_vector)[:PASSAGES]
        ]
        engine = OfflineEngine(found, thresholds=DOCUMENT_THRESHOLDS, default_language=language)
        history = tuple(ChatMessage("user", h) for h in item.history)
        result = engine.triage(item.q, history)
        report.outcomes.append(
            Outcome(
                item,
                _judge(item, result.decision, result.draft_reply),
                result.decision.value,
                result.draft_reply,
            )
        )
    return report


def render(report: AnswerReport) -> str:
    m = report.metrics()
    lines = [
        "Offline answers over the demo knowledge base",
        f"{'part':<8} {'questions':>9} {'right':>6} {'conf. wrong':>11} {'held back':>9}"
        f" {'declined':>8} {'precision':>9} {'recall':>6}",
    ]
    for part in ("", "tune", "holdout"):
        p = f"{part}_" if part else ""
        lines.append(
            f"{part or 'all':<8} {m[p + 'questions']:>9.0f} {m[p + 'right']:>6.0f}"
            f" {m[p + 'confidently_wrong']:>11.0f} {m[p + 'held_back']:>9.0f}"
            f" {m[p + 'declined']:>8.0f} {m[p + 'precision']:>9.3f} {m[p + 'recall']:>6.3f}"
        )
    wrong = [o for o in report.outcomes if o.outcome == "confidently_wrong"]
    if wrong:
        lines.append("Confidently wrong:")
        for o in wrong:
            reply = " ".join(o.reply.split())[:160]
            lines.append(f"  [{o.item.lang}] {o.item.q!r} -> {reply!r}")
    return "\n".join(lines)


def iter_held_back(report: AnswerReport) -> Iterator[Outcome]:
    return (o for o in report.outcomes if o.outcome == "held_back")
