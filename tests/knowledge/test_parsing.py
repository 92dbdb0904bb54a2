"""Document parsing: real files generated here (fpdf2, pypdf, python-docx, zipfile)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from frontline.knowledge.chunking import chunk_document
from frontline.knowledge.parsing import (
    Block,
    DocumentError,
    ParseLimits,
    parse_document,
    sniff_type,
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


def _sentences(page: int, para: int) -> str:
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
            pdf.multi_cell(0, 6, _sentences(page, section), new_x="LMARGIN", new_y="NEXT")
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


# ------------------------------------------------------------------------------------ PDF


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
    assert paragraphs[0].text == _sentences(1, 1)
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


# ----------------------------------------------------------------------------------- DOCX


def test_docx_structure() -> None:
    doc = parse_document(make_docx(), filename="rules.docx")
    assert doc.kind == "docx"
    assert doc.title == "Правила бронирования"
    assert doc.pages == 1
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Правила бронирования"),
        ("paragraph", 0, "Бронирование подтверждается после предоплаты 30% от стоимости тура."),
        ("heading", 2, "Оплата"),
        ("paragraph", 0, "Способы оплаты:"),
        ("list_item", 0, "Банковская карта"),
        ("list_item", 0, "Перевод по счёту"),
        ("list_item", 0, "Наличные в офисе"),
        ("table", 0, "Тур | Цена | Мест\nАлтай | 45 000 ₽ | 12\nБайкал | 60 000 ₽ | 8"),
        ("heading", 2, "Отмена"),
        ("qa", 0, "Можно ли вернуть предоплату?\nДа, при отмене за 14 дней до начала тура."),
    ]
    qa = doc.blocks[-1]
    assert qa.question == "Можно ли вернуть предоплату?"
    assert qa.answer == "Да, при отмене за 14 дней до начала тура."


def test_docx_is_detected_by_content_not_name() -> None:
    data = make_docx()
    assert sniff_type(data, "notes.txt") == "docx"
    assert parse_document(data, filename="scan.pdf").kind == "docx"


def _zip_with_big_member(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = b"\0" * (1024 * 1024)
        with zf.open(info, "w", force_zip64=True) as member:
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def test_docx_zip_bomb_is_refused_before_unpacking() -> None:
    bomb = _zip_with_big_member(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024  # 200 MB of zeros packs to ~200 KB
    assert sniff_type(bomb) == "docx"
    with pytest.raises(DocumentError) as info:
        parse_document(bomb, filename="bomb.docx")  # judged by declared sizes: nothing unpacked
    assert info.value.code == "zip_bomb"
    assert "zip bomb" in info.value.reason
    assert "100 MB" in info.value.reason


def test_docx_compression_ratio_limit() -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(_zip_with_big_member(8 * 1024 * 1024))
    assert info.value.code == "zip_bomb"
    assert "compressed more than 100 to 1" in info.value.reason


def test_docx_member_count_limit() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        for i in range(30):
            zf.writestr(f"word/media/{i}.bin", "x")
    with pytest.raises(DocumentError) as info:
        parse_document(out.getvalue(), limits=ParseLimits(max_zip_members=10))
    assert info.value.code == "zip_bomb"


def test_broken_docx_is_corrupt() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<not xml")
    with pytest.raises(DocumentError) as info:
        parse_document(out.getvalue())
    assert info.value.code == "corrupt"
    assert "DOCX" in info.value.reason


# ----------------------------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html>
<html><head><title>Delivery &amp; returns</title>
<style>body { color: red } .secret { display: none }</style>
<script>var token = "SCRIPT-SECRET"; if (a < b) { document.write("<p>evil</p>") }</script>
</head>
<body>
<nav><a href="/">Home</a> <a href="/faq">NAV-LINK</a></nav>
<!-- COMMENT-SECRET -->
<h1>Delivery</h1>
<p>We ship   within <b>2&nbsp;days</b> &mdash; free over 50&euro;.<br>Express costs extra.</p>
<noscript><p>NOSCRIPT-SECRET</p></noscript>
<template><p>TEMPLATE-SECRET</p></template>
<iframe src="x">IFRAME-SECRET</iframe>
<svg><text>SVG-SECRET</text></svg>
<div hidden><p>HIDDEN-SECRET</p></div>
<h2>Options</h2>
<ul><li>Courier</li><li>Pick-up point<ul><li>Nearest to you</li></ul></li></ul>
<table><tr><th>Zone</th><th>Price</th></tr><tr><td>City</td><td>5 &euro;</td></tr>
<tr><td>Region</td><td>9 &euro;</td></tr></table>
<script type="application/ld+json">{"SCRIPT-SECRET-2": 1}</script>
</body></html>"""


