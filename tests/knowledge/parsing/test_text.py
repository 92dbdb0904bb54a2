"""Plain text: legacy encodings, FAQ pairs, numbered headings."""

from __future__ import annotations

from frontline.knowledge.parsing import (
    parse_document,
)


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
