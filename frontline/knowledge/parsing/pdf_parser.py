"""PDF with ``pypdf``: font sizes, bold fonts and vertical gaps recover headings and
paragraphs; running headers/footers repeated on most pages are dropped."""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from frontline.knowledge.parsing.base import (
    NUMBERED_HEADING_RE,
    Block,
    BlockKind,
    DocumentError,
    Extracted,
    ParseLimits,
    Source,
    clean,
    clean_inline,
    numbering_depth,
    shorten,
)
from frontline.knowledge.parsing.qa import A_RE, Q_RE

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _PdfLine:
    text: str
    page: int
    y: float | None
    size: float
    bold: bool


_TERMINAL = '.!?…:;»")'
_BULLET_RE = re.compile(r"^(?:[•●▪■◦‣∙·○►✓✔\-–—*]\s+|\d{1,3}[.)]\s+)")
_BULLET_ONLY_RE = re.compile(r"^[•●▪■◦‣∙·○►]$")
_PAGE_NUMBER_RE = re.compile(
    r"^(?:(?:page|стр\.?|страница)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:of|из|/)\s*\d{1,4})?$",
    re.I,
)
_BOLD_FONT_RE = re.compile(r"bold|black|heavy|semibold|demi", re.I)


def _parse_pdf(
    data: bytes, limits: ParseLimits, on_page: Callable[[int, int], None] | None
) -> tuple[int, list[Block]]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except LimitReachedError as exc:
        raise _pdf_limit(exc) from exc
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise _pdf_corrupt(exc) from exc
    if encrypted:
        try:
            # an empty user password (only editing restricted) opens in every viewer
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception:
            opened = False
        if not opened:
            raise DocumentError(
                "the PDF is encrypted (password-protected); remove the password and upload "
                "it again",
                code="encrypted",
            )
    try:
        total = len(reader.pages)
    except LimitReachedError as exc:
        raise _pdf_limit(exc) from exc
    except Exception as exc:
        raise _pdf_corrupt(exc) from exc
    if total == 0:
        raise DocumentError("the PDF has no pages", code="corrupt")
    if total > limits.max_pages:
        raise DocumentError(
            f"the PDF has more than {limits.max_pages} pages", code="too_many_pages"
        )
    lines: list[_PdfLine] = []
    failures = 0
    chars = 0
    first_error: Exception | None = None
    for index in range(total):
        try:
            page_lines = _pdf_page_lines(reader.pages[index], index + 1)
        except LimitReachedError as exc:
            raise _pdf_limit(exc) from exc
        except Exception as exc:
            # one broken page should not cost the whole document
            logger.info("pdf page %d failed: %r", index + 1, exc)
            failures += 1
            first_error = first_error or exc
            page_lines = []
        lines.extend(page_lines)
        chars += sum(len(line.text) for line in page_lines)
        if chars > limits.max_text_chars:
            raise DocumentError(
                f"the document has too much text (more than {limits.max_text_chars:,} characters)",
                code="too_large",
            )
        if on_page is not None:
            on_page(index + 1, total)
    if failures == total and first_error is not None:
        raise _pdf_corrupt(first_error)
    lines = _drop_running_lines(lines, total)
    text_chars = "".join(line.text for line in lines)
    if not text_chars.strip():
        raise DocumentError(
            "no text found: the PDF seems to contain only scanned images (text recognition "
            "is not supported)",
            code="no_text",
        )
    visible = [c for c in text_chars if not c.isspace()]
    if sum(1 for c in visible if c.isalnum()) < 0.3 * len(visible):
        raise DocumentError(
            "the text of this PDF cannot be extracted (its fonts have no character mapping)",
            code="no_text",
        )
    return total, _pdf_blocks(lines)


def _pdf_corrupt(exc: Exception) -> DocumentError:
    detail = shorten(clean_inline(str(exc)), 120)
    reason = "the PDF is damaged or incomplete and cannot be read"
    return DocumentError(f"{reason} ({detail})" if detail else reason, code="corrupt")


def _pdf_limit(exc: Exception) -> DocumentError:
    """pypdf stopped at one of its safety limits."""
    if "decompress" in str(exc).lower():
        return DocumentError(
            "the PDF contains a compressed stream too large to unpack (it looks like a "
            "decompression bomb)",
            code="zip_bomb",
        )
    return _pdf_corrupt(exc)


