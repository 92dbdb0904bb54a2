"""The copilot end to end, in two browsers: a visitor asks the demo's AI and then asks for a
person; the operator opens the handed-off conversation in the console, sees the summary the
copilot made at the handoff, asks for a suggestion (streamed from a fake OpenAI-compatible
model speaking the real protocol), inserts it, rewrites it and undoes that, writes in
Russian and translates that into the customer's English, and sends; the visitor sees the
reply in the widget.
Screenshots go to ``test-artifacts/copilot-*.png``."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ai.fakes import (
    OPENAI_PATH,
    FakeLLMServer,
    Reply,
    openai_completion,
    openai_stream,
    serve,
)
from tests.browser.conftest import Server
from tests.browser.test_handoff_e2e import (
    _context,
    console_login,
    watch_errors,
)
from tests.browser.widget_kit import Frames, open_chat, open_demo, send, track_ready, wait_for_text

QUESTION = "How much is the Baikal tour?"
SUGGESTION = "The Baikal tour costs 45,000 rubles per person [K1]. Shall I book it for you?"
SHOWN = "The Baikal tour costs 45,000 rubles per person. Shall I book it for you?"
FORMAL = "The price of the Baikal tour is 45,000 rubles per person. May we book it for you?"
# the operator's own words, in Russian, translated to the customer's English
DRAFT = "Да, в феврале ещё есть места, могу забронировать на вас."
TRANSLATED = "Yes, there are still places in February; I can book them for you."


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


@contextlib.contextmanager
def copilot_model(server: Server, llm: FakeLLMServer) -> Iterator[None]:
    """The demo workspace's chain gets the fake model (its first-line AI too, so this is
    set after the visitor's AI turn); the chain is put back afterwards."""
    admin = server.token("admin")
    before = server.api("GET", "/ai/settings", admin).json()["provider_chain"]
    chain = [
        {
            "kind": "openai_compatible",
            "model": "m-1",
            "config": {"base_url": f"{llm.base}/openai/v1"},
        }
    ]
    r = server.api("PUT", "/ai/settings", admin, json={"provider_chain": chain})
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        kept = [{k: e[k] for k in ("kind", "model", "config") if k in e} for e in before]
        server.api("PUT", "/ai/settings", admin, json={"provider_chain": kept})


def stored_summary(server: Server, cid: int) -> dict[str, Any]:
    """The handoff summary once the worker has stored it (it runs in the server's worker)."""
    token = server.token("operator")
    deadline = time.monotonic() + 60
    while True:
        found = server.api("GET", f"/conversations/{cid}", token).json()["meta"]
        summary: dict[str, Any] = found.get("handoff_summary") or {}
        if summary.get("summary") or time.monotonic() > deadline:
            assert summary.get("summary"), f"no handoff summary stored: {found}"
            return summary
        time.sleep(0.2)


def said(text: str) -> Reply:
    return Reply(json=openai_completion(text, model="m-1"))


def test_operator_uses_the_copilot_and_the_customer_gets_the_reply(
    browser: Browser, server: Server, llm: FakeLLMServer, artifacts: Path
) -> None:
    visitor_ctx, operator_ctx = _context(browser), _context(browser)
    visitor, operator = visitor_ctx.new_page(), operator_ctx.new_page()
    errors: list[str] = []
    watch_errors(visitor, "visitor", errors)
    watch_errors(operator, "operator", errors)
    try:
        _flow(visitor, operator, server, llm, artifacts)
    except BaseException:
        for who, page in (("visitor", visitor), ("operator", operator)):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(artifacts / f"copilot-failure-{who}.png"))
        raise
    finally:
        visitor_ctx.close()
        operator_ctx.close()
    assert errors == []


