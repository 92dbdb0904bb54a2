"""Document parsing for the knowledge base: bytes in, a list of structural blocks out.

:func:`parse_document` turns an uploaded file into a :class:`ParsedDocument` - a title and
an ordered list of :class:`Block` (headings, paragraphs, list items, tables, question/answer
pairs) that :mod:`frontline.knowledge.chunking` cuts into retrieval chunks. Pure functions:
no database, no network, no files.

The type is detected from the CONTENT (:func:`sniff_type`), never trusted from the name:

- ``pdf``: a ``%PDF-`` header. Text per page with ``pypdf``; font sizes, bold fonts and
  vertical gaps recover headings and paragraphs, numbered short lines ("2.1 Prices") become
  headings too, page headers/footers repeated on most pages are dropped;
- ``docx``: a ZIP archive holding ``word/document.xml``. The archive is inspected with
  :mod:`zipfile` BEFORE ``python-docx`` opens it (member count, total unpacked size,
  per-member compression ratio) so a zip bomb is refused without being unpacked. Headings
  come from paragraph styles (``Heading 1``, ``Заголовок 1``, ``Title``) or outline levels,
  list items from numbering or list styles, tables become one ``table`` block;
- ``html``: markup (doctype, ``<html>``, ``<body>``, block tags). Parsed with the stdlib
  :class:`html.parser.HTMLParser`; the contents of ``script``, ``style``, ``noscript``,
  ``template``, ``iframe``, ``svg``, ``nav`` and similar elements, of elements with the
  ``hidden`` attribute, and comments are dropped;
- ``markdown``: headings (ATX and setext), lists, ``|`` tables, code fences, links;
  emphasis and link syntax are reduced to text (absolute link targets are kept in
  parentheses: the AI may need to give the customer the URL);
- ``text``: UTF-8 (with or without BOM), UTF-16 with BOM, or legacy Windows-1251 Russian
  text. Paragraphs are split on blank lines; lines that are numbered ("1.2 Delivery") or in
  capitals become headings.

The file name is used only to break a tie between Markdown and plain text (``.md`` versus
``.txt``) and as the title when the document has no heading.

Question/answer pairs - a paragraph starting with ``Q:``/``Question:``/``Вопрос:``/``В:``
followed by one starting with ``A:``/``Answer:``/``Ответ:``/``О:`` - become ``qa`` blocks
in every format; later paragraphs that are not a new question are taken into the answer
while the pair stays within :attr:`ParseLimits.max_qa_chars` (a pair longer than that is
left as ordinary paragraphs, so a ``qa`` block - always one chunk - stays small). The
text of a ``qa`` block is :func:`format_qa`: the question on the first line, the answer
below.

Every failure is a :class:`DocumentError` whose :attr:`~DocumentError.reason` is a short
English sentence meant for the user (it is stored as the document's failure reason) and
whose :attr:`~DocumentError.code` is a stable machine-readable category.

Not defended here: pathological PDFs that make ``pypdf`` slow (the ingestion job should run
parsing under a time limit). ``pypdf`` itself caps decompressed stream sizes
(``LimitReachedError`` becomes a ``zip_bomb`` error) and ``python-docx`` parses XML without
resolving entities.
"""

from __future__ import annotations

import codecs
import html
import io
import itertools
import logging
import math
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any, Literal

logger = logging.getLogger(__name__)

DocumentKind = Literal["pdf", "docx", "html", "markdown", "text"]
BlockKind = Literal["heading", "paragraph", "list_item", "table", "qa"]
ErrorCode = Literal[
    "empty",
    "too_large",
    "unsupported",
    "encrypted",
    "corrupt",
    "no_text",
    "zip_bomb",
    "too_many_pages",
]

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Resource limits for one parse; every one of them ends in a :class:`DocumentError`."""

    max_bytes: int = 20 * _MB
    """The uploaded file itself."""
    max_pages: int = 2000
    """PDF pages."""
    max_text_chars: int = 5_000_000
    """Extracted text, all blocks together."""
    max_zip_members: int = 2000
    """Entries in a DOCX archive."""
    max_unzipped_bytes: int = 100 * _MB
    """Sum of the declared unpacked sizes of a DOCX archive's entries."""
    max_compression_ratio: float = 100.0
    """Unpacked/packed ratio of one DOCX entry, checked on entries bigger than
    :attr:`ratio_check_min_bytes` (small XML parts legitimately compress very well)."""
    ratio_check_min_bytes: int = 1 * _MB
    max_qa_chars: int = 2000
    """A question/answer pair longer than this stays as ordinary paragraphs."""


