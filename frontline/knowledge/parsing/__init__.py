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
``markdown_parser``, ``text_parser``), each behind the one interface of ``base``
(:class:`~frontline.knowledge.parsing.base.FormatParser`: its ``parse`` takes a ``Source``
and returns the blocks it ``Extracted``); content sniffing and decoding in ``sniffing``,
question/answer pairing in ``qa``. This module is the face: :func:`parse_document` (sniff,
the kind's parser from :data:`PARSERS`, pairing and the checks every format shares) and
the types.

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

from frontline.knowledge.parsing import (
    docx_parser,
    html_parser,
    markdown_parser,
    pdf_parser,
    text_parser,
)
from frontline.knowledge.parsing.base import (
    Block,
    BlockKind,
    DocumentError,
    DocumentKind,
    ErrorCode,
    FormatParser,
    ParsedDocument,
    ParseLimits,
    Source,
    filename_stem,
    format_mb,
    format_qa,
    shorten,
)
from frontline.knowledge.parsing.qa import pair_qa
from frontline.knowledge.parsing.sniffing import sniff, sniff_type

__all__ = [
    "PARSERS",
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

PARSERS: dict[DocumentKind, FormatParser] = {
    "pdf": pdf_parser.parse,
    "docx": docx_parser.parse,
    "html": html_parser.parse,
    "markdown": markdown_parser.parse,
    "text": text_parser.parse,
}
"""The one parser of each kind :func:`sniff_type` tells apart."""


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
    kind, text = sniff(data, filename)
    extracted = PARSERS[kind](Source(data, text or "", limits, on_page))
    pages, title = extracted.pages, extracted.title
    blocks = pair_qa(extracted.blocks, limits.max_qa_chars)
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