def test_html_drops_scripts_styles_and_hidden_content() -> None:
    doc = parse_document(HTML.encode(), filename="page.bin")
    assert doc.kind == "html"
    assert doc.title == "Delivery & returns"
    text = pdf_bytes_of(doc.blocks)
    for secret in ("SECRET", "NAV-LINK", "color: red", "evil", "token"):
        assert secret not in text
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Delivery"),
        (
            "paragraph",
            0,
            "We ship within 2\u00a0days — free over 50€.\nExpress costs extra.".replace(
                "\u00a0", " "
            ),
        ),
        ("heading", 2, "Options"),
        ("list_item", 0, "Courier"),
        ("list_item", 0, "Pick-up point"),
        ("list_item", 1, "Nearest to you"),
        ("table", 0, "Zone | Price\nCity | 5 €\nRegion | 9 €"),
    ]


def test_html_fragment_and_cp1251_meta() -> None:
    fragment = "<p>Первый абзац.</p><p>Второй абзац.</p><h2>Раздел</h2><p>Текст</p>"
    doc = parse_document(fragment.encode("cp1251"))
    assert doc.kind == "html"
    assert [b.text for b in doc.blocks] == ["Первый абзац.", "Второй абзац.", "Раздел", "Текст"]
    assert doc.title == "Раздел"


# ------------------------------------------------------------------------------- Markdown

MARKDOWN = """---
title: ignored front matter
---
# Getting started

Welcome to **ACME** support. Read the [full guide](https://acme.example/guide) or
the [FAQ](/faq). Use `snake_case_name` and _emphasis_.

Setext heading
--------------

- First item
- Second item with *emphasis*
  continued on the next line
  1. nested numbered

| Plan | Price |
|------|------:|
| Basic | 10 $ |
| Pro | 25 $ |

```python
print("code stays")
```

## Q&A

Q: Can I cancel?
A: Yes, any time.
"""


def test_markdown_structure() -> None:
    doc = parse_document(MARKDOWN.encode(), filename="guide.md")
    assert doc.kind == "markdown"
    assert doc.title == "Getting started"
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Getting started"),
        (
            "paragraph",
            0,
            "Welcome to ACME support. Read the full guide "
            "(https://acme.example/guide) or the FAQ. Use snake_case_name and emphasis.",
        ),
        ("heading", 2, "Setext heading"),
        ("list_item", 0, "First item"),
        ("list_item", 0, "Second item with emphasis continued on the next line"),
        ("list_item", 1, "nested numbered"),
        ("table", 0, "Plan | Price\nBasic | 10 $\nPro | 25 $"),
        ("paragraph", 0, 'print("code stays")'),
        ("heading", 2, "Q&A"),
        ("qa", 0, "Can I cancel?\nYes, any time."),
    ]


def test_markdown_versus_text_tie_uses_the_extension() -> None:
    one_signal = b"Intro line\n\n# Only heading\n\nSome text."
    assert sniff_type(one_signal, "a.md") == "markdown"
    assert sniff_type(one_signal, "a.txt") == "text"
    assert sniff_type(one_signal) == "markdown"
    plain = b"Just a note.\n\nAnother paragraph."
    assert sniff_type(plain) == "text"
    assert sniff_type(plain, "notes.md") == "markdown"
    # clear Markdown is Markdown whatever the name
    assert sniff_type(MARKDOWN.encode(), "notes.txt") == "markdown"


# ----------------------------------------------------------------------------------- text


def test_cp1251_russian_text() -> None:
    text = "Часы работы\r\n\r\nМы работаем ежедневно с 9:00 до 21:00.\r\nБез выходных.\r\n"
    doc = parse_document(text.encode("cp1251"), filename="часы.txt")
    assert doc.kind == "text"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "Часы работы"),
        ("paragraph", "Мы работаем ежедневно с 9:00 до 21:00.\nБез выходных."),
    ]
    assert doc.title == "часы"


def test_utf16_text_with_bom() -> None:
    doc = parse_document("Привет, мир. Hello.".encode("utf-16"))
    assert doc.kind == "text"
    assert doc.blocks[0].text == "Привет, мир. Hello."


