"""DOCX: the archive is checked for zip bombs before ``python-docx`` opens it; headings
from styles or outline levels, list items from numbering, tables as one block."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from typing import Any

from frontline.knowledge.parsing.base import (
    Block,
    DocumentError,
    Extracted,
    ParseLimits,
    Source,
    clean,
    clean_inline,
    format_mb,
)

logger = logging.getLogger(__name__)


_HEADING_STYLE_RE = re.compile(r"^(?:heading|заголовок)\s*(\d)$", re.I)
_TITLE_STYLES = frozenset({"title", "название", "заголовок"})
_LIST_STYLE_RE = re.compile(r"list|спис", re.I)


def _check_zip(data: bytes, limits: ParseLimits) -> None:
    """Refuse a zip bomb from the archive's directory, without unpacking anything.

    Python's :mod:`zipfile` never unpacks more than an entry's declared size, so checking
    the declared sizes bounds what ``python-docx`` can be made to unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(
            "the DOCX file is damaged (not a valid ZIP archive)", code="corrupt"
        ) from exc
    if len(infos) > limits.max_zip_members:
        raise DocumentError(
            f"the DOCX file looks like a zip bomb: it has more than {limits.max_zip_members} parts",
            code="zip_bomb",
        )
    total = 0
    for info in infos:
        total += info.file_size
        if total > limits.max_unzipped_bytes:
            raise DocumentError(
                "the DOCX file looks like a zip bomb: it would unpack to more than "
                f"{format_mb(limits.max_unzipped_bytes)} MB",
                code="zip_bomb",
            )
        if info.file_size > limits.ratio_check_min_bytes and (
            info.compress_size == 0
            or info.file_size / info.compress_size > limits.max_compression_ratio
        ):
            raise DocumentError(
                "the DOCX file looks like a zip bomb: a part is compressed more than "
                f"{limits.max_compression_ratio:g} to 1",
                code="zip_bomb",
            )


def _parse_docx(data: bytes, limits: ParseLimits) -> list[Block]:
    _check_zip(data, limits)
    import docx  # deferred: python-docx (lxml) is only needed for DOCX files
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for broken packages
        logger.info("docx open failed: %r", exc)
        raise DocumentError(
            "the DOCX file is damaged or is not a Word document", code="corrupt"
        ) from exc
    blocks: list[Block] = []
    styles: dict[str | None, tuple[int, bool]] = {}  # style id -> (heading level, is list)
    try:
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.extend(_docx_table(item))
            else:
                block = _docx_paragraph(item, styles)
                if block is not None:
                    blocks.append(block)
    except DocumentError:
        raise
    except Exception as exc:
        logger.info("docx read failed: %r", exc)
        raise DocumentError("the DOCX file is damaged and cannot be read", code="corrupt") from exc
    return blocks


def _docx_paragraph(paragraph: Any, styles: dict[str | None, tuple[int, bool]]) -> Block | None:
    text = clean(paragraph.text)
    if not text:
        return None
    p_pr = paragraph._p.pPr
    style_id = paragraph._p.style
    if style_id not in styles:  # resolving a style is slow in python-docx: once per style
        style = paragraph.style
        styles[style_id] = (_docx_style_heading_level(style), _docx_style_is_list(style))
    style_level, style_is_list = styles[style_id]
    level = _outline_level(p_pr)
    if level is None:
        level = style_level
    if level:
        return Block("heading", clean_inline(text), level=level)
    num_pr = p_pr.numPr if p_pr is not None else None
    if num_pr is not None or style_is_list:
        ilvl = 0
        if num_pr is not None and num_pr.ilvl is not None and num_pr.ilvl.val is not None:
            ilvl = int(num_pr.ilvl.val)
        return Block("list_item", text, level=min(max(ilvl, 0), 5))
    return Block("paragraph", text)


def _docx_style_heading_level(style: Any) -> int:
    """Heading level of a paragraph style (its name or outline level, or its base's)."""
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip().lower()
        match = _HEADING_STYLE_RE.match(name)
        if match is not None:
            return min(max(int(match.group(1)), 1), 6)
        if name in _TITLE_STYLES:
            return 1
        level = _outline_level(style.element.pPr)
        if level is not None:
            return level
        style = style.base_style
        seen += 1
    return 0


def _outline_level(p_pr: Any) -> int | None:
    if p_pr is None:
        return None
    from docx.oxml.ns import qn

    element = p_pr.find(qn("w:outlineLvl"))
    if element is None:
        return None
    try:
        value = int(element.get(qn("w:val")))
    except (TypeError, ValueError):
        return None
    return min(value + 1, 6) if 0 <= value < 9 else None


def _docx_style_is_list(style: Any) -> bool:
    seen = 0
    while style is not None and seen < 10:
        if _LIST_STYLE_RE.search(style.name or ""):
            return True
        style = style.base_style
        seen += 1
    return False


def _docx_table(table: Any) -> list[Block]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is returned once per grid column
                continue
            previous = cell._tc
            cells.append(clean_inline(cell.text))
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    if max(len(r) for r in rows) == 1:
        return [Block("paragraph", r[0]) for r in rows if r[0]]
    return [Block("table", "\n".join(" | ".join(r) for r in rows))]


def parse(source: Source) -> Extracted:
    """DOCX: the archive checked for zip bombs, then read with ``python-docx``."""
    blocks = _parse_docx(source.data, source.limits)
    source.progress(1, 1)
    return Extracted(blocks)
