"""HTML with the stdlib parser: block structure kept; scripts, styles, hidden elements,
navigation and comments dropped."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from frontline.knowledge.parsing.base import (
    Block,
    DocumentError,
    Extracted,
    Source,
    clean,
    clean_inline,
)

_HTML_SKIP = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "svg",
        "math",
        "object",
        "canvas",
        "select",
        "nav",
        "audio",
        "video",
        "map",
    }
)
_DISPLAY_NONE_RE = re.compile(r"display\s*:\s*none", re.I)
_HTML_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_HTML_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "pre",
        "address",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "details",
        "summary",
        "dl",
        "dt",
        "dd",
        "hr",
        "caption",
        "center",
        "legend",
        "body",
        "html",
    }
)
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAK = "\u2028"  # a kept line break inside collapsed text
_COLLAPSE_RE = re.compile(r"[ \t\n\r\f\v]+")


class _Table:
    __slots__ = ("cell", "row", "rows")

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def close_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append(_collapse(self.cell).replace("\n", " "))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row is not None:
            if any(self.row):
                self.rows.append(self.row)
            self.row = None


def _collapse(parts: list[str]) -> str:
    text = _COLLAPSE_RE.sub(" ", "".join(parts))
    return clean(text.replace(_BREAK, "\n"))


class _HtmlExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title_parts: list[str] = []
        self._buf: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._in_title = False
        self._in_head = False
        self._heading: int | None = None
        self._li_depth = 0
        self._list_depth = 0
        self._pre = 0
        self._tables: list[_Table] = []

    # -- text -----------------------------------------------------------------------------

    def _target(self) -> list[str]:
        if self._tables:
            table = self._tables[-1]
            if table.cell is not None:
                return table.cell
        return self._buf

    def flush(self) -> None:
        text = _collapse(self._buf)
        self._buf.clear()
        if not text:
            return
        if self._heading is not None:
            self.blocks.append(Block("heading", clean_inline(text), level=self._heading))
        elif self._li_depth > 0:
            self.blocks.append(Block("list_item", text, level=max(self._list_depth - 1, 0)))
        else:
            self.blocks.append(Block("paragraph", text))

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None:
            return
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._in_head:
            return
        if self._pre:
            data = data.replace("\r\n", "\n").replace("\n", _BREAK)
        self._target().append(data)

    # -- tags -----------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        hidden = any(
            name == "hidden"
            or (name == "aria-hidden" and value == "true")
            or (
                name == "style" and value is not None and _DISPLAY_NONE_RE.search(value) is not None
            )
            for name, value in attrs
        )
        if tag in _HTML_SKIP or (hidden and tag not in _HTML_VOID):
            self._skip_tag = tag
            self._skip_depth = 1
            return
        self._open(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <td/>...: an element without content
        if self._skip_tag is not None or tag in _HTML_SKIP:
            return
        self._open(tag)
        if tag not in _HTML_VOID:
            self._close(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        self._close(tag)

    def _open(self, tag: str) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
            self._in_title = False
        elif tag == "br":
            self._target().append(_BREAK)
        elif tag in _HEADING_TAGS:
            self._in_head = False
            self.flush()
            self._heading = _HEADING_TAGS[tag]
        elif tag == "li":
            self.flush()
            self._li_depth += 1
        elif tag in ("ul", "ol"):
            self.flush()
            self._list_depth += 1
        elif tag == "table":
            if not self._tables or self._tables[-1].cell is None:
                self.flush()
            self._tables.append(_Table())
        elif tag == "tr" and self._tables:
            self._tables[-1].close_row()
            self._tables[-1].row = []
        elif tag in ("td", "th") and self._tables:
            table = self._tables[-1]
            table.close_cell()
            table.cell = []
        elif tag == "pre":
            self.flush()
            self._pre += 1
        elif tag in _HTML_BLOCK:
            if self._tables and self._tables[-1].cell is not None:
                self._tables[-1].cell.append(" ")
            else:
                self.flush()

    def _close(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self._in_head = False
        elif tag in _HEADING_TAGS:
            self.flush()
            self._heading = None
        elif tag == "li":
            self.flush()
            self._li_depth = max(self._li_depth - 1, 0)
        elif tag in ("ul", "ol"):
            self.flush()
            self._list_depth = max(self._list_depth - 1, 0)
            self._li_depth = min(self._li_depth, self._list_depth)
        elif tag == "table" and self._tables:
            self._end_table()
        elif tag == "tr" and self._tables:
            self._tables[-1].close_row()
        elif tag in ("td", "th") and self._tables:
            self._tables[-1].close_cell()
        elif tag == "pre":
            self.flush()
            self._pre = max(self._pre - 1, 0)
        elif tag in _HTML_BLOCK and not (self._tables and self._tables[-1].cell is not None):
            self.flush()

    def _end_table(self) -> None:
        table = self._tables.pop()
        table.close_row()
        rows = table.rows
        if self._tables and self._tables[-1].cell is not None:
            # a table inside a cell: its rows become text of that cell
            self._tables[-1].cell.append(" " + "; ".join(" ".join(r) for r in rows) + " ")
            return
        self.flush()
        if not rows:
            return
        if max(len(r) for r in rows) == 1:  # a one-column (layout) table is just text
            self.blocks.extend(Block("paragraph", r[0]) for r in rows if r[0])
            return
        self.blocks.append(Block("table", "\n".join(" | ".join(r) for r in rows)))

    def finish(self) -> None:
        self.close()
        while self._tables:
            self._end_table()
        self.flush()


def _parse_html(text: str) -> tuple[str, list[Block]]:
    parser = _HtmlExtractor()
    try:
        parser.feed(text)
        parser.finish()
    except (AssertionError, ValueError) as exc:  # HTMLParser on hopeless markup
        raise DocumentError("the HTML could not be parsed", code="corrupt") from exc
    title = clean_inline(html.unescape("".join(parser.title_parts)))
    if not title:
        title = next((b.text for b in parser.blocks if b.kind == "heading" and b.level == 1), "")
    return title, parser.blocks


def parse(source: Source) -> Extracted:
    """HTML: the decoded markup; its ``<title>`` (or first ``<h1>``) is the title."""
    title, blocks = _parse_html(source.text)
    source.progress(1, 1)
    return Extracted(blocks, title=title)
