"""What kind of document a file is, decided from its content, and text decoding
(UTF-8/16/32, declared charsets, Windows-1251/1252) for the text-based kinds."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

from frontline.knowledge.parsing.base import DocumentError, DocumentKind, extension

_SUPPORTED_HINT = "upload a PDF, DOCX, HTML, Markdown or plain-text file"
_UNSUPPORTED_BINARY = f"unsupported file type (binary data); {_SUPPORTED_HINT}"

# magic bytes of common files that are not documents we can read
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a RIFF media file (image, audio or video)"),
    (b"\x00\x00\x01\x00", "an icon"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "a legacy Microsoft Office file (.doc, .xls); save it as .docx",
    ),
    (b"{\\rtf", "an RTF document; save it as .docx"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"%!PS", "a PostScript file"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "a database file"),
)
# magic bytes that are ordinary letters: named only when the file is not text anyway
_TEXTLIKE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF media file (image, audio or video)"),
    (b"BZh", "a bzip2 archive"),
    (b"MZ", "a Windows executable"),
    (b"OggS", "an audio file"),
    (b"ID3", "an audio file"),
    (b"fLaC", "an audio file"),
)

_MARKDOWN_EXTENSIONS = (".md", ".markdown", ".mdown", ".mkd", ".mdx")
_TEXT_EXTENSIONS = (".txt", ".text", ".csv", ".log")


def sniff_type(data: bytes, filename: str = "") -> DocumentKind:
    """The document kind of ``data``, decided by its content.

    Raises :class:`DocumentError` (``empty`` or ``unsupported``) for an empty file and for
    anything that is not a PDF, DOCX, HTML, Markdown or text file, so an upload endpoint can
    refuse it before storing it. The name only breaks a Markdown/text tie.
    """
    return sniff(data, filename)[0]


def sniff(data: bytes, filename: str) -> tuple[DocumentKind, str | None]:
    """The kind, and the decoded text for the text-based kinds."""
    if not data or data.isspace():
        raise DocumentError("the file is empty", code="empty")
    head = data[:1024]
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf", None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data), None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            raise DocumentError(
                f"unsupported file type ({name}); {_SUPPORTED_HINT}", code="unsupported"
            )
    text = _decode_text(data)
    if text is None:
        if b"%PDF-" in head:  # a PDF behind a few bytes of junk still opens in readers
            return "pdf", None
        what = next((w for magic, w in _TEXTLIKE_MAGIC if head.startswith(magic)), None)
        if what is None and head[4:8] == b"ftyp":
            what = "a video or image"
        if what is not None:
            raise DocumentError(
                f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported"
            )
        raise DocumentError(_UNSUPPORTED_BINARY, code="unsupported")
    if not text.strip():
        raise DocumentError("the file is empty", code="empty")
    return _sniff_text(text, filename), text


def _sniff_zip(data: bytes) -> DocumentKind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(
            "the file is a damaged ZIP archive (a DOCX file is a ZIP archive inside)",
            code="corrupt",
        ) from exc
    if "word/document.xml" in names:
        return "docx"
    what = "a ZIP archive"
    if "xl/workbook.xml" in names:
        what = "an Excel workbook"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    elif "mimetype" in names and "content.xml" in names:
        what = "an OpenDocument file; save it as .docx"
    elif "META-INF/container.xml" in names:
        what = "an EPUB book"
    raise DocumentError(f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported")


_HTML_DOC_RE = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_HTML_TAG_RE = re.compile(
    r"</?(?:p|div|br|h[1-6]|li|ul|ol|table|tr|td|th|span|a|strong|em|b|i|section|article"
    r"|header|footer|main|title|meta|link|script|style|img|blockquote|pre|code)\b[^<>]*>",
    re.I,
)
_XML_RE = re.compile(r"<\?xml[^>]*\?>\s*(?:<!--.*?-->\s*)*<([\w:-]+)", re.S)

_MD_ATX_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.M)
_MD_TABLE_SEP_RE = re.compile(
    r"^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M
)
_MD_FENCE_RE = re.compile(r"^ {0,3}(?:```|~~~)", re.M)
_MD_LINK_RE = re.compile(r"!?\[[^\]\n]+\]\([^)\s]+[^)]*\)")
_MD_SETEXT_RE = re.compile(r"^[^\n]*\S[^\n]*\n {0,3}(?:=+|-{2,})[ \t]*$", re.M)


def _sniff_text(text: str, filename: str) -> DocumentKind:
    head = text[:4096]
    stripped = head.lstrip()
    if _HTML_DOC_RE.search(head):
        return "html"
    xml = _XML_RE.match(stripped)
    if xml is not None:
        root = xml.group(1).lower()
        if root == "html":
            return "html"
        what = "an SVG image" if root == "svg" else "an XML file"
        raise DocumentError(
            f"unsupported file type ({what}); {_SUPPORTED_HINT}", code="unsupported"
        )
    if stripped[:4].lower() == "<svg":
        raise DocumentError(
            f"unsupported file type (an SVG image); {_SUPPORTED_HINT}", code="unsupported"
        )
    sample = text[:50_000]
    strong = (
        len(_MD_ATX_RE.findall(sample))
        + len(_MD_TABLE_SEP_RE.findall(sample))
        + len(_MD_FENCE_RE.findall(sample)) // 2
        + len(_MD_LINK_RE.findall(sample))
        + len(_MD_SETEXT_RE.findall(sample))
    )
    html_tags = len(_HTML_TAG_RE.findall(sample))
    if strong < 2 and (html_tags >= 3 or (stripped.startswith("<") and html_tags >= 1)):
        return "html"
    if strong >= 2:
        return "markdown"
    ext = extension(filename)
    if ext in _MARKDOWN_EXTENSIONS:
        return "markdown"
    if ext in _TEXT_EXTENSIONS:
        return "text"
    # no telling extension: one clear Markdown construct is enough, lists alone are not
    return "markdown" if strong == 1 else "text"


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_CP1251_OK_RE = re.compile(r"[А-Яа-яЁё«»—–№“”„…’‘•€ ]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode_text(data: bytes) -> str | None:
    """``data`` as text, or ``None`` when it does not look like text.

    UTF-8 (a file cut inside the last character still counts), UTF-16/32 with a BOM; for
    other bytes a charset the file declares (``<meta charset>``, ``<?xml encoding>``), then
    Windows-1251 when the non-ASCII characters are Russian letters and punctuation, then
    Windows-1252 when they are Western European ones; at last UTF-8 with the broken bytes
    replaced, accepted when they are under 1% of the text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return text if _plausible(text) else None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            text = data[: exc.start].decode("utf-8")
        else:
            legacy = _decode_legacy(data)
            if legacy is None:
                # UTF-8 with a few broken bytes is still text (``_plausible`` counts them)
                legacy = data.decode("utf-8", errors="replace")
            text = legacy
    return text if _plausible(text) else None


