"""End to end, in two browsers: a visitor on the demo page and an operator in the console.

The visitor asks the web chat widget a question, gets the offline AI's answer from the demo
knowledge, asks for a person; the operator (logged in to the console in a second browser
context, so online) sees the request arrive live, opens it, accepts, replies; the visitor
answers back; the operator resolves and the visitor rates the conversation. Every step is
checked on the screen of both sides, the end state through the REST API. Screenshots of the
key steps go to ``test-artifacts/e2e-*.png`` (and ``e2e-failure-*.png`` when it fails).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.browser.conftest import Server
from tests.browser.widget_kit import (
    Frames,
    open_chat,
    open_demo,
    send,
    track_ready,
    wait_for_text,
)

TIMEOUT = 15_000  # each step; the machine may be slow and busy
QUESTION = "Сколько стоит тур на Байкал?"
REPLY = "Здравствуйте! Меня зовут Demo Operator, помогу с бронированием тура на Байкал."
ANSWER = "Спасибо! Хочу поехать в феврале вдвоём."
COMMENT = "Быстро и по делу"


def _context(browser: Browser) -> BrowserContext:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(TIMEOUT)
    return ctx


@pytest.fixture
def visitor(browser: Browser) -> Iterator[Page]:
    ctx = _context(browser)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def operator(browser: Browser) -> Iterator[Page]:
    ctx = _context(browser)  # a separate context: its own cookies and storage
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def console_login(page: Page, server: Server) -> None:
    """Log in with the demo operator's credentials; land on the inbox, connected live."""
    page.goto(f"{server.base}/console/login")
    page.get_by_test_id("login-email").fill(server.info["operator_email"])
    page.get_by_test_id("login-password").fill(server.info["operator_password"])
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"/console/?$"))
    expect(page.get_by_test_id("who")).to_contain_text("Demo Operator")
    # the console's socket is up: the operator counts as online
    expect(page.get_by_test_id("connection")).to_have_class(re.compile(r"\bonline\b"))
    expect(page.get_by_test_id("tab-pending")).to_have_attribute("aria-selected", "true")


def watch_errors(page: Page, who: str, errors: list[str]) -> None:
    """Collect the page's uncaught JavaScript errors."""
    page.on("pageerror", lambda error: errors.append(f"{who}: {error}"))


def console_message(page: Page, kind: str, text: str) -> Locator:
    """A message of the open conversation in the console (``kind``: its sender type)."""
    return page.locator(f"[data-testid=messages] li.msg-{kind}").filter(has_text=text)


def test_visitor_asks_ai_then_an_operator_takes_over_resolves_and_is_rated(
    visitor: Page, operator: Page, server: Server, artifacts: Path
) -> None:
    def shot(name: str, page: Page) -> None:
        page.screenshot(path=str(artifacts / f"e2e-{name}.png"))

    for stale in artifacts.glob("e2e-failure-*.png"):  # an earlier run's
        stale.unlink()
    errors: list[str] = []
    watch_errors(visitor, "visitor", errors)
    watch_errors(operator, "operator", errors)
    try:
        _the_flow(visitor, operator, server, shot)
    except BaseException:
        for who, page in (("visitor", visitor), ("operator", operator)):
            # the original failure matters, not a failed screenshot
            with contextlib.suppress(Exception):
                page.screenshot(path=str(artifacts / f"e2e-failure-{who}.png"))
        raise
    assert errors == []


