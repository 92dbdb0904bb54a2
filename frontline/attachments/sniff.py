"""What a file really is, from its bytes (the declared type and name are not trusted).

Binary formats are recognised by ``filetype`` (magic numbers of images, audio, video,
archives, office documents, PDF, Windows and ELF executables); a few signatures it lacks
(Mach-O executables, shell scripts) come from a small table here; text is told apart by
decoding, and HTML, SVG and XML by their first tags - the formats a browser would run as a
page. The answer decides how a file may be served (:func:`inline_safe`), never the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import filetype

OCTET_STREAM = "application/octet-stream"
# images a browser shows without running anything: served inline, shown as thumbnails
SAFE_INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# programs, whatever their name says
EXECUTABLE = frozenset(
    {
        "application/x-msdownload",
        "application/x-executable",
        "application/x-mach-binary",
        "application/x-sh",
        "application/x-shockwave-flash",
        "application/wasm",
        "application/x-google-chrome-extension",
    }
)
# markup a browser renders as a page (scripts included): never served as itself
ACTIVE_MARKUP = frozenset({"text/html", "image/svg+xml", "application/xml"})

_EXTRA_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"#!", "application/x-sh"),
)
_HTML_RE = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|meta|style|title|a\s|img\s|div|p>)",
    re.IGNORECASE,
)
_SVG_RE = re.compile(rb"<svg[\s>]", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class Sniffed:
    content_type: str

    @property
    def is_image(self) -> bool:
        return self.content_type in SAFE_INLINE

    @property
    def is_executable(self) -> bool:
        return self.content_type in EXECUTABLE

    @property
    def is_markup(self) -> bool:
        return self.content_type in ACTIVE_MARKUP


def _looks_like_text(head: bytes) -> bool:
    """UTF-16 with a byte-order mark, or bytes without control characters (UTF-8 and the
    legacy 8-bit encodings such as windows-1251 alike)."""
    if head.startswith(_BOMS[1:]):
        return True
    return not any(b < 0x20 and b not in b"\t\n\r\f" for b in head) and b"\x7f" not in head


def sniff(data: bytes) -> Sniffed:
    """The content type of ``data``, from its first bytes."""
    head = data[:8192]
    for magic, kind in _EXTRA_MAGIC:
        if head.startswith(magic):
            return Sniffed(kind)
    found = filetype.guess_mime(head)
    if found:
        return Sniffed(str(found))
    if not _looks_like_text(head):
        return Sniffed(OCTET_STREAM)
    text = head.lstrip(b"".join(_BOMS)).lstrip().lower()
    text = text.replace(b"\x00", b"")  # UTF-16 markup reads as ASCII without the zeros
    if _SVG_RE.search(text[:4096]):
        return Sniffed("image/svg+xml")
    if _HTML_RE.search(text[:4096]):
        return Sniffed("text/html")
    if text.startswith(b"<?xml"):
        return Sniffed("application/xml")
    return Sniffed("text/plain")


def inline_safe(content_type: str) -> bool:
    """May a browser show this in the page (``Content-Disposition: inline``)?"""
    return content_type in SAFE_INLINE


def served_type(content_type: str) -> str:
    """The ``Content-Type`` to serve a blob with: active markup and programs go out as
    opaque bytes (with ``nosniff`` a browser then only downloads them)."""
    if content_type in ACTIVE_MARKUP or content_type in EXECUTABLE:
        return OCTET_STREAM
    return content_type