@dataclass(frozen=True, slots=True)
class Block:
    """One structural element of a document, in reading order.

    - ``heading``: ``level`` 1..6 (1 is the top);
    - ``list_item``: ``level`` is the nesting depth, 0 for a top-level item;
    - ``table``: one row per line, cells joined with ``" | "``, the header row first;
    - ``qa``: ``question`` and ``answer`` set, ``text`` is :func:`format_qa` of them;
    - ``page``: the 1-based PDF page where the block starts, ``None`` for other formats.
    """

    kind: BlockKind
    text: str
    level: int = 0
    page: int | None = None
    question: str = ""
    answer: str = ""


@dataclass(slots=True)
class ParsedDocument:
    """``pages`` is the PDF page count; other formats count as one page."""

    kind: DocumentKind
    title: str
    pages: int
    blocks: list[Block]


class DocumentError(Exception):
    """The file cannot be turned into knowledge. ``reason`` is user-facing English."""

    def __init__(self, reason: str, *, code: ErrorCode = "corrupt") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code: ErrorCode = code


def format_qa(question: str, answer: str) -> str:
    """The text of a question/answer pair: the question on one line, then the answer.

    The question's own line breaks become spaces, so the first line is always the whole
    question and everything after the first newline is the answer.
    """
    q = " ".join(question.split())
    a = answer.strip()
    return f"{q}\n{a}" if q and a else q or a


# --------------------------------------------------------------------------------------
# entry points


def parse_document(
    data: bytes,
    *,
    filename: str = "",
    limits: ParseLimits = ParseLimits(),
    on_page: Callable[[int, int], None] | None = None,
) -> ParsedDocument:
    """Parse an uploaded file. Raises :class:`DocumentError` for anything unusable.

    ``on_page(done, total)`` is called after each PDF page (once, with ``(1, 1)``, for the
    other formats) so a job can report progress.
    """
    if len(data) > limits.max_bytes:
        raise DocumentError(
            f"the file is larger than {_format_mb(limits.max_bytes)} MB", code="too_large"
        )
    kind, text = _sniff(data, filename)
    pages = 1
    title = ""
    if kind == "pdf":
        pages, blocks = _parse_pdf(data, limits, on_page)
    else:
        if kind == "docx" or text is None:
            blocks = _parse_docx(data, limits)
        else:
            if kind == "html":
                title, blocks = _parse_html(text)
            elif kind == "markdown":
                blocks = _parse_markdown(text)
            else:
                blocks = _parse_text(text)
        if on_page is not None:
            on_page(1, 1)
    blocks = _pair_qa(blocks, limits.max_qa_chars)
    if not any(b.text for b in blocks):
        raise DocumentError("no text found in the document", code="no_text")
    total = sum(len(b.text) for b in blocks)
    if total > limits.max_text_chars:
        raise DocumentError(
            f"the document has too much text (more than {limits.max_text_chars:,} characters)",
            code="too_large",
        )
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), "")
    if not title:
        title = _filename_stem(filename) or "Untitled"
    return ParsedDocument(
        kind=kind, title=_shorten(" ".join(title.split()), 200), pages=pages, blocks=blocks
    )


_SUPPORTED_HINT = "upload a PDF, DOCX, HTML, Markdown or plain-text file"
_UNSUPPORTED_BINARY = f"unsupported file type (binary data); {_SUPPORTED_HINT}"

# magic bytes of common files that are not documents we can read
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a RIFF media file (image, audio or video)"),
    (b"\x00\x00\x01\x00", "an icon"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Microsoft Office file (.doc, .xls); save it as .docx",
    ),
    (b"{\\rtf", "an RTF document; save it as .docx"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"%!PS", "a PostScript file"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "a database file"),
)
# magic bytes that are ordinary letters: named only when the file is not text anyway
_TEXTLIKE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF media file (image, audio or video)"),
    (b"BZh", "a bzip2 archive"),
    (b"MZ", "a Windows executable"),
    (b"OggS", "an audio file"),
    (b"ID3", "an audio file"),
    (b"fLaC", "an audio file"),
)

_MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mdown", ".mkd", ".mdx")
_TEXT_EXTENSIONS = (".txt", ".text", ".csv", ".log")


def sniff_type(data: bytes, filename: str = "") -> DocumentKind:
    """The document kind of ``data``, decided by its content.

    Raises :class:`DocumentError` (``empty`` or ``unsupported``) for an empty file and for
    anything that is not a PDF, DOCX, HTML, Markdown or text file, so an upload endpoint can
    refuse it before storing it. The name only breaks a Markdown/text tie.
    """
    return _sniff(data, filename)[0]


def _sniff(data: bytes, filename: str) -> tuple[DocumentKind, str | None]:
    """The kind, and the decoded text for the text-based kinds."""
    if not data or data.isspace():
        raise DocumentError("the file is empty", code="empty")
    head = data[:1024]
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf", None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data), None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            raise DocumentError(
                f"unsupported file type ({name}); {_SUPPORTED_HINT}", code="unsupported"
            )
    text = _decode_text(data)
    if text is None:
        if b"%PDF-" in head:  # a PDF behind a few bytes of junk still opens in readers
            return "pdf", None
        what = next((w for magic, w in _TEXTLIKE_MAGIC if head.startswith(magic)), None)
        if what is None and head[4:8] == b"ftyp":
            what = "a video or image"
        if what is not None:
            raise DocumentError(
                f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported"
            )
        raise DocumentError(_UNSUPPORTED_BINARY, code="unsupported")
    if not text.strip():
        raise DocumentError("the file is empty", code="empty")
    return _sniff_text(text, filename), text


def _sniff_zip(data: bytes) -> DocumentKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(
            "the file is a damaged ZIP archive (a DOCX file is a ZIP archive inside)",
            code="corrupt",
        ) from exc
    if "word/document.xml" in names:
        return "docx"
    what = "a ZIP archive"
    if "xl/workbook.xml" in names:
        what = "an Excel workbook"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    elif "mimetype" in names and "content.xml" in names:
        what = "an OpenDocument file; save it as .docx"
    elif "META-INF/container.xml" in names:
        what = "an EPUB book"
    raise DocumentError(f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported")


_HTML_DOC_RE = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_HTML_TAG_RE = re.compile(
    r"</?(?:p|div|br|h[1-6]|li|ul|ol|table|tr|td|th|span|a|strong|em|b|i|section|article"
    r"|header|footer|main|title|meta|link|script|style|img|blockquote|pre|code)\b[^<>]*>",
    re.I,
)
_XML_RE = re.compile(r"<\?xml[^>]*\?>\s*(?:<!--.*?-->\s*)*<([\w:-]+)", re.S)

_MD_ATX_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M)
_MD_TABLE_SEP_RE = re.compile(
    r"^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M
)
_MD_FENCE_RE = re.compile(r"^ {0,3}(?:```|~~~)", re.M)
_MD_LINK_RE = re.compile(r"!?\[[^\]\n]+\]\([^)\s]+[^)]*\)")
_MD_SETEXT_RE = re.compile(r"^[^\n]*\S[^\n]*\n {0,3}(?:=+|-{2,})[ \t]*$", re.M)


def _sniff_text(text: str, filename: str) -> DocumentKind:
    head = text[:4096]
    stripped = head.lstrip()
    if _HTML_DOC_RE.search(head):
        return "html"
    xml = _XML_RE.match(stripped)
    if xml is not None:
        root = xml.group(1).lower()
        if root == "html":
            return "html"
        what = "an SVG image" if root == "svg" else "an XML file"
        raise DocumentError(
            f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported"
        )
    if stripped[:4].lower() == "<svg":
        raise DocumentError(
            f"unsupported file type (an SVG image); {_SUPPORTED_HINT}", code="unsupported"
        )
    sample = text[:50_000]
    strong = (
        len(_MD_ATX_RE.findall(sample))
        + len(_MD_TABLE_SEP_RE.findall(sample))
        + len(_MD_FENCE_RE.findall(sample)) // 2
        + len(_MD_LINK_RE.findall(sample))
        + len(_MD_SETEXT_RE.findall(sample))
    )
    html_tags = len(_HTML_TAG_RE.findall(sample))
    if strong < 2 and (html_tags >= 3 or (stripped.startswith("<") and html_tags >= 1)):
        return "html"
    if strong >= 2:
        return "markdown"
    ext = _extension(filename)
    if ext in _MARKDOWN_EXTENSIONS:
        return "markdown"
    if ext in _TEXT_EXTENSIONS:
        return "text"
    # no telling extension: one clear Markdown construct is enough, lists alone are not
    return "markdown" if strong == 1 else "text"