_DECLARED_CHARSET_RE = re.compile(
    rb"""(?:charset\s*=\s*["']?|<\?xml[^>]*encoding\s*=\s*["'])([A-Za-z0-9_.:-]{2,40})""", re.I
)
_CP1252_OK_RE = re.compile(r"[À-ÖØ-öø-ÿŒœŠšŽžŸ«»—–“”„…’‘•€°©®™§£¥¢ ]")


def _decode_legacy(data: bytes) -> str | None:
    declared = _DECLARED_CHARSET_RE.search(data[:4096])
    if declared is not None:
        name = declared.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            codec = ""
        if codec and not codec.startswith(("utf-16", "utf-32")):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    for encoding, allowed in (("cp1251", _CP1251_OK_RE), ("cp1252", _CP1252_OK_RE)):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:200_000]
        non_ascii = "".join(c for c in sample if ord(c) > 127)
        if len(allowed.findall(non_ascii)) < 0.95 * len(non_ascii):
            continue
        if encoding == "cp1251" and _mixed_script_share(sample) > 0.3:
            continue  # "Cafй crиme": Western text read as Cyrillic
        return text
    return None


_WORD_RE = re.compile(r"\w+")
_CYRILLIC_RE = re.compile(r"[А-Яа-яЁё]")
_LATIN_RE = re.compile(r"[A-Za-z]")


def _mixed_script_share(text: str) -> float:
    """Share of the words with Cyrillic letters that mix in Latin letters too."""
    cyrillic = mixed = 0
    for word in _WORD_RE.findall(text):
        if _CYRILLIC_RE.search(word):
            cyrillic += 1
            if _LATIN_RE.search(word):
                mixed += 1
    return mixed / cyrillic if cyrillic else 0.0


def _plausible(text: str) -> bool:
    sample = text[:200_000]
    return len(_CONTROL_RE.findall(sample)) <= len(sample) * 0.01
