"""Structure-aware chunking."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from frontline.knowledge.chunking import (
    Chunk,
    chunk_document,
    chunk_search_text,
    faq_chunk,
    split_qa,
    split_text,
)
from frontline.knowledge.parsing import Block, ParsedDocument, format_qa, parse_document


def doc_of(*blocks: Block) -> ParsedDocument:
    return ParsedDocument(kind="markdown", title="Guide", pages=1, blocks=list(blocks))


def sentence(i: int) -> str:
    return f"Sentence number {i} explains one rule of the service in plain words."


def paragraph(start: int, count: int) -> str:
    return " ".join(sentence(i) for i in range(start, start + count))


def test_heading_path_follows_levels() -> None:
    doc = doc_of(
        Block("paragraph", "Preface text."),
        Block("heading", "Booking", level=1),
        Block("paragraph", "How to book."),
        Block("heading", "Prepayment", level=2),
        Block("paragraph", "Pay 30 percent."),
        Block("heading", "Card", level=3),
        Block("paragraph", "Visa and Mir."),
        Block("heading", "Cancellation", level=2),
        Block("paragraph", "Free up to 14 days."),
        Block("heading", "Contacts", level=1),
        Block("paragraph", "Call us."),
    )
    chunks = chunk_document(doc)
    assert [(c.heading_path, c.text) for c in chunks] == [
        ((), "Preface text."),
        (("Booking",), "How to book."),
        (("Booking", "Prepayment"), "Pay 30 percent."),
        (("Booking", "Prepayment", "Card"), "Visa and Mir."),
        (("Booking", "Cancellation"), "Free up to 14 days."),
        (("Contacts",), "Call us."),
    ]
    assert [c.ordinal for c in chunks] == list(range(6))
    # the path is not part of the text
    assert all("Booking" not in c.text for c in chunks)


def test_small_paragraphs_accumulate_up_to_the_target() -> None:
    blocks = [Block("paragraph", paragraph(i * 3, 3)) for i in range(20)]  # ~210 chars each
    chunks = chunk_document(doc_of(*blocks), target_chars=900, max_chars=1500)
    assert len(chunks) < len(blocks)
    assert all(len(c.text) <= 900 for c in chunks)
    assert all(len(c.text) >= 600 for c in chunks[:-1])
    # nothing lost, nothing repeated
    assert "\n\n".join(c.text for c in chunks) == "\n\n".join(b.text for b in blocks)


def test_sections_are_never_merged() -> None:
    doc = doc_of(
        Block("heading", "A", level=1),
        Block("paragraph", "short a"),
        Block("heading", "B", level=1),
        Block("paragraph", "short b"),
    )
    assert [c.text for c in chunk_document(doc)] == ["short a", "short b"]


def test_long_paragraph_is_split_at_sentences_with_overlap() -> None:
    text = paragraph(0, 60)  # ~4000 chars
    chunks = chunk_document(doc_of(Block("paragraph", text, page=4)), overlap_chars=150)
    assert len(chunks) >= 4
    assert all(len(c.text) <= 900 for c in chunks)
    assert all(c.page == 4 for c in chunks)
    for previous, current in itertools.pairwise(chunks):
        # every piece ends and starts on a sentence boundary
        assert previous.text.endswith(".")
        assert current.text.startswith("Sentence number")
        # the next piece repeats the last sentence(s) of the previous one, <= 150 chars
        overlap = max(
            n for n in range(len(current.text)) if previous.text.endswith(current.text[:n])
        )
        assert 60 < overlap <= 150
        assert current.text[overlap - 1] == "."
    # every sentence survives
    for i in range(60):
        assert any(sentence(i) in c.text for c in chunks)


def test_overlap_of_a_sentence_longer_than_the_overlap_is_its_last_words() -> None:
    long_sentence = " ".join(f"Word{i}" for i in range(80)) + "."  # ~550 chars
    pieces = split_text(" ".join([long_sentence] * 3), 900, 1500, 60)
    assert len(pieces) == 3
    for previous, current in itertools.pairwise(pieces):
        head = current[: current.index(".") + 1]
        assert previous.endswith(" " + head)
        assert 0 < len(head) <= 60
        assert len(current) <= 900


def test_text_without_spaces_is_cut_hard() -> None:
    pieces = split_text("x" * 5000, 900, 1500, 150)
    assert all(len(p) <= 1500 for p in pieces)
    assert "".join(pieces).count("x") >= 5000


def test_russian_sentences_and_abbreviations() -> None:
    text = " ".join(
        f"Предложение {i} описывает правило, т.е. условие бронирования в г. Москве."
        for i in range(40)
    )
    pieces = split_text(text, 500, 800, 120)
    assert len(pieces) > 3
    for piece in pieces:
        assert piece.startswith("Предложение")  # never cut after "т.е." or "г."
        assert piece.endswith("Москве.")


def test_qa_is_exactly_one_chunk() -> None:
    question, answer = "Можно ли с собакой?", "Да, в домиках категории B."
    doc = doc_of(
        Block("paragraph", "Intro."),
        Block("qa", format_qa(question, answer), question=question, answer=answer),
        Block("qa", format_qa("Q2?", "A2."), question="Q2?", answer="A2."),
        Block("paragraph", "Outro."),
    )
    chunks = chunk_document(doc)
    assert [c.text for c in chunks] == [
        "Intro.",
        "Можно ли с собакой?\nДа, в домиках категории B.",
        "Q2?\nA2.",
        "Outro.",
    ]


def test_long_qa_is_not_split() -> None:
    answer = paragraph(0, 40)
    doc = doc_of(Block("qa", format_qa("Why?", answer), question="Why?", answer=answer))
    chunks = chunk_document(doc, target_chars=300, max_chars=500, overlap_chars=50)
    assert len(chunks) == 1
    assert chunks[0].text == f"Why?\n{answer}"


def test_list_items_stay_together() -> None:
    doc = doc_of(
        Block("paragraph", paragraph(0, 10)),  # ~700 chars
        Block("paragraph", "You can pay:"),
        Block("list_item", "by card"),
        Block("list_item", "by bank transfer"),
        Block("list_item", "from the balance", level=1),
        Block("list_item", "in cash"),
        Block("paragraph", "Receipts are sent by e-mail."),
    )
    chunks = chunk_document(doc, target_chars=900)
    lists = [c for c in chunks if "- by card" in c.text]
    assert len(lists) == 1
    assert "- by card\n- by bank transfer\n  - from the balance\n- in cash" in lists[0].text


def test_long_list_is_cut_between_items() -> None:
    items = [Block("list_item", paragraph(i * 2, 2)) for i in range(30)]  # ~140 chars each
    chunks = chunk_document(doc_of(*items), target_chars=900, max_chars=1500)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 900
        assert all(line.startswith("- ") for line in chunk.text.split("\n"))
    assert sum(c.text.count("\n- ") + 1 for c in chunks) == 30


def test_big_table_is_split_by_rows_with_the_header_repeated() -> None:
    header = "Tour | Dates | Price | Free places"
    rows = [
        f"Tour {i} to the mountains | 1-{i % 28 + 1} July | {1000 + i} RUB | {i % 9}"
        for i in range(80)
    ]
    doc = doc_of(Block("table", "\n".join([header, *rows]), page=2))
    chunks = chunk_document(doc, target_chars=900, max_chars=1500)
    assert len(chunks) > 2
    seen: list[str] = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[0] == header
        assert len(chunk.text) <= 1500
        assert chunk.page == 2
        seen.extend(lines[1:])
    assert seen == rows


def test_small_table_is_one_unit() -> None:
    table = "A | B\n1 | 2"
    chunks = chunk_document(doc_of(Block("paragraph", "Prices:"), Block("table", table)))
    assert [c.text for c in chunks] == ["Prices:\n\nA | B\n1 | 2"]


def test_table_with_a_huge_row() -> None:
    header = "Question | Answer"
    row = "Why | " + paragraph(0, 40)
    chunks = chunk_document(doc_of(Block("table", f"{header}\n{row}")))
    assert len(chunks) > 1
    assert all(c.text.startswith(header + "\n") for c in chunks)
    assert all(len(c.text) <= 1500 for c in chunks)


def test_page_is_the_first_block_page() -> None:
    doc = doc_of(Block("paragraph", "p1", page=1), Block("paragraph", "p2", page=2))
    assert chunk_document(doc) == [Chunk(0, "p1\n\np2", (), 1)]


def test_random_documents_keep_the_invariants() -> None:
    rng = random.Random(7)
    words = ["delivery", "payment", "refund", "booking", "tour", "house", "guest", "date"]
    for _ in range(30):
        blocks: list[Block] = []
        for _ in range(rng.randint(1, 40)):
            kind = rng.choice(["heading", "paragraph", "paragraph", "list_item", "table", "qa"])
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 600)))
            if rng.random() < 0.5:
                text = re.sub(r"(\w+ \w+ \w+ \w+ \w+ \w+) ", r"\1. ", text)
            if kind == "heading":
                blocks.append(Block("heading", text[:60], level=rng.randint(1, 4)))
            elif kind == "table":
                rows = [" | ".join(text[j : j + 40].split()[:3]) or "x" for j in range(0, 400, 40)]
                blocks.append(Block("table", "\n".join(rows)))
            elif kind == "qa":
                q, a = text[:50], text[50:300] or "yes"
                blocks.append(Block("qa", format_qa(q, a), question=q, answer=a))
            else:
                blocks.append(Block(kind, text))  # type: ignore[arg-type]
        target = rng.choice([300, 600, 900])
        chunks = chunk_document(
            doc_of(*blocks), target_chars=target, max_chars=target + 400, overlap_chars=target // 6
        )
        assert [c.ordinal for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert chunk.text.strip() == chunk.text and chunk.text
            if "\n" not in chunk.text or not any(
                b.kind == "qa" and chunk.text == format_qa(b.question, b.answer) for b in blocks
            ):
                assert len(chunk.text) <= target + 400
        body = " ".join(c.text for c in chunks)
        for block in blocks:
            if block.kind != "heading":
                for word in block.text.replace("|", " ").split()[:50]:
                    assert word.rstrip(".") in body


def test_faq_chunk_format() -> None:
    chunk = faq_chunk("  How do I\n pay? ", "By card\nor by bank transfer. ")
    assert chunk == Chunk(0, "How do I pay?\nBy card\nor by bank transfer.", (), None)
    assert split_qa(chunk.text) == ("How do I pay?", "By card\nor by bank transfer.")
    with pytest.raises(ValueError):
        faq_chunk(" ", "\n")


def test_search_text_joins_title_path_and_text() -> None:
    chunk = Chunk(0, "Pay 30 percent.", ("Booking rules", "Prepayment"), None)
    assert chunk_search_text(chunk, "Tour handbook") == (
        "Tour handbook\nBooking rules > Prepayment\nPay 30 percent."
    )
    # a first heading equal to the title is not repeated
    assert chunk_search_text(chunk, "booking rules") == "booking rules\nPrepayment\nPay 30 percent."
    assert chunk_search_text(Chunk(0, "x", (), None), "") == "x"


@pytest.mark.parametrize(
    ("target", "maximum", "overlap"), [(0, 10, 0), (900, 800, 100), (900, 1500, 900)]
)
def test_bad_sizes(target: int, maximum: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_document(
            doc_of(Block("paragraph", "x")),
            target_chars=target,
            max_chars=maximum,
            overlap_chars=overlap,
        )


def test_parsed_markdown_end_to_end() -> None:
    md = "# Tours\n\n## Altai\n\n" + paragraph(0, 30) + "\n\n## FAQ\n\nQ: Pets?\nA: Small ones.\n"
    chunks = chunk_document(parse_document(md.encode(), filename="tours.md"))
    assert chunks[0].heading_path == ("Tours", "Altai")
    assert chunks[-1] == Chunk(len(chunks) - 1, "Pets?\nSmall ones.", ("Tours", "FAQ"), None)


def test_headings_without_content_are_kept_as_text() -> None:
    doc = doc_of(
        Block("heading", "Steps", level=1),
        Block("paragraph", "Follow these steps."),
        Block("heading", "1. Open the app", level=2),
        Block("heading", "2. Tap Pay", level=2),
        Block("heading", "Limits", level=1),
        Block("heading", "Daily", level=2),
        Block("paragraph", "100 per day."),
        Block("heading", "Last words", level=1),
    )
    assert [(c.heading_path, c.text) for c in chunk_document(doc)] == [
        (("Steps",), "Follow these steps.\n\n1. Open the app\n\n2. Tap Pay"),
        (("Limits", "Daily"), "100 per day."),
        ((), "Last words"),
    ]


def test_a_unit_joins_when_that_lands_nearer_the_target() -> None:
    half = "x" * 499 + "."
    chunks = chunk_document(doc_of(*[Block("paragraph", half)] * 3), target_chars=900)
    # 500 + 502 = 1002 is nearer to 900 than 500 is; 1504 would pass max_chars
    assert [len(c.text) for c in chunks] == [1002, 500]
