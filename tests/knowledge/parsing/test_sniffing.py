"""Content sniffing: refused inputs and the limits that apply to every format."""

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
