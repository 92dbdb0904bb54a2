"""Markdown parsing: headings, lists, tables, code; the Markdown/text tie."""

from __future__ import annotations

from frontline.knowledge.parsing import (
    parse_document,
    sniff_type,
)

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


def test_a_bold_line_over_a_paragraph_is_its_heading() -> None:
    """``**Sayan glacier trek**`` on the line above its text heads that text (one level
    below the last real heading, so consecutive bold lines are siblings) instead of being
    glued to its first sentence; bold words inside a paragraph stay text."""
    text = (
        "# Treks\n\n**Sayan glacier trek**\nThe trek takes 6 days.\n\n"
        "__Baikal:__\nThe tour costs 45,000 rubles.\n\nThe **best** season is July.\n"
    )
    doc = parse_document(text.encode(), filename="treks.md")
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Treks"),
        ("heading", 2, "Sayan glacier trek"),
        ("paragraph", 0, "The trek takes 6 days."),
        ("heading", 2, "Baikal"),
        ("paragraph", 0, "The tour costs 45,000 rubles."),
        ("paragraph", 0, "The best season is July."),
    ]
