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

One module per format (``pdf_parser``, ``docx_parser``, ``html_parser``,
``markdown_parser``, ``text_parser``), content sniffing and decoding in ``sniffing``, the
shared types in ``base``; this module is the face: :func:`parse_document` and the types.

Every failure is a :class:`DocumentError` whose :attr:`~DocumentError.reason` is a short
English sentence meant for the user (it is stored as the document's failure reason) and
whose :attr:`~DocumentError.code` is a stable machine-readable category.

Not defended here: pathological PDFs that make ``pypdf`` slow (the ingestion job should run
parsing under a time limit). ``pypdf`` itself caps decompressed stream sizes
(``LimitReachedError`` becomes a ``zip_bomb`` error) and ``python-docx`` parses XML without
resolving entities.
"""

from __future__ import annotations

from collections.abc import Callable

from frontline.knowledge.parsing.base import (
    Block,
    BlockKind,
    DocumentError,
    DocumentKind,
    ErrorCode,
    ParsedDocument,
    ParseLimits,
    filename_stem,
    format_mb,
    format_qa,
    shorten,
)
from frontline.knowledge.parsing.docx_parser import _parse_docx
from frontline.knowledge.parsing.html_parser import _parse_html
from frontline.knowledge.parsing.markdown_parser import _parse_markdown
from frontline.knowledge.parsing.pdf_parser import _parse_pdf
from frontline.knowledge.parsing.qa import _pair_qa
from frontline.knowledge.parsing.sniffing import _sniff, sniff_type
from frontline.knowledge.parsing.text_parser import _parse_text

__all__ = [
    "Block",
    "BlockKind",
    "DocumentError",
    "DocumentKind",
    "ErrorCode",
    "ParseLimits",
    "ParsedDocument",
    "format_qa",
    "parse_document",
    "sniff_type",
]


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
            f"the file is larger than {format_mb(limits.max_bytes)} MB", code="too_large"
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
        title = filename_stem(filename) or "Untitled"
    return ParsedDocument(
        kind=kind, title=shorten(" ".join(title.split()), 200), pages=pages, blocks=blocks
    )