def _the_flow(
    visitor: Page, operator: Page, server: Server, shot: Callable[[str, Page], None]
) -> None:
    # 1. the operator logs in and waits on the inbox (online, the Pending tab)
    console_login(operator, server)
    operator.evaluate("() => { window.__sameDocument = true; }")  # gone if it reloads
    badge = operator.get_by_test_id("handoff-badge")
    expect(badge).to_be_hidden()
    shot("01-operator-inbox", operator)

    # 2. the visitor asks the AI; it answers from the demo knowledge
    track_ready(visitor)
    frames = Frames(visitor)
    open_demo(visitor, server)
    open_chat(visitor)
    hellos = [f["data"] for f in frames.received if f["type"] == "hello"]
    assert hellos and hellos[-1]["operators_online"] is True, hellos
    human = visitor.locator(".human")
    expect(human).to_have_text("Talk to a person")
    send(visitor, QUESTION)
    wait_for_text(visitor, ".log .msg.contact[data-id]", QUESTION)
    wait_for_text(visitor, ".log .msg.ai[data-id]", "45 000")
    conversation_id = frames.conversation_id()
    expect(visitor.locator(".banner")).to_be_hidden()  # still with the AI
    shot("02-visitor-ai-answer", visitor)

    # 3. the visitor asks for a person: the waiting banner; operators are online, so no
    #    e-mail form
    human.click()
    banner = visitor.locator(".banner")
    expect(banner).to_have_text(re.compile("Waiting for an operator"))
    expect(human).to_be_hidden()
    expect(visitor.locator(".email")).to_be_hidden()
    notice = visitor.locator(".log .msg.system[data-id]")
    expect(notice).to_have_text(re.compile("скоро ответит|will answer here shortly"))
    expect(notice).not_to_have_text(re.compile("нет операторов|No operator is online"))
    shot("03-visitor-waiting", visitor)

    # 4. the request reaches the console live (no reload): the badge and the Pending tab
    expect(badge).to_be_visible()
    expect(operator.get_by_test_id("handoff-count")).to_have_text("1")
    expect(operator).to_have_title(re.compile(r"^\(1\) "))
    row = operator.locator(f"[data-testid=conv-row][data-id='{conversation_id}']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "pending")
    expect(row).to_contain_text("Waiting for an operator")
    assert operator.evaluate("() => window.__sameDocument") is True  # live, not reloaded
    shot("04-operator-handoff-arrived", operator)

    row.click()
    expect(operator).to_have_url(re.compile(rf"/console/conversations/{conversation_id}$"))
    expect(operator.get_by_test_id("conversation")).to_be_visible()
    expect(badge).to_be_hidden()  # seen
    expect(operator.get_by_test_id("conv-status")).to_have_text("Waiting for an operator")
    # the history: the visitor's question and the AI's answer
    expect(console_message(operator, "contact", QUESTION)).to_have_count(1)
    expect(console_message(operator, "ai", "45 000")).not_to_have_count(0)
    accept = operator.get_by_test_id("accept")
    expect(accept).to_be_visible()
    shot("05-operator-conversation", operator)

    accept.click()
    expect(operator.get_by_test_id("conv-assignee")).to_have_text("Demo Operator")
    expect(operator.get_by_test_id("conv-status")).to_have_text("Open")
    expect(accept).to_be_hidden()
    expect(banner).to_have_text(re.compile("An operator has joined"))
    shot("06-visitor-operator-joined", visitor)

    # 5. the operator replies; the visitor sees it, under the operator's name; the visitor
    #    answers and the operator sees that live
    box = operator.get_by_test_id("reply-text")
    box.fill(REPLY)
    operator.get_by_test_id("reply-send").click()
    expect(box).to_have_value("")
    sent = console_message(operator, "operator", REPLY)
    expect(sent).to_have_count(1)
    expect(sent.locator(".delivery")).to_have_text("sent")  # delivered, and shown so
    expect(console_message(operator, "operator", REPLY).locator(".delivery")).to_have_text("sent")
    wait_for_text(visitor, ".log .msg.operator[data-id]", REPLY)
    reply = visitor.locator(".log .msg.operator[data-id]").filter(has_text=REPLY)
    expect(reply).to_have_count(1)
    expect(reply.locator(".who")).to_have_text("Demo Operator")
    shot("07-visitor-operator-reply", visitor)

    send(visitor, ANSWER)
    wait_for_text(visitor, ".log .msg.contact[data-id]", ANSWER)
    expect(console_message(operator, "contact", ANSWER)).to_have_count(1)
    shot("08-operator-visitor-answer", operator)

    # 6. the operator resolves; the visitor rates 5 stars with a comment
    resolve = operator.get_by_test_id("resolve")
    resolve.click()
    expect(operator.get_by_test_id("conv-status")).to_have_text("Resolved")
    expect(resolve).to_be_disabled()
    shot("09-operator-resolved", operator)

    expect(banner).to_have_text(re.compile("resolved"))
    rating = visitor.locator(".rating")
    expect(rating).to_be_visible()
    expect(rating).to_contain_text("How would you rate the conversation?")
    submit = rating.locator("button[type=submit]")
    expect(submit).to_be_disabled()
    stars = rating.locator(".stars button")
    expect(stars).to_have_count(5)
    stars.nth(4).click()
    expect(stars.nth(4)).to_have_attribute("aria-pressed", "true")
    expect(rating.locator(".stars button.on")).to_have_count(5)
    rating.locator("textarea").fill(COMMENT)
    expect(submit).to_be_enabled()
    shot("10-visitor-rating", visitor)
    submit.click()
    expect(rating.get_by_text("Thank you for your rating!")).to_be_visible()
    expect(rating.locator(".stars")).to_be_hidden()
    shot("11-visitor-rated", visitor)

    # the end state, as the REST API has it
    token = server.token("operator")
    me = server.api("GET", "/me", token).json()
    r = server.api("GET", f"/conversations/{conversation_id}", token)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["status"] == "resolved"
    assert detail["assignee_id"] == me["user_id"]
    assert detail["csat_rating"] == 5
    assert detail["csat_comment"] == COMMENT
    public = [(m["sender_type"], m["text"]) for m in detail["messages"] if not m["is_internal"]]
    for message in (("contact", QUESTION), ("operator", REPLY), ("contact", ANSWER)):
        assert public.count(message) == 1, public
    assert any(kind == "ai" and "45 000" in text for kind, text in public), public
