"""Structure-aware chunking: a :class:`~frontline.knowledge.parsing.ParsedDocument` into
retrieval chunks. Pure functions.

Rules of :func:`chunk_document`:

- a heading closes the current chunk and updates the heading path (a heading of level
  ``n`` replaces the path from depth ``n`` down); a chunk never spans two sections. A
  heading with no content of its own (the next heading is not below it - steps or terms
  written as headings) is not lost: its text becomes content of the parent section;
- paragraphs, list items and tables accumulate, separated by a blank line, to about
  ``target_chars``: a unit that would take the chunk past ``target_chars`` still joins it
  when the result is nearer to the target than the chunk without it and stays within
  ``max_chars``; otherwise it starts the next chunk. No chunk but a question/answer one
  exceeds ``max_chars``;
- a paragraph longer than ``max_chars`` is cut at sentence boundaries into pieces of about
  ``target_chars``; each piece after the first starts with the last sentence(s) of the
  previous one, at most ``overlap_chars`` (the last words when one sentence is longer);
- consecutive list items form one unit (``"- item"`` lines, nested items indented by two
  spaces) and stay in one chunk; a list longer than ``max_chars`` is cut between items;
- a table longer than ``max_chars`` is cut between rows, each piece starting with the
  header row;
- a ``qa`` block is always exactly one chunk of its own, never cut and never merged, even
  when longer than ``max_chars`` (the parser keeps pairs short).

Chunk text never contains the heading path (it is stored separately, in
:attr:`Chunk.heading_path`); :func:`chunk_search_text` joins title, path and text for the
search index.

Question/answer text format (:func:`faq_chunk`, ``qa`` blocks): the question on the first
line, its own line breaks replaced by spaces, then a newline and the answer as written -
``"How do I pay?\\nBy card or bank transfer."``. So ``text.split("\\n", 1)`` gives the
question and the answer back (:func:`split_qa`). No "Q:"/"A:" labels: they would be noise
in extractive answers and are language-specific.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from frontline.knowledge.parsing import Block, ParsedDocument, format_qa


@dataclass(frozen=True, slots=True)
class Chunk:
    """``ordinal`` is the 0-based position in the document; ``page`` the 1-based PDF page
    where the chunk starts (``None`` for other formats and for manual FAQ entries)."""

    ordinal: int
    text: str
    heading_path: tuple[str, ...]
    page: int | None


_UNIT_SEPARATOR = "\n\n"


def chunk_document(
    doc: ParsedDocument,
    *,
    target_chars: int = 900,
    max_chars: int = 1500,
    overlap_chars: int = 150,
) -> list[Chunk]:
    """Cut ``doc`` into chunks following its structure (see the module docstring)."""
    if not 0 < target_chars <= max_chars:
        raise ValueError("need 0 < target_chars <= max_chars")
    if not 0 <= overlap_chars < target_chars:
        raise ValueError("need 0 <= overlap_chars < target_chars")
    builder = _Builder(target_chars, max_chars)
    path: list[tuple[int, str]] = []
    # the last heading while no content followed it: (level, text, page)
    bare: tuple[int, str, int | None] | None = None
    blocks = doc.blocks
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind == "heading":
            level = max(block.level, 1)
            text = " ".join(block.text.split())
            if not text:
                i += 1
                continue
            if bare is not None and level <= bare[0]:
                # a section with no content at all (steps written as headings, say):
                # its heading's words become content of the parent section
                builder.add(bare[1], bare[2], _names(path[:-1]))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            bare = (level, text, block.page)
            i += 1
            continue
        bare = None
        names = _names(path)
        if block.kind == "qa":
            builder.flush()
            text = format_qa(block.question, block.answer) if block.question else block.text
            builder.single(text.strip(), names, block.page)
            i += 1
            continue
        if block.kind == "list_item":
            j = i
            while j < len(blocks) and blocks[j].kind == "list_item":
                j += 1
            units = _list_units(blocks[i:j], target_chars, max_chars, overlap_chars)
            i = j
        elif block.kind == "table":
            units = _table_units(block.text, target_chars, max_chars, overlap_chars)
            i += 1
        else:
            text = block.text.strip()
            units = (
                split_text(text, target_chars, max_chars, overlap_chars)
                if len(text) > max_chars
                else [text]
            )
            i += 1
        for unit in units:
            builder.add(unit, block.page, names)
    if bare is not None:
        builder.add(bare[1], bare[2], _names(path[:-1]))
    builder.flush()
    return builder.chunks


def _names(path: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(name for _, name in path)


def faq_chunk(question: str, answer: str) -> Chunk:
    """The single chunk of a manual FAQ entry (text format: :func:`format_qa`)."""
    text = format_qa(question, answer)
    if not text:
        raise ValueError("an FAQ entry needs a question or an answer")
    return Chunk(ordinal=0, text=text, heading_path=(), page=None)


def split_qa(text: str) -> tuple[str, str]:
    """The question and the answer of a question/answer chunk's text."""
    question, _, answer = text.partition("\n")
    return question.strip(), answer.strip()