def _matmul(a: Sequence[float], b: Sequence[float]) -> tuple[float, ...]:
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _pdf_page_lines(page: Any, page_no: int) -> list[_PdfLine]:
    """The page's text lines with their vertical position, font size and boldness.

    The visitor sees exactly the fragments ``extract_text`` concatenates, so the lines
    are pypdf's own text, annotated.
    """
    lines: list[_PdfLine] = []
    parts: list[str] = []
    weights: Counter[tuple[float, bool]] = Counter()
    y_first: list[float | None] = [None]

    def end_line() -> None:
        text = clean_inline("".join(parts))
        if text:
            (size, bold), _ = weights.most_common(1)[0] if weights else ((0.0, False), 0)
            lines.append(_PdfLine(text, page_no, y_first[0], size, bold))
        parts.clear()
        weights.clear()
        y_first[0] = None

    def visit(text: Any, cm: Any, tm: Any, font: Any, font_size: Any) -> None:
        if not isinstance(text, str) or not text:
            return
        try:
            m = _matmul(tm, cm)
            size = round(abs(float(font_size)) * math.hypot(m[2], m[3]), 1)
            y = m[5]
        except (TypeError, ValueError, IndexError):
            size, y = 0.0, 0.0
        name = ""
        if isinstance(font, dict):
            name = str(font.get("/BaseFont", ""))
        bold = _BOLD_FONT_RE.search(name) is not None
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                end_line()
            if piece:
                parts.append(piece)
                count = len(piece.strip())
                if count:
                    weights[(size, bold)] += count
                    if y_first[0] is None:
                        y_first[0] = y

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _running_keys(line: _PdfLine, outermost: bool) -> list[tuple[str, int | None]]:
    """Identity of a possible header/footer line: its text; and for the outermost line of
    a page, also its text with the numbers masked plus how far a number is from the page
    number (a running "Page 7 of 50" keeps that distance, a section number does not)."""
    keys: list[tuple[str, int | None]] = [(line.text.lower(), None)]
    if outermost:
        masked = re.sub(r"\d+", "#", line.text.lower())
        keys.extend((masked, int(n) - line.page) for n in re.findall(r"\d{1,4}", line.text))
    return keys


def _drop_running_lines(lines: list[_PdfLine], pages: int) -> list[_PdfLine]:
    """Drop page numbers, and headers/footers repeated at the top or bottom of most pages
    (never text bigger than the body text: that is a heading)."""
    by_page: dict[int, list[int]] = {}
    for index, line in enumerate(lines):
        by_page.setdefault(line.page, []).append(index)
    edge: set[int] = set()
    outermost: set[int] = set()
    for indexes in by_page.values():
        edge.update(indexes[:2] + indexes[-2:])
        outermost.update((indexes[0], indexes[-1]))
    drop = {i for i in edge if _PAGE_NUMBER_RE.match(lines[i].text)}
    if pages >= 3:
        body = _body_size(lines)
        keys = {
            i: _running_keys(lines[i], i in outermost)
            for i in edge
            if len(lines[i].text) <= 120 and lines[i].size <= body * 1.1 + 0.01
        }
        seen: dict[tuple[str, int | None], set[int]] = {}
        for i, line_keys in keys.items():
            for key in line_keys:
                seen.setdefault(key, set()).add(lines[i].page)
        need = max(3, pages * 0.5)
        drop.update(
            i for i, line_keys in keys.items() if any(len(seen[k]) >= need for k in line_keys)
        )
    return [line for i, line in enumerate(lines) if i not in drop]


