"""Plain text: paragraphs split on blank lines; numbered or capitalised lines are headings."""

from __future__ import annotations

from frontline.knowledge.parsing.base import (
    NUMBERED_HEADING_RE,
    Block,
    Extracted,
    Source,
    clean,
    numbering_depth,
)
from frontline.knowledge.parsing.qa import A_RE, Q_RE


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
        if Q_RE.match(line) or A_RE.match(line):
            flush()
        para.append(line)
    flush()
    return [_text_heading(b) for b in blocks]


def _text_heading(block: Block) -> Block:
    """A one-line paragraph that is numbered or in capitals, without final punctuation."""
    text = block.text
    if "\n" in text or len(text) > 80 or len(text.split()) > 12 or text[-1] in ".,;:!":
        return block
    if Q_RE.match(text) or A_RE.match(text):
        return block
    numbered = NUMBERED_HEADING_RE.match(text)
    if numbered is not None and text[numbered.end() - 1].isupper():
        return Block("heading", text, level=min(numbering_depth(numbered), 6))
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return Block("heading", text, level=1)
    return block


def parse(source: Source) -> Extracted:
    """Plain text: the decoded text."""
    blocks = _parse_text(source.text)
    source.progress(1, 1)
    return Extracted(blocks)