def test_text_faq_pairs() -> None:
    text = """ЧАСТЫЕ ВОПРОСЫ

Вопрос: Как оплатить тур?
Ответ: Картой на сайте
или переводом по счёту.
Вопрос: Можно ли с собакой?
Ответ: Да, в домиках категории B.

Собак до 10 кг берём бесплатно.

Q: Do you speak English?
A: Yes.
"""
    doc = parse_document(text.encode())
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "ЧАСТЫЕ ВОПРОСЫ"),
        ("qa", "Как оплатить тур?\nКартой на сайте\nили переводом по счёту."),
        ("qa", "Можно ли с собакой?\nДа, в домиках категории B.\nСобак до 10 кг берём бесплатно."),
        ("qa", "Do you speak English?\nYes."),
    ]
    assert doc.blocks[1].question == "Как оплатить тур?"
    assert doc.blocks[1].answer == "Картой на сайте\nили переводом по счёту."


def test_overlong_faq_pair_stays_paragraphs() -> None:
    text = "Q: Why?\nA: " + "Because. " * 300
    doc = parse_document(text.encode())
    assert [b.kind for b in doc.blocks] == ["paragraph", "paragraph"]


def test_numbered_text_headings() -> None:
    doc = parse_document(b"1. Delivery\n\nWe deliver daily.\n\n1.2 Zones\n\nCity and region.")
    assert [(b.kind, b.level) for b in doc.blocks] == [
        ("heading", 1),
        ("paragraph", 0),
        ("heading", 2),
        ("paragraph", 0),
    ]


# ------------------------------------------------------------------------- refused inputs


@pytest.mark.parametrize("data", [b"", b"   \n\t \n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(data)
    assert info.value.reason == "the file is empty"
    assert info.value.code == "empty"


def test_oversized_file() -> None:
    limits = ParseLimits(max_bytes=1024 * 1024)
    with pytest.raises(DocumentError) as info:
        parse_document(b"a" * (1024 * 1024 + 1), limits=limits)
    assert info.value.reason == "the file is larger than 1 MB"
    assert info.value.code == "too_large"
    assert parse_document(b"a" * 1024, limits=limits).kind == "text"


def test_too_much_text() -> None:
    with pytest.raises(DocumentError) as info:
        parse_document(b"word " * 1000, limits=ParseLimits(max_text_chars=100))
    assert info.value.code == "too_large"


def test_png_is_unsupported() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)
    with pytest.raises(DocumentError) as info:
        parse_document(png, filename="notes.txt")
    assert info.value.code == "unsupported"
    assert info.value.reason.startswith("unsupported file type (a PNG image)")


def test_random_zip_is_unsupported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DocumentError) as info:
        sniff_type(out.getvalue(), "file.docx")
    assert info.value.code == "unsupported"
    assert "ZIP archive" in info.value.reason


def test_binary_junk_is_unsupported() -> None:
    junk = bytes((i * 7919 + 13) % 256 for i in range(4096))
    with pytest.raises(DocumentError) as info:
        parse_document(junk, filename="a.md")
    assert info.value.code == "unsupported"
    assert "binary" in info.value.reason


def test_high_bytes_without_nul_are_not_cp1251_text() -> None:
    junk = bytes(128 + (i * 31) % 128 for i in range(2000))
    with pytest.raises(DocumentError):
        sniff_type(junk)


def test_legacy_word_doc_gets_a_hint() -> None:
    with pytest.raises(DocumentError) as info:
        sniff_type(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "save it as .docx" in info.value.reason


def test_legacy_encodings() -> None:
    assert parse_document("Café crème, déjà vu.".encode("cp1252")).blocks[0].text == (
        "Café crème, déjà vu."
    )
    koi8 = '<html><head><meta charset="koi8-r"></head><body><p>Привет</p></body></html>'
    assert parse_document(koi8.encode("koi8-r")).blocks[0].text == "Привет"


def test_time_is_not_a_question_mark() -> None:
    doc = parse_document("в 10:00 мы открываемся\nо 5: нет".encode())
    assert [b.kind for b in doc.blocks] == ["paragraph"]


def test_text_starting_like_a_magic_number_is_text() -> None:
    assert sniff_type(b"MZ Travel: tours to Altai.\n") == "text"
    assert sniff_type(b"GIF89a is an image format, this note explains it.") == "text"


def test_an_address_is_not_a_numbered_heading() -> None:
    doc = parse_document(b"10 Downing Street\n\nLondon, the office is open daily.")
    assert [b.kind for b in doc.blocks] == ["paragraph", "paragraph"]


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