def _body_size(lines: list[_PdfLine]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def _pdf_blocks(lines: list[_PdfLine]) -> list[Block]:
    body = _body_size(lines)
    body_lines = [ln for ln in lines if body and abs(ln.size - body) <= 0.1 * body]
    typical_len = _percentile([float(len(ln.text)) for ln in body_lines or lines], 0.9)
    gaps = [
        prev.y - cur.y
        for prev, cur in itertools.pairwise(body_lines)
        if prev.page == cur.page
        and prev.y is not None
        and cur.y is not None
        and 0 < prev.y - cur.y <= 3 * max(body, 1.0)
    ]
    spacing = _percentile(gaps, 0.3) if gaps else 0.0

    def is_big(line: _PdfLine) -> bool:
        return body > 0 and line.size >= body * 1.15

    big_sizes = sorted(
        {round(ln.size * 2) / 2 for ln in lines if is_big(ln) and _heading_shape(ln.text)},
        reverse=True,
    )
    size_levels = {size: min(rank + 1, 6) for rank, size in enumerate(big_sizes)}
    extra_level = len(size_levels)

    def heading_level(line: _PdfLine, boundary: bool) -> int:
        text = line.text
        if not _heading_shape(text) or Q_RE.match(text) or A_RE.match(text):
            return 0
        if is_big(line):
            return size_levels.get(round(line.size * 2) / 2, 1)
        if not boundary or text[-1] in ".,;:!" or len(text) > 100:
            return 0
        numbered = NUMBERED_HEADING_RE.match(text)
        if numbered is not None and len(text) <= 80 and len(text.split()) <= 12:
            first = text[numbered.end() - 1]
            if first.isupper() and not text.endswith("?"):
                return min(extra_level + numbering_depth(numbered), 6)
        if line.bold and len(text.split()) <= 12:
            return min(extra_level + 1, 6)
        letters = [c for c in text if c.isalpha()]
        if len(letters) >= 4 and all(c.isupper() for c in letters) and len(text) <= 80:
            return min(extra_level + 1, 6)
        return 0

    blocks: list[Block] = []
    buf: list[str] = []
    kind: BlockKind = "paragraph"
    start_page: int | None = None
    ended = True  # the previous line closed its paragraph
    pending_bullet = False

    def flush() -> None:
        nonlocal kind, start_page
        text = clean("\n".join(buf)).replace("\n", " ")
        if text:
            if kind == "list_item":
                text = _BULLET_RE.sub("", text, count=1)
            blocks.append(Block(kind, text, page=start_page))
        buf.clear()
        kind = "paragraph"
        start_page = None

    prev: _PdfLine | None = None
    for line in lines:
        gap_break = False
        if prev is not None:
            if prev.page != line.page:
                # a paragraph runs on to the next page only mid-sentence
                gap_break = ended or not (line.text[:1].islower())
            elif prev.y is not None and line.y is not None and spacing > 0:
                delta = prev.y - line.y
                # a jump up is a new column or text box; a small one is a superscript
                gap_break = delta < -body or (
                    delta > spacing * 1.3 and delta - spacing > 0.2 * body
                )
        boundary = ended or gap_break or prev is None
        if _BULLET_ONLY_RE.match(line.text):
            flush()
            pending_bullet = True
            ended = True
            prev = line
            continue
        level = heading_level(line, boundary)
        if level:
            flush()
            last = blocks[-1] if blocks else None
            if (
                last is not None
                and last.kind == "heading"
                and last.level == level
                and prev is not None
                and prev.page == line.page
                and prev.y is not None
                and line.y is not None
                and 0 < prev.y - line.y <= 1.6 * line.size
                and round(prev.size * 2) == round(line.size * 2)
                and not NUMBERED_HEADING_RE.match(line.text)
            ):
                blocks[-1] = replace(last, text=f"{last.text} {line.text}")  # wrapped heading
            else:
                blocks.append(Block("heading", line.text, level=level, page=line.page))
            ended = True
            pending_bullet = False
            prev = line
            continue
        # a bullet or a Q:/A: mark starts a block unless the line before was a full one
        # (then it is a dash or a word that happens to start a wrapped line)
        may_start = (
            boundary or kind == "list_item" or prev is None or len(prev.text) < 0.8 * typical_len
        )
        starts_item = pending_bullet or (may_start and _BULLET_RE.match(line.text) is not None)
        starts_qa = may_start and (
            Q_RE.match(line.text) is not None or A_RE.match(line.text) is not None
        )
        if boundary or starts_item or starts_qa:
            flush()
            start_page = line.page
            kind = "list_item" if starts_item else "paragraph"
        pending_bullet = False
        if (
            buf
            and buf[-1].endswith("-")
            and len(buf[-1]) > 1
            and buf[-1][-2].isalpha()
            and line.text[:1].islower()
        ):
            buf[-1] = buf[-1][:-1] + line.text  # a word hyphenated across lines
        else:
            buf.append(line.text)
        ended = line.text[-1] in _TERMINAL and len(line.text) < 0.8 * typical_len
        prev = line
    flush()
    return blocks


def _heading_shape(text: str) -> bool:
    """Short, at most 20 words, and with words in it (not a drop cap or a number)."""
    return len(text) <= 150 and len(text.split()) <= 20 and sum(1 for c in text if c.isalpha()) >= 2


def parse(source: Source) -> Extracted:
    """PDF: text per page with ``pypdf``; progress after each page."""
    pages, blocks = _parse_pdf(source.data, source.limits, source.on_page)
    return Extracted(blocks, pages=pages)
