"""Content types come from the bytes, never from the name or the declaration."""

from __future__ import annotations

import pytest

from frontline.attachments.sniff import inline_safe, served_type, sniff
from tests.attachments.conftest import EXE, HTML, PDF, png

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04" + b"\x00" * 16
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (PDF, "application/pdf"),
        (EXE, "application/x-msdownload"),
        (ELF, "application/x-executable"),
        (b"#!/bin/sh\nrm -rf ~\n", "application/x-sh"),
        (HTML, "text/html"),
        (b"  \n<html><p>hi</p></html>", "text/html"),
        (SVG, "image/svg+xml"),
        (b"<?xml version='1.0'?><order><id>1</id></order>", "application/xml"),
        ("Привет, это заказ №5".encode(), "text/plain"),
        ("Привет в windows-1251".encode("cp1251"), "text/plain"),
        (b"\x00\x01\x02\x03\x04binary", "application/octet-stream"),
    ],
)
def test_sniffed_types(data: bytes, expected: str) -> None:
    assert sniff(data).content_type == expected


def test_only_plain_images_are_inline_and_active_content_is_opaque() -> None:
    assert inline_safe("image/png") and inline_safe("image/jpeg")
    for kind in ("image/svg+xml", "text/html", "application/pdf", "application/x-msdownload"):
        assert not inline_safe(kind)
    for kind in ("image/svg+xml", "text/html", "application/xml", "application/x-msdownload"):
        assert served_type(kind) == "application/octet-stream"
    assert served_type("application/pdf") == "application/pdf"