def chunk_search_text(chunk: Chunk, title: str) -> str:
    """What to index for ``chunk``: the document title, the heading path (``" > "``
    between levels) and the text, one per line; a first heading equal to the title is not
    repeated."""
    title = " ".join(title.split())
    path = list(chunk.heading_path)
    if path and title and path[0].casefold() == title.casefold():
        path = path[1:]
    parts = [title, " > ".join(path), chunk.text]
    return "\n".join(part for part in parts if part)


# --------------------------------------------------------------------------------------


class _Builder:
    """Accumulates units into chunks; a chunk holds units of one heading path only."""

    def __init__(self, target: int, max_chars: int) -> None:
        self.target = target
        self.max = max_chars
        self.chunks: list[Chunk] = []
        self._parts: list[str] = []
        self._length = 0
        self._page: int | None = None
        self._path: tuple[str, ...] = ()

    def add(self, text: str, page: int | None, path: tuple[str, ...]) -> None:
        if not text:
            return
        if self._parts:
            combined = self._length + len(_UNIT_SEPARATOR) + len(text)
            if (
                path != self._path
                or combined > self.max
                # past the target: add only if that ends nearer to it than stopping here
                or (combined > self.target and combined - self.target >= self.target - self._length)
            ):
                self.flush()
        if not self._parts:
            self._page = page
            self._path = path
            self._length = len(text)
        else:
            self._length += len(_UNIT_SEPARATOR) + len(text)
        self._parts.append(text)

    def flush(self) -> None:
        if self._parts:
            self.single(_UNIT_SEPARATOR.join(self._parts), self._path, self._page)
        self._parts = []
        self._length = 0
        self._page = None

    def single(self, text: str, path: tuple[str, ...], page: int | None) -> None:
        if text:
            self.chunks.append(
                Chunk(ordinal=len(self.chunks), text=text, heading_path=path, page=page)
            )


def _pack(
    items: Iterable[str], target: int, max_chars: int, separator: str, prefix: str = ""
) -> list[str]:
    """Greedy packing of ``items`` (each short enough) into pieces of about ``target``."""
    pieces: list[str] = []
    current: list[str] = []
    length = len(prefix)
    for item in items:
        extra = len(item) + (len(separator) if current or prefix else 0)
        if current and (length + extra > target or length + extra > max_chars):
            pieces.append(
                prefix + separator.join(current)
                if not prefix
                else prefix + separator + separator.join(current)
            )
            current = []
            length = len(prefix)
            extra = len(item) + (len(separator) if prefix else 0)
        current.append(item)
        length += extra
    if current:
        pieces.append(
            prefix + separator.join(current)
            if not prefix
            else prefix + separator + separator.join(current)
        )
    return pieces


