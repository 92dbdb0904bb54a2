"""PDF parsing: structure from fonts and gaps, page limits, encryption, damage."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from frontline.knowledge.chunking import chunk_document
from frontline.knowledge.parsing import (
    Block,
    DocumentError,
    ParseLimits,
    parse_document,
)
from tests.knowledge.parsing.helpers import (
    DEJAVU,
    DEJAVU_BOLD,
    make_pdf,
    needs_dejavu,
    pdf_bytes_of,
    sentences,
)


def test_english_pdf_structure_and_progress() -> None:
    data = make_pdf(3)
    progress: list[tuple[int, int]] = []
    doc = parse_document(
        data, filename="handbook.pdf", on_page=lambda d, t: progress.append((d, t))
    )
    assert doc.kind == "pdf"
    assert doc.pages == 3
    assert progress == [(1, 3), (2, 3), (3, 3)]
    headings = [(b.level, b.text, b.page) for b in doc.blocks if b.kind == "heading"]
    assert headings[:3] == [
        (1, "Chapter 1: Delivery", 1),
        (2, "Rules for part 1 of chapter 1", 1),
        (2, "Rules for part 2 of chapter 1", 1),
    ]
    assert len(headings) == 9
    assert doc.title == "Chapter 1: Delivery"
    paragraphs = [b for b in doc.blocks if b.kind == "paragraph"]
    # one paragraph per multi_cell: wrapped lines are joined back
    assert len(paragraphs) == 6
    assert paragraphs[0].text == sentences(1, 1)
    assert paragraphs[-1].page == 3
    items = [b.text for b in doc.blocks if b.kind == "list_item"]
    assert items[:3] == [
        "Pay by card in chapter 1",
        "Pay by bank transfer in chapter 1",
        "Pay in cash at the office in chapter 1",
    ]
    text = pdf_bytes_of(doc.blocks)
    # running header and page footers are gone
    assert "Customer handbook" not in text
    assert "Page 1 of 3" not in text


def test_pdf_numbered_headings_without_font_changes() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    for line in (
        "1. Introduction",
        "We organise tours in the Altai mountains and near Lake Baikal.",
        "",
        "1.1 Booking rules",
        "A booking is confirmed after a prepayment of 30 percent.",
    ):
        if line:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(6)
    doc = parse_document(bytes(pdf.output()))
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "1. Introduction"),
        ("paragraph", 0, "We organise tours in the Altai mountains and near Lake Baikal."),
        ("heading", 2, "1.1 Booking rules"),
        ("paragraph", 0, "A booking is confirmed after a prepayment of 30 percent."),
    ]


@needs_dejavu
def test_russian_pdf() -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(DEJAVU))
    pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD if DEJAVU_BOLD.is_file() else DEJAVU))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, "Условия отмены", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    body = (
        "При отмене тура менее чем за 7 дней до начала предоплата не возвращается. "
        "Перенос даты возможен один раз бесплатно. "
    ) * 3
    pdf.multi_cell(0, 6, body.strip(), new_x="LMARGIN", new_y="NEXT")
    doc = parse_document(bytes(pdf.output()), filename="отмена.pdf")
    assert doc.title == "Условия отмены"
    assert doc.blocks[0] == Block("heading", "Условия отмены", level=1, page=1)
    assert doc.blocks[1].kind == "paragraph"
    assert doc.blocks[1].text == body.strip()


def test_encrypted_pdf_is_refused() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentError) as info:
        parse_document(out.getvalue())
    assert info.value.code == "encrypted"
    assert info.value.reason.startswith("the PDF is encrypted")


def test_pdf_with_only_an_owner_password_opens() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    doc = parse_document(out.getvalue())
    assert "Chapter 1: Delivery" in pdf_bytes_of(doc.blocks)


@pytest.mark.parametrize("cut", [0.1, 0.5])
def test_truncated_pdf_is_corrupt(cut: float) -> None:
    data = make_pdf(2)
    with pytest.raises(DocumentError) as info:
        parse_document(data[: int(len(data) * cut)])
    assert info.value.code in ("corrupt", "no_text")
    assert "PDF" in info.value.reason


def test_garbage_pdf_is_corrupt() -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    assert info.value.code == "corrupt"
    assert info.value.reason.startswith("the PDF is damaged or incomplete")


def test_pdf_without_text_is_a_scan() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 100, style="F")  # a page with graphics only, like a scan
    with pytest.raises(DocumentError) as info:
        parse_document(bytes(pdf.output()))
    assert info.value.code == "no_text"
    assert "scanned" in info.value.reason


def test_pdf_page_limit() -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(make_pdf(3, bullets=False), limits=ParseLimits(max_pages=2))
    assert info.value.code == "too_many_pages"
    assert info.value.reason == "the PDF has more than 2 pages"


def test_a_long_pdf_parses_page_by_page() -> None:
    """50 full English pages (throughput is measured by benchmarks/knowledge.py)."""
    seen: list[tuple[int, int]] = []
    doc = parse_document(make_pdf(50), on_page=lambda done, total: seen.append((done, total)))
    chunks = chunk_document(doc)
    assert doc.pages == 50 and seen[-1] == (50, 50) and len(seen) == 50
    assert len(chunks) >= 25


def test_pdf_wrapped_heading_is_one_heading() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    title = "Terms and conditions of tours, transfers and accommodation in the mountains"
    pdf.multi_cell(90, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "All tours are run by licensed guides.", new_x="LMARGIN", new_y="NEXT")
    doc = parse_document(bytes(pdf.output()))
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", title),
        ("paragraph", "All tours are run by licensed guides."),
    ]
