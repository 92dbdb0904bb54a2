"""Markdown: ATX and setext headings, lists, ``|`` tables, code fences; inline syntax
reduced to text (absolute link targets kept in parentheses)."""

from __future__ import annotations

import html
import re

from frontline.knowledge.parsing.base import Block, Extracted, Source, clean_inline
from frontline.knowledge.parsing.qa import A_RE, Q_RE

_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HRULE_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_LIST_ITEM_RE = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_TASK_RE = re.compile(r"^\[[ xX]\][ \t]+")
_QUOTE_RE = re.compile(r"^ {0,3}>[ \t]?")
_REFDEF_RE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_TABLE_SEP_LINE_RE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")

_MD_QA_HINT_RE = re.compile(r"^[\s*_]*(?:q|в|question|вопрос|a|о|o|answer|ответ)\b", re.I)
_MD_CODE_RE = re.compile(r"(`+)(.+?)\1", re.S)
_MD_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_INLINE_LINK_RE = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_MD_REF_LINK_RE = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_AUTOLINK_RE = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_MD_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_MD_BOLD_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_ITALIC_STAR_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_MD_ITALIC_US_RE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_MD_STRIKE_RE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_MD_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")


_BOLD_LINE_RE = re.compile(r"^\s*(?:\*\*|__)([^*_\n]+?)(?:\*\*|__)\s*:?\s*$")


def _md_link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    if url.startswith(("http://", "https://")) and url.rstrip("/") != label.rstrip("/"):
        return f"{label} ({url})"
    return label


def _md_inline(text: str) -> str:
    """Markdown inline syntax to plain text."""
    codes: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        codes.append(match.group(2).strip())
        return f"\x00{len(codes) - 1}\x00"

    text = _MD_CODE_RE.sub(keep_code, text)
    text = _MD_IMAGE_RE.sub(r"\1", text)
    text = _MD_INLINE_LINK_RE.sub(_md_link, text)
    text = _MD_REF_LINK_RE.sub(r"\1", text)
    text = _MD_AUTOLINK_RE.sub(r"\1", text)
    text = _MD_TAG_RE.sub("", text)
    for _ in range(2):  # nested emphasis: ***x***, **_x_**
        text = _MD_BOLD_RE.sub(r"\2", text)
        text = _MD_STRIKE_RE.sub(r"\1", text)
        text = _MD_ITALIC_STAR_RE.sub(r"\1", text)
        text = _MD_ITALIC_US_RE.sub(r"\1", text)
    text = _MD_ESCAPE_RE.sub(r"\1", text)
    text = html.unescape(text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)
    return clean_inline(text)


def _md_cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [_md_inline(cell.replace("\\|", "|")) for cell in _CELL_SPLIT_RE.split(line)]


def _parse_markdown(text: str) -> list[Block]:
    text = _HTML_COMMENT_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    lines = _skip_front_matter(lines)
    blocks: list[Block] = []
    para: list[str] = []
    section = 0  # the level of the last ATX or setext heading

    def flush() -> None:
        if para:
            joined = _md_inline(" ".join(para))
            if joined:
                blocks.append(Block("paragraph", joined))
            para.clear()

    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            flush()
            i += 1
            continue
        fence = _FENCE_OPEN_RE.match(line)
        if fence is not None:
            flush()
            marker = fence.group(1)
            code: list[str] = []
            i += 1
            while i < n and not lines[i].lstrip().startswith(marker[0] * len(marker)):
                code.append(lines[i].rstrip())
                i += 1
            i += 1  # the closing fence (or the end)
            code_text = "\n".join(code).strip("\n")
            if code_text.strip():
                blocks.append(Block("paragraph", code_text))
            continue
        atx = _ATX_RE.match(line)
        if atx is not None:
            flush()
            heading = _md_inline(atx.group(2))
            if heading:
                section = len(atx.group(1))
                blocks.append(Block("heading", heading, level=section))
            i += 1
            continue
        setext = _SETEXT_RE.match(line)
        if setext is not None and para:
            heading = _md_inline(" ".join(para))
            para.clear()
            if heading:
                section = 1 if line.strip()[0] == "=" else 2
                blocks.append(Block("heading", heading, level=section))
            i += 1
            continue
        if _HRULE_RE.match(line):
            flush()
            i += 1
            continue
        if (
            "|" in line
            and i + 1 < n
            and _TABLE_SEP_LINE_RE.match(lines[i + 1])
            and "-" in lines[i + 1]
            and "|" in lines[i + 1]
        ):
            flush()
            rows = [_md_cells(line)]
            i += 2
            while i < n and lines[i].strip() and "|" in lines[i]:
                rows.append(_md_cells(lines[i]))
                i += 1
            table = "\n".join(" | ".join(cells) for cells in rows if any(cells))
            if table:
                blocks.append(Block("table", table))
            continue
        item = _LIST_ITEM_RE.match(line)
        if item is not None:
            flush()
            indent = len(item.group(1).replace("\t", "    "))
            parts = [_TASK_RE.sub("", item.group(2))]
            i += 1
            while i < n:
                nxt = lines[i]
                if not nxt.strip():
                    # a blank line ends the item unless an indented continuation follows
                    if (
                        i + 1 < n
                        and lines[i + 1].startswith(("  ", "\t"))
                        and not _LIST_ITEM_RE.match(lines[i + 1])
                    ):
                        i += 1
                        continue
                    break
                if (
                    _LIST_ITEM_RE.match(nxt)
                    or _ATX_RE.match(nxt)
                    or _FENCE_OPEN_RE.match(nxt)
                    or _HRULE_RE.match(nxt)
                ):
                    break
                parts.append(nxt.strip())
                i += 1
            item_text = _md_inline(" ".join(parts))
            if item_text:
                blocks.append(Block("list_item", item_text, level=min(indent // 2, 5)))
            continue
        if _REFDEF_RE.match(line):
            flush()
            i += 1
            continue
        quote = _QUOTE_RE.match(line)
        line = line[quote.end() :] if quote is not None else line
        bold = _BOLD_LINE_RE.match(line) if not para else None
        if bold is not None and i + 1 < n and lines[i + 1].strip():
            # a line of bold text over a paragraph is that paragraph's heading
            heading = _md_inline(bold.group(1)).rstrip(":")
            if heading:
                # one level below the last real heading: bold lines are siblings
                blocks.append(Block("heading", heading, level=min(section + 1, 6)))
                i += 1
                continue
        if para and _MD_QA_HINT_RE.match(line):
            plain = _md_inline(line)
            if Q_RE.match(plain) or A_RE.match(plain):
                flush()  # "Q: ..." and "A: ..." lines start paragraphs, as in plain text
        para.append(line.strip())
        i += 1
    flush()
    return blocks


def _skip_front_matter(lines: list[str]) -> list[str]:
    if not lines or lines[0].strip() != "---":
        return lines
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            if all(":" in ln or not ln.strip() or ln.startswith((" ", "-")) for ln in lines[1:end]):
                return lines[end + 1 :]
            return lines
    return lines


def parse(source: Source) -> Extracted:
    """Markdown: the decoded text."""
    blocks = _parse_markdown(source.text)
    source.progress(1, 1)
    return Extracted(blocks)
