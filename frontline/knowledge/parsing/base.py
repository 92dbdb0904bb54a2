"""The parsing package's shared types (:class:`Block`, :class:`ParsedDocument`,
:class:`ParseLimits`, :class:`DocumentError`), the one interface every format's parser has
(:class:`FormatParser`: a :class:`Source` in, an :class:`Extracted` out) and text clean-up
helpers used by every format."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

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


@dataclass(frozen=True, slots=True)
class Source:
    """One upload as a format's parser receives it, whatever the format."""

    data: bytes
    text: str
    """The decoded text for the text kinds (HTML, Markdown, text); ``""`` for PDF and DOCX."""
    limits: ParseLimits
    on_page: Callable[[int, int], None] | None = None

    def progress(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` pages to the caller's ``on_page``, if it gave one."""
        if self.on_page is not None:
            self.on_page(done, total)


@dataclass(slots=True)
class Extracted:
    """What one format's parser found, before question/answer pairing and the checks every
    format shares (:func:`~frontline.knowledge.parsing.parse_document` does those)."""

    blocks: list[Block]
    title: str = ""
    """The format's own title (HTML ``<title>``); ``""`` lets the first heading or the file
    name be the title."""
    pages: int = 1


class FormatParser(Protocol):
    """The one interface of a format: the ``parse`` function of each ``*_parser`` module.

    It reports its progress through :meth:`Source.progress` (PDF after each page, the
    single-page formats once with ``(1, 1)`` when done) and raises :class:`DocumentError`
    for anything unusable."""

    def __call__(self, source: Source, /) -> Extracted: ...


def format_qa(question: str, answer: str) -> str:
    """The text of a question/answer pair: the question on one line, then the answer.

    The question's own line breaks become spaces, so the first line is always the whole
    question and everything after the first newline is the answer.
    """
    q = " ".join(question.split())
    a = answer.strip()
    return f"{q}\n{a}" if q and a else q or a


_INVISIBLE_RE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_CTRL_STRIP_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """Normalise spacing inside a line (or each line of a multi-line text) and strip."""
    text = _INVISIBLE_RE.sub("", text)
    text = _CTRL_STRIP_RE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def clean_inline(text: str) -> str:
    """All whitespace, line breaks included, to single spaces."""
    return " ".join(_INVISIBLE_RE.sub("", text).split())


# a numbered heading in text and PDF: "1. Title", "1.2 Title", "1.2.3. Title" (not "10
# Downing Street")
NUMBERED_HEADING_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,4}\.?|\d{1,2}\.)\s+\S")


def numbering_depth(match: re.Match[str]) -> int:
    """1 for "2.", 2 for "2.1", 3 for "2.1.3." (``match`` of :data:`NUMBERED_HEADING_RE`)."""
    return len(re.findall(r"\d+", match.group(1)))


def format_mb(n: int) -> str:
    """``n`` bytes for a message: whole megabytes when possible, else one decimal."""
    value = n / _MB
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}" if value >= 0.1 else f"{value:.3f}"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def extension(filename: str) -> str:
    name = basename(filename).lower()
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def basename(filename: str) -> str:
    return re.split(r"[\\/]", filename.strip())[-1]


def filename_stem(filename: str) -> str:
    name = basename(filename)
    dot = name.rfind(".")
    stem = name[:dot] if dot > 0 else name
    return clean_inline(stem.replace("_", " "))
