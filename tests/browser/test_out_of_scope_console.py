"""The owner's out-of-scope examples in the console's AI settings, in Chromium: the field is
there in both languages, what is saved comes back cleaned after a reload, and the test box
shows a question like an example handed to a person, where before it was answered with a
neighbouring passage (the price of the regular tour for a corporate one)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server

TIMEOUT = 20_000
QUESTION = "Сколько стоит корпоративный тур на Байкал?"
EXAMPLE = "Есть ли корпоративные туры?"


@pytest.fixture
def owner(browser: Browser, server: Server) -> Iterator[Page]:
    ctx = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.base}/console/login?lang=ru")
    page.get_by_test_id("login-email").fill(server.info["admin_email"])
    page.get_by_test_id("login-password").fill(server.info["admin_password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/console/?$"))
    try:
        yield page
    finally:
        ctx.close()
    assert not errors, errors


def ask(page: Page, question: str) -> None:
    page.get_by_test_id("field-question").fill(question)
    page.get_by_test_id("ai-ask").click()


def test_the_owner_sets_examples_and_the_test_box_hands_such_questions_off(
    owner: Page, server: Server
) -> None:
    page = owner
    page.goto(f"{server.base}/console/settings/ai?lang=en")
    expect(page.get_by_text("Questions outside our business (examples)")).to_be_visible()
    page.goto(f"{server.base}/console/settings/ai?lang=ru")
    expect(page.get_by_text("Вопросы вне нашей работы (примеры)")).to_be_visible()
    field = page.get_by_test_id("field-out_of_scope_examples")
    expect(field).to_have_value("")

    ask(page, QUESTION)  # without examples: the regular tour's price answers
    expect(page.get_by_test_id("try-decision")).to_have_text("Полный ответ")
    expect(page.get_by_test_id("try-reply")).to_contain_text("45 000")

    field.fill(f"  {EXAMPLE}\n\n{EXAMPLE}\nCan I pay in cash?")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("ai-saved")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("field-out_of_scope_examples")).to_have_value(
        f"{EXAMPLE}\nCan I pay in cash?"
    )

    ask(page, QUESTION)
    expect(page.get_by_test_id("try-decision")).to_have_text("Передать оператору")
    expect(page.get_by_test_id("ai-test-result")).to_contain_text(EXAMPLE)
    ask(page, "Сколько стоит тур на Байкал?")  # the knowledge still answers its own questions
    expect(page.get_by_test_id("try-decision")).to_have_text("Полный ответ")

    page.get_by_test_id("field-out_of_scope_examples").fill("")  # as the module found it
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("ai-saved")).to_be_visible()
