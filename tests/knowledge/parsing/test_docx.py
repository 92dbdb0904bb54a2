"""DOCX parsing: styles, lists and tables; zip bombs refused before unpacking."""

from __future__ import annotations

import io
import zipfile

import pytest

from frontline.knowledge.parsing import (
    DocumentError,
    ParseLimits,
    parse_document,
    sniff_type,
)
from tests.knowledge.parsing.helpers import (
    make_docx,
)


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