def _list_units(items: list[Block], target: int, max_chars: int, overlap: int) -> list[str]:
    lines: list[str] = []
    for item in items:
        text = " ".join(item.text.split())
        if not text:
            continue
        indent = "  " * max(item.level, 0)
        line = f"{indent}- {text}"
        if len(line) <= max_chars:
            lines.append(line)
        else:
            pieces = split_text(
                text,
                target - len(indent) - 2,
                max_chars - len(indent) - 2,
                min(overlap, max(target - len(indent) - 3, 0)),
            )
            lines.extend(f"{indent}- {piece}" for piece in pieces)
    whole = "\n".join(lines)
    if len(whole) <= max_chars:
        return [whole] if whole else []
    return _pack(lines, target, max_chars, "\n")


def _table_units(text: str, target: int, max_chars: int, overlap: int) -> list[str]:
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    rows = [row for row in text.split("\n") if row.strip()]
    header, body = rows[0], rows[1:]
    room = max_chars - len(header) - 1
    if not body or room < max_chars // 3:
        # no body, or a header that leaves too little room: cut like text
        return split_text("\n".join(rows), target, max_chars, overlap)
    row_target = max(target - len(header) - 1, room // 2)
    fitted: list[str] = []
    for row in body:
        if len(row) <= room:
            fitted.append(row)
        else:
            fitted.extend(split_text(row, row_target, room, min(overlap, row_target - 1)))
    return _pack(fitted, target, max_chars, "\n", prefix=header)


_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+(?![a-zа-яё])|\n+")
_LAST_WORD_RE = re.compile(r"(\w+)[.]$")
# a period after these (or after a single letter: initials) does not end a sentence
_ABBREVIATIONS = frozenset(
    re.split(
        r"\s+",
        "г гг ул д дом кв корп стр пр просп пер пл наб пос обл р-н им тел руб коп млн млрд тыс "
        "см мин макс ок ср др проф доц акад т е п н э mr mrs ms dr st no vs etc approx tel",
    )
)


def _sentences(text: str) -> list[str]:
    """Sentences with their trailing whitespace (so ``"".join`` restores the text)."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        mark = match.group().rstrip()
        if mark == ".":
            word = _LAST_WORD_RE.search(text, max(match.start() - 12, start), match.start() + 1)
            if word is not None and (
                len(word.group(1)) == 1 or word.group(1).lower() in _ABBREVIATIONS
            ):
                continue
        out.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _split_words(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut between words if possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        pieces.append(rest[:cut] + " ")
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _tail(sentences: list[str], overlap: int) -> list[str]:
    """The last sentences of a piece, at most ``overlap`` characters together; the last
    words of the last sentence when it alone is longer."""
    if overlap <= 0 or not sentences:
        return []
    taken: list[str] = []
    length = 0
    for sentence in reversed(sentences):
        if length + len(sentence) > overlap:
            break
        taken.insert(0, sentence)
        length += len(sentence)
    if taken:
        return taken
    last = sentences[-1].rstrip()
    words = last.split(" ")
    tail: list[str] = []
    length = 0
    for word in reversed(words):
        if length + len(word) + 1 > overlap:
            break
        tail.insert(0, word)
        length += len(word) + 1
    return [" ".join(tail) + " "] if tail else []


def split_text(text: str, target_chars: int, max_chars: int, overlap_chars: int) -> list[str]:
    """Cut a long text at sentence boundaries into pieces of about ``target_chars`` (never
    over ``max_chars``), each piece after the first repeating up to ``overlap_chars`` of the
    end of the previous one."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    units: list[str] = []
    for sentence in _sentences(text):
        if len(sentence.rstrip()) > target_chars:
            units.extend(_split_words(sentence.strip(), target_chars))
            units[-1] = units[-1] + " "
        else:
            units.append(sentence)
    pieces: list[str] = []
    current: list[str] = []
    length = 0
    fresh = False  # current holds at least one unit not already in the previous piece
    for unit in units:
        if fresh and length + len(unit.rstrip()) > target_chars:
            pieces.append("".join(current).strip())
            current = _tail(current, overlap_chars)
            length = sum(len(s) for s in current)
            if length + len(unit.rstrip()) > max_chars:
                current, length = [], 0
            fresh = False
        current.append(unit)
        length += len(unit)
        fresh = True
    if fresh:
        pieces.append("".join(current).strip())
    return [piece for piece in pieces if piece]
