"""Plain text: paragraphs split on blank lines; numbered or capitalised lines are headings."""

from __future__ import annotations

import re

from frontline.knowledge.parsing.base import Block, clean
from frontline.knowledge.parsing.qa import _A_RE, _Q_RE

# "1. Title", "1.2 Title", "1.2.3. Title" (not "10 Downing Street")
_NUMBERED_HEADING_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,4}\.?|\d{1,2}\.)\s+\S")


def _parse_text(text: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", "\n".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = clean(raw)
        if not line:
            flush()
            continue
        if _Q_RE.match(line) or _A_RE.match(line):
            flush()
        para.append(line)
    flush()
    return [_text_heading(b) for b in blocks]


def _numbering_depth(match: re.Match[str]) -> int:
    """1 for "2.", 2 for "2.1", 3 for "2.1.3."."""
    return len(re.findall(r"\d+", match.group(1)))


def _text_heading(block: Block) -> Block:
    """A one-line paragraph that is numbered or in capitals, without final punctuation."""
    text = block.text
    if "\n" in text or len(text) > 80 or len(text.split()) > 12 or text[-1] in ".,;:!":
        return block
    if _Q_RE.match(text) or _A_RE.match(text):
        return block
    numbered = _NUMBERED_HEADING_RE.match(text)
    if numbered is not None and text[numbered.end() - 1].isupper():
        return Block("heading", text, level=min(_numbering_depth(numbered), 6))
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return Block("heading", text, level=1)
    return block
