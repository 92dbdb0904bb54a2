"""The one interface every format's parser has: each kind ``sniff_type`` tells apart has one
parser in ``PARSERS`` (its module's ``parse``), each takes a ``Source`` and returns what it
``Extracted``, reports its progress through the source, and ``parse_document`` is that
parser followed by the shared question/answer pairing and checks."""

from __future__ import annotations

from typing import get_args

import pytest

from frontline.knowledge.parsing import (
    PARSERS,
    DocumentKind,
    ParseLimits,
    docx_parser,
    html_parser,
    markdown_parser,
    parse_document,
    pdf_parser,
    sniff_type,
    text_parser,
)
from frontline.knowledge.parsing.base import DocumentError, Extracted, Source
from frontline.knowledge.parsing.qa import pair_qa
from frontline.knowledge.parsing.sniffing import sniff
from tests.knowledge.parsing.helpers import make_docx, make_pdf

HTML = (
    b"<!doctype html><html><head><title>Tours</title></head><body><h1>Altai</h1>"
    b"<p>Seven days in the mountains.</p></body></html>"
)
MARKDOWN = b"# Altai\n\nSeven days in the mountains.\n\n- tents\n- meals\n"
TEXT = b"ALTAI TOUR\n\nSeven days in the mountains, tents and meals included.\n"


def samples() -> dict[DocumentKind, tuple[bytes, str]]:
    return {
        "pdf": (make_pdf(2), "handbook.pdf"),
        "docx": (make_docx(), "rules.docx"),
        "html": (HTML, "tours.html"),
        "markdown": (MARKDOWN, "tours.md"),
        "text": (TEXT, "tours.txt"),
    }


def test_every_kind_has_its_module_s_parser() -> None:
    assert set(PARSERS) == set(get_args(DocumentKind))
    modules = {
        "pdf": pdf_parser,
        "docx": docx_parser,
        "html": html_parser,
        "markdown": markdown_parser,
        "text": text_parser,
    }
    for kind, module in modules.items():
        assert PARSERS[kind] is module.parse, kind


@pytest.mark.parametrize("kind", get_args(DocumentKind))
def test_each_parser_takes_a_source_and_reports_progress(kind: DocumentKind) -> None:
    data, filename = samples()[kind]
    sniffed, text = sniff(data, filename)
    assert sniffed == kind == sniff_type(data, filename)
    calls: list[tuple[int, int]] = []
    source = Source(
        data, text or "", ParseLimits(), lambda done, total: calls.append((done, total))
    )
    extracted = PARSERS[kind](source)
    assert isinstance(extracted, Extracted)
    assert any(block.text for block in extracted.blocks)
    assert extracted.pages == (2 if kind == "pdf" else 1)
    assert calls == [(page, extracted.pages) for page in range(1, extracted.pages + 1)]
    assert extracted.title == ("Tours" if kind == "html" else "")
    # parse_document is the same parser, then the shared pairing and checks
    document = parse_document(data, filename=filename)
    assert document.kind == kind
    assert document.pages == extracted.pages
    assert document.blocks == pair_qa(extracted.blocks, ParseLimits().max_qa_chars)


def test_a_parser_without_an_on_page_reports_nothing() -> None:
    extracted = PARSERS["markdown"](Source(MARKDOWN, MARKDOWN.decode(), ParseLimits()))
    assert [b.kind for b in extracted.blocks] == ["heading", "paragraph", "list_item", "list_item"]


def test_a_parser_s_refusal_is_a_document_error() -> None:
    with pytest.raises(DocumentError) as refused:
        PARSERS["pdf"](Source(b"%PDF-1.7 not really", "", ParseLimits()))
    assert refused.value.code == "corrupt"