# --------------------------------------------------------------------------------------
# text decoding and cleaning

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_CP1251_OK_RE = re.compile(r"[А-Яа-яЁё«»—–№“”„…’‘•€ ]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode_text(data: bytes) -> str | None:
    """``data`` as text, or ``None`` when it does not look like text.

    UTF-8 (a file cut inside the last character still counts), UTF-16/32 with a BOM; for
    other bytes a charset the file declares (``<meta charset>``, ``<?xml encoding>``), then
    Windows-1251 when the non-ASCII characters are Russian letters and punctuation, then
    Windows-1252 when they are Western European ones; at last UTF-8 with the broken bytes
    replaced, accepted when they are under 1% of the text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return text if _plausible(text) else None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            text = data[: exc.start].decode("utf-8")
        else:
            legacy = _decode_legacy(data)
            if legacy is None:
                # UTF-8 with a few broken bytes is still text (``_plausible`` counts them)
                legacy = data.decode("utf-8", errors="replace")
            text = legacy
    return text if _plausible(text) else None


_DECLARED_CHARSET_RE = re.compile(
    rb"""(?:charset\s*=\s*["']?|<\?xml[^>]*encoding\s*=\s*["'])([A-Za-z0-9_.:-]{2,40})""", re.I
)
_CP1252_OK_RE = re.compile(r"[À-ÖØ-öø-ÿŒœŠšŽžŸ«»—–“”„…’‘•€°©®™§£¥¢ ]")


def _decode_legacy(data: bytes) -> str | None:
    declared = _DECLARED_CHARSET_RE.search(data[:4096])
    if declared is not None:
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            codec = ""
        if codec and not codec.startswith(("utf-16", "utf-32")):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    for encoding, allowed in (("cp1251", _CP1251_OK_RE), ("cp1252", _CP1252_OK_RE)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:200_000]
        non_ascii = "".join(c for c in sample if ord(c) > 127)
        if len(allowed.findall(non_ascii)) < 0.95 * len(non_ascii):
            continue
        if encoding == "cp1251" and _mixed_script_share(sample) > 0.3:
            continue  # "Cafй crиme": Western text read as Cyrillic
        return text
    return None


_WORD_RE = re.compile(r"\w+")
_CYRILLIC_RE = re.compile(r"[А-Яа-яЁё]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def _mixed_script_share(text: str) -> float:
    """Share of the words with Cyrillic letters that mix in Latin letters too."""
    cyrillic = mixed = 0
    for word in _WORD_RE.findall(text):
        if _CYRILLIC_RE.search(word):
            cyrillic += 1
            if _LATIN_RE.search(word):
                mixed += 1
    return mixed / cyrillic if cyrillic else 0.0


def _plausible(text: str) -> bool:
    sample = text[:200_000]
    return len(_CONTROL_RE.findall(sample)) <= len(sample) * 0.01


_INVISIBLE_RE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_CTRL_STRIP_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    """Normalise spacing inside a line (or each line of a multi-line text) and strip."""
    text = _INVISIBLE_RE.sub("", text)
    text = _CTRL_STRIP_RE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _clean_inline(text: str) -> str:
    """All whitespace, line breaks included, to single spaces."""
    return " ".join(_INVISIBLE_RE.sub("", text).split())


def _format_mb(n: int) -> str:
    """``n`` bytes for a message: whole megabytes when possible, else one decimal."""
    value = n / _MB
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}" if value >= 0.1 else f"{value:.3f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _extension(filename: str) -> str:
    name = _basename(filename).lower()
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _basename(filename: str) -> str:
    return re.split(r"[\\/]", filename.strip())[-1]


def _filename_stem(filename: str) -> str:
    name = _basename(filename)
    dot = name.rfind(".")
    stem = name[:dot] if dot > 0 else name
    return _clean_inline(stem.replace("_", " "))


# --------------------------------------------------------------------------------------
# question/answer pairs (all formats)

# "Q:", "Q1:", "Question 2:", "Вопрос №3:", "В:" - but not "в 10:00"
_Q_MARK = r"(?:(?:q|в)\d{0,3}|(?:question|вопрос)(?:\s*№?\s*\d{1,3})?)\s*[:：]"
_A_MARK = r"(?:(?:a|о|o)\d{0,3}|(?:answer|ответ)(?:\s*№?\s*\d{1,3})?)\s*[:：]"
_Q_RE = re.compile(rf"^{_Q_MARK}\s*", re.I)
_A_RE = re.compile(rf"^{_A_MARK}\s*", re.I)
_A_LINE_RE = re.compile(rf"\n(?={_A_MARK})", re.I)


def _pair_qa(blocks: list[Block], cap: int) -> list[Block]:
    out: list[Block] = []
    i = 0
    n = len(blocks)
    while i < n:
        block = blocks[i]
        q_match = _Q_RE.match(block.text) if block.kind == "paragraph" else None
        if q_match is None:
            out.append(block)
            i += 1
            continue
        rest = block.text[q_match.end() :]
        j = i + 1
        inline = _A_LINE_RE.split(rest, maxsplit=1)
        if len(inline) == 2:
            question = inline[0]
            answer = _A_RE.sub("", inline[1], count=1)
        elif j < n and blocks[j].kind == "paragraph" and _A_RE.match(blocks[j].text):
            question = rest
            answer = _A_RE.sub("", blocks[j].text, count=1)
            j += 1
        else:
            out.append(block)
            i += 1
            continue
        question = " ".join(question.split())
        answer = answer.strip()
        while j < n and blocks[j].kind in ("paragraph", "list_item"):
            nxt = blocks[j]
            if _Q_RE.match(nxt.text) or _A_RE.match(nxt.text):
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


# --------------------------------------------------------------------------------------
# plain text

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
        line = _clean(raw)
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


# --------------------------------------------------------------------------------------
# Markdown

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
    return _clean_inline(text)


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
                blocks.append(Block("heading", heading, level=len(atx.group(1))))
            i += 1
            continue
        setext = _SETEXT_RE.match(line)
        if setext is not None and para:
            heading = _md_inline(" ".join(para))
            para.clear()
            if heading:
                blocks.append(Block("heading", heading, level=1 if line.strip()[0] == "=" else 2))
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
        if para and _MD_QA_HINT_RE.match(line):
            plain = _md_inline(line)
            if _Q_RE.match(plain) or _A_RE.match(plain):
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


# --------------------------------------------------------------------------------------
# HTML

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
    return _clean(text.replace(_BREAK, "\n"))


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
            self.blocks.append(Block("heading", _clean_inline(text), level=self._heading))
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
    title = _clean_inline(html.unescape("".join(parser.title_parts)))
    if not title:
        title = next((b.text for b in parser.blocks if b.kind == "heading" and b.level == 1), "")
    return title, parser.blocks


# --------------------------------------------------------------------------------------
# DOCX

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
                f"{_format_mb(limits.max_unzipped_bytes)} MB",
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
    text = _clean(paragraph.text)
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
        return Block("heading", _clean_inline(text), level=level)
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
            cells.append(_clean_inline(cell.text))
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    if max(len(r) for r in rows) == 1:
        return [Block("paragraph", r[0]) for r in rows if r[0]]
    return [Block("table", "\n".join(" | ".join(r) for r in rows))]


# --------------------------------------------------------------------------------------
# PDF


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
    detail = _shorten(_clean_inline(str(exc)), 120)
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
        text = _clean_inline("".join(parts))
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
        if not _heading_shape(text) or _Q_RE.match(text) or _A_RE.match(text):
            return 0
        if is_big(line):
            return size_levels.get(round(line.size * 2) / 2, 1)
        if not boundary or text[-1] in ".,;:!" or len(text) > 100:
            return 0
        numbered = _NUMBERED_HEADING_RE.match(text)
        if numbered is not None and len(text) <= 80 and len(text.split()) <= 12:
            first = text[numbered.end() - 1]
            if first.isupper() and not text.endswith("?"):
                return min(extra_level + _numbering_depth(numbered), 6)
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
        text = _clean("\n".join(buf)).replace("\n", " ")
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
                and not _NUMBERED_HEADING_RE.match(line.text)
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
            _Q_RE.match(line.text) is not None or _A_RE.match(line.text) is not None
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
