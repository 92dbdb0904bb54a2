"""``frontline eval answers``: the offline engine over the demo knowledge base answers its
own QA set (paraphrases, terse forms, typos, transliteration, follow-ups) and declines what
it must not answer. Thresholds sit a little under the figures measured when this was
written, so a change that makes the engine answer less, or wrongly, fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontline.cli import main as cli_main
from frontline.knowledge.evaluate_answers import (
    AnswerReport,
    QAItem,
    evaluate_answers,
    load_qa,
    render,
)


@pytest.fixture(scope="module")
def report() -> AnswerReport:
    return evaluate_answers()


def test_the_qa_set_is_big_and_varied() -> None:
    items = load_qa()
    assert len(items) >= 75
    assert sum(not i.answer for i in items) >= 15
    kinds = {i.kind for i in items}
    assert {"paraphrase", "terse", "typo", "translit", "follow-up", "out of scope"} <= kinds
    assert {i.lang for i in items} == {"ru", "en"}


def test_answers_and_honest_confidence(report: AnswerReport) -> None:
    m = report.metrics()
    # measured: 60 right, 0 confidently wrong, 0 held back, 19 of 19 declined, with the
    # semantic re-rank as without it (the previous engine: 56 / 3 / 1 / 19); the part the
    # lexicon was not developed on: 20 right
    assert m["right"] >= 59
    assert m["confidently_wrong"] <= 1
    assert m["precision"] >= 0.98
    assert m["holdout_precision"] >= 0.95 and m["holdout_recall"] >= 0.9
    assert m["declined"] >= m["questions"] - sum(o.item.answer for o in report.outcomes) - 1


def test_the_demo_pages_questions_are_answered(report: AnswerReport) -> None:
    demo = [o for o in report.outcomes if o.item.kind == "demo"]
    assert len(demo) == 4
    assert all(o.outcome == "right" for o in demo), [(o.item.q, o.reply) for o in demo]


def test_every_must_not_answer_is_declined(report: AnswerReport) -> None:
    wrong = [o.item.q for o in report.outcomes if not o.item.answer and o.decision == "full_answer"]
    assert wrong == []


def test_a_qa_set_of_ones_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"q": "Сколько стоит тур на Байкал?", "expect": ["45 000"]},
        {"q": "Do you sell flights to Paris?", "answer": False, "lang": "en"},
    ]
    qa.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    assert [i.q for i in load_qa(qa)] == [r["q"] for r in rows]
    assert cli_main(["eval", "answers", "--qa", str(qa), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["right"] == 1 and printed["declined"] == 1


def test_render_lists_the_confidently_wrong() -> None:
    item = QAItem(
        q="Сколько стоит тур на Байкал?", expect=("99 999",), answer=True, lang="ru", kind=""
    )
    report = evaluate_answers([item])
    text = render(report)
    assert "Confidently wrong:" in text and "Сколько стоит тур на Байкал?" in text