def _flow(
    visitor: Page, operator: Page, server: Server, llm: FakeLLMServer, artifacts: Path
) -> None:
    console_login(operator, server)
    track_ready(visitor)
    frames = Frames(visitor)
    open_demo(visitor, server)
    open_chat(visitor)
    send(visitor, QUESTION)
    wait_for_text(visitor, ".log .msg.ai[data-id]", "45,000")
    visitor.locator(".human").click()
    expect(visitor.locator(".banner")).to_have_text(re.compile("Waiting for an operator"))
    cid = frames.conversation_id()

    # the summary was made at the handoff (by the demo's offline engine) and stored
    summary = stored_summary(server, cid)
    assert "Baikal" in summary["summary"] and summary["provider"] == "offline"

    with copilot_model(server, llm):
        parts = [SUGGESTION[i : i + 12] for i in range(0, len(SUGGESTION), 12)]
        llm.script(
            OPENAI_PATH,
            Reply(
                lines=openai_stream(parts, model="m-1"),
                content_type="text/event-stream",
                line_delay=0.05,
            ),
            said(FORMAL),
            said(TRANSLATED),
        )
        # the handed-off conversation opens with the stored summary (no model is asked)
        operator.locator(f"[data-testid=conv-row][data-id='{cid}']").click()
        expect(operator.get_by_test_id("conversation")).to_be_visible()
        expect(operator.get_by_test_id("copilot-summary")).to_have_text(summary["summary"])
        operator.get_by_test_id("accept").click()
        expect(operator.get_by_test_id("conv-status")).to_have_text("Open")

        # a suggestion, streamed, with the knowledge passage it used
        operator.get_by_test_id("copilot-suggest").click()
        expect(operator.get_by_test_id("copilot-suggestion")).to_have_text(SHOWN)
        passages = operator.get_by_test_id("copilot-passages").locator("li")
        expect(passages).to_have_count(1)
        expect(passages.first).to_contain_text("[K1]")
        operator.screenshot(path=str(artifacts / "copilot-01-suggestion.png"))
        box = operator.get_by_test_id("reply-text")
        operator.get_by_test_id("copilot-insert").click()
        expect(box).to_have_value(SHOWN)

        # rewrite (more formal), undo; the operator writes in Russian and translates it
        operator.get_by_test_id("copilot-formal").click()
        expect(box).to_have_value(FORMAL)
        operator.get_by_test_id("copilot-undo").click()
        expect(box).to_have_value(SHOWN)
        box.fill(DRAFT)
        operator.get_by_test_id("copilot-translate").click()
        expect(box).to_have_value(TRANSLATED)
        expect(operator.get_by_test_id("copilot-notice")).to_contain_text("en")
        operator.screenshot(path=str(artifacts / "copilot-02-translated.png"))

        # the model's key stops working: the operator is told plainly, the draft stays
        llm.script(OPENAI_PATH, Reply(status=401, json={"error": {"message": "bad key"}}))
        operator.get_by_test_id("copilot-shorter").click()
        expect(operator.get_by_test_id("copilot-notice")).to_contain_text(
            "Rewriting and translating need a language model"
        )
        expect(box).to_have_value(TRANSLATED)

        # what the model was asked, in order: suggestion, rewrite, translation, rewrite
        asked = [r.json() for r in llm.requests_to(OPENAI_PATH)]
        assert [a.get("stream", False) for a in asked] == [True, False, False, False]
        assert "formal" in asked[1]["messages"][0]["content"]
        assert "into English" in asked[2]["messages"][0]["content"]

    # the operator sends; the customer sees it in the widget
    operator.get_by_test_id("reply-send").click()
    expect(box).to_have_value("")
    wait_for_text(visitor, ".log .msg.operator[data-id]", TRANSLATED)
    visitor.screenshot(path=str(artifacts / "copilot-03-visitor.png"))
    token = server.token("operator")
    detail = server.api("GET", f"/conversations/{cid}", token).json()
    public = [(m["sender_type"], m["text"]) for m in detail["messages"] if not m["is_internal"]]
    assert ("operator", TRANSLATED) in public
    # the copilot never wrote to the customer itself
    assert not any(text in (SHOWN, FORMAL, DRAFT) for _kind, text in public)
