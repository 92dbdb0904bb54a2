"""Question/answer pairs, in every format: a ``Q:`` paragraph followed by an ``A:`` one
becomes one ``qa`` block (see :func:`frontline.knowledge.parsing.format_qa`)."""

from __future__ import annotations

import re

from frontline.knowledge.parsing.base import Block, format_qa

# "Q:", "Q1:", "Question 2:", "Вопрос №3:", "В:" - but not "в 10:00"
_Q_MARK = r"(?:(?:q|в)\d{0,3}|(?:question|вопрос)(?:\s*№?\s*\d{1,3})?)\s*[:：]"
_A_MARK = r"(?:(?:a|о|o)\d{0,3}|(?:answer|ответ)(?:\s*№?\s*\d{1,3})?)\s*[:：]"
Q_RE = re.compile(rf"^{_Q_MARK}\s*", re.I)
A_RE = re.compile(rf"^{_A_MARK}\s*", re.I)
_A_LINE_RE = re.compile(rf"\n(?={_A_MARK})", re.I)


def pair_qa(blocks: list[Block], cap: int) -> list[Block]:
    out: list[Block] = []
    i = 0
    n = len(blocks)
    while i < n:
        block = blocks[i]
        q_match = Q_RE.match(block.text) if block.kind == "paragraph" else None
        if q_match is None:
            out.append(block)
            i += 1
            continue
        rest = block.text[q_match.end() :]
        j = i + 1
        inline = _A_LINE_RE.split(rest, maxsplit=1)
        if len(inline) == 2:
            question = inline[0]
            answer = A_RE.sub("", inline[1], count=1)
        elif j < n and blocks[j].kind == "paragraph" and A_RE.match(blocks[j].text):
            question = rest
            answer = A_RE.sub("", blocks[j].text, count=1)
            j += 1
        else:
            out.append(block)
            i += 1
            continue
        question = " ".join(question.split())
        answer = answer.strip()
        while j < n and blocks[j].kind in ("paragraph", "list_item"):
            nxt = blocks[j]
            if Q_RE.match(nxt.text) or A_RE.match(nxt.text):
                break
            piece = _render_list_item(nxt) if nxt.kind == "list_item" else nxt.text
            if len(question) + len(answer) + len(piece) + 2 > cap:
                break
            answer = f"{answer}\n{piece}"
            j += 1
        if question and answer and len(question) + len(answer) + 1 <= cap:
            out.append(
                Block(
                    "qa",
                    format_qa(question, answer),
                    page=block.page,
                    question=question,
                    answer=answer,
                )
            )
        else:
            out.extend(blocks[i:j])
        i = j
    return out


def _render_list_item(block: Block) -> str:
    return "  " * block.level + "- " + block.text
