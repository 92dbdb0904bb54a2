"""The demo page's own example questions, asked in the widget as a visitor would: each is
answered by the offline AI from the demo knowledge base (not handed to a person), with the
facts the demo's QA set expects and the source named.

The questions are read from the page itself (the ones it quotes in «...» or "..."), so a
changed example is tested as soon as it is on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext

from frontline.knowledge.evaluate_answers import load_qa
from tests.browser.conftest import Server
from tests.browser.widget_kit import (
    ROOT,
    new_context,
    open_chat,
    open_demo,
    send,
    track_ready,
    wait_for_text,
)

_QUOTED = re.compile(r"«([^»]+\?)»|\"([^\"]+\?)\"")


def demo_questions(server: Server) -> list[str]:
    page = httpx.get(f"{server.base}/demo", timeout=10).text
    return [a or b for a, b in _QUOTED.findall(page)]


@pytest.fixture
def visitor(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser, "ru-RU")
    yield ctx
    ctx.close()


def test_the_demo_pages_example_questions_are_answered(
    browser: Browser, server: Server, artifacts: Path
) -> None:
    questions = demo_questions(server)
    assert questions, "the demo page quotes no example question"
    assert any(re.search("[а-яё]", q, re.I) for q in questions)  # both languages
    assert any(not re.search("[а-яё]", q, re.I) for q in questions)
    expected = {item.q: item.expect for item in load_qa()}
    for number, question in enumerate(questions):
        ctx = new_context(browser, "ru-RU" if re.search("[а-яё]", question, re.I) else "en-US")
        try:
            page = ctx.new_page()
            track_ready(page)
            open_demo(page, server)
            open_chat(page)
            send(page, question)
            english = not re.search("[а-яё]", question, re.I)
            wait_for_text(page, ".log .msg.ai", "Source:" if english else "Источник:")
            answer = page.evaluate(
                f"() => [...{ROOT}.querySelectorAll('.log .msg.ai .body')].at(-1).textContent"
            )
            page.screenshot(path=str(artifacts / f"demo-answer-{number}.png"))
            flat = " ".join(answer.replace("\u00a0", " ").split())
            for fact in expected.get(question, ()):
                assert fact in flat, (question, answer)
            assert "сотрудник" not in flat and "member of our team" not in flat, answer
        finally:
            ctx.close()
