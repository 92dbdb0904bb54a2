"""Real documents generated for the parsing tests (fpdf2, python-docx)."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from fpdf import FPDF

from frontline.knowledge.parsing import (
    Block,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
needs_dejavu = pytest.mark.skipif(not DEJAVU.is_file(), reason="no DejaVuSans font")

TOPICS = [
    "refunds",
    "delivery",
    "payments",
    "bookings",
    "accounts",
    "security",
    "pricing",
    "warranty",
    "returns",
    "invoices",
    "discounts",
    "loyalty",
    "support",
    "contracts",
]


def sentences(page: int, para: int) -> str:
    topic = TOPICS[(page * 3 + para) % len(TOPICS)]
    return " ".join(
        f"Customers asking about {topic} on page {page} get answer number {para}.{k} from "
        f"the team, which checks the {topic} policy, the order history and the account "
        f"status before it replies."
        for k in range(3)
    )


def make_pdf(pages: int = 3, *, bullets: bool = True) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(True, 20)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(0, 5, "ACME Travel - Customer handbook", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 18)
        pdf.cell(
            0,
            10,
            f"Chapter {page}: {TOPICS[page % len(TOPICS)].title()}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        for section in range(1, 3):
            pdf.set_font("Helvetica", "B", 14)
            pdf.cell(
                0, 9, f"Rules for part {section} of chapter {page}", new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, sentences(page, section), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        if bullets:
            for item in ("Pay by card", "Pay by bank transfer", "Pay in cash at the office"):
                pdf.multi_cell(0, 6, f"- {item} in chapter {page}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.set_auto_page_break(False)
        pdf.set_y(-15)
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(0, 5, f"Page {page} of {pages}", align="C")
        pdf.set_auto_page_break(True, 20)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Правила бронирования", level=1)
    document.add_paragraph("Бронирование подтверждается после предоплаты 30% от стоимости тура.")
    document.add_heading("Оплата", level=2)
    document.add_paragraph("Способы оплаты:")
    document.add_paragraph("Банковская карта", style="List Bullet")
    document.add_paragraph("Перевод по счёту", style="List Bullet")
    document.add_paragraph("Наличные в офисе", style="List Number")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("Тур", "Цена", "Мест"), ("Алтай", "45 000 ₽", "12"), ("Байкал", "60 000 ₽", "8")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    localized = document.styles.add_style("Заголовок 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Отмена", style=localized)
    document.add_paragraph("Вопрос: Можно ли вернуть предоплату?")
    document.add_paragraph("Ответ: Да, при отмене за 14 дней до начала тура.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes_of(blocks: list[Block]) -> str:
    return "\n".join(b.text for b in blocks)
