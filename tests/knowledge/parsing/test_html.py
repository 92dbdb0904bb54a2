"""HTML parsing: scripts, styles and hidden content dropped; legacy charsets."""

from __future__ import annotations

from frontline.knowledge.parsing import (
    parse_document,
)
from tests.knowledge.parsing.helpers import (
    pdf_bytes_of,
)

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
