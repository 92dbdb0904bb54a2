"""Files in a real browser: a visitor attaches an image and a PDF in the widget, sees the
image as a thumbnail (loaded through its signed link) and the PDF as a link; the operator
sees the same files in the console's conversation view, with the conversation's channel."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.attachments.conftest import PDF, png
from tests.browser.conftest import Server
from tests.browser.test_handoff_e2e import console_login

ROOT = "document.getElementById('frontline-widget').shadowRoot"
TIMEOUT = 15_000


def _context(browser: Browser, locale: str = "en-US") -> BrowserContext:
    ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 860})
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
    ctx = _context(browser, "ru-RU")
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def test_visitor_sends_files_and_both_sides_see_them(
    visitor: Page, operator: Page, server: Server, artifacts: Path, tmp_path: Path
) -> None:
    errors: list[str] = []
    visitor.on("pageerror", lambda e: errors.append(str(e)))
    image, pdf = tmp_path / "flat.png", tmp_path / "договор.pdf"
    image.write_bytes(png(24, 16))
    pdf.write_bytes(PDF)

    received: list[dict[str, object]] = []
    visitor.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda payload: received.append(json.loads(payload))),
    )
    visitor.goto(f"{server.base}/demo")
    visitor.locator(".launcher").click()
    expect(visitor.locator(".panel")).to_be_visible()
    expect(visitor.locator(".clip")).to_have_attribute("aria-label", "Attach a file")
    visitor.locator(".composer input[type=file]").set_input_files([str(image), str(pdf)])
    chips = visitor.locator(".tray .chip")
    expect(chips).to_have_count(2)
    expect(chips.first).to_contain_text("flat.png")
    box = visitor.locator("#fl-input")
    box.fill("Вот фото и договор")
    box.press("Enter")
    expect(chips).to_have_count(0)

    mine = visitor.locator(".log .msg.contact[data-id]").filter(has_text="Вот фото и договор")
    expect(mine).to_have_count(1)
    thumb = mine.locator("img.thumb")
    expect(thumb).to_have_attribute("alt", "flat.png")
    expect(thumb).to_have_attribute("src", re.compile(r"/api/v1/widget/attachments/\d+\?key="))
    # the image really loaded through its signed link
    visitor.wait_for_function(
        f"() => {{ const i = {ROOT}.querySelector('.log img.thumb');"
        " return i && i.complete && i.naturalWidth === 24; }"
    )
    link = mine.locator("a.file")
    expect(link).to_contain_text("договор.pdf")
    href = link.get_attribute("href") or ""
    r = visitor.request.get(href)
    assert r.status == 200 and r.body() == PDF
    assert r.headers["content-disposition"].startswith("attachment;")
    visitor.screenshot(path=str(artifacts / "widget-attachments.png"))

    # the operator's console shows the same files in the conversation view
    conversation_id = next(
        f["data"]["conversation_id"] for f in received if f.get("type") == "message.ack"
    )
    console_login(operator, server)
    operator.get_by_test_id("tab-all").click()
    row = operator.locator(f"[data-testid=conv-row][data-id='{conversation_id}']")
    expect(row).to_be_visible()
    # the conversation's channel: its type (localized) and its name
    expect(row.get_by_test_id("row-channel")).to_contain_text("Веб-чат")
    row.click()
    expect(operator).to_have_url(re.compile(rf"/console/conversations/{conversation_id}$"))
    expect(operator.get_by_test_id("conv-channel")).to_contain_text("Веб-чат")
    message = operator.locator("[data-testid=messages] li.msg-contact").filter(
        has_text="Вот фото и договор"
    )
    expect(message.locator("img.thumb")).to_have_attribute("alt", "flat.png")
    operator.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=messages] img.thumb');"
        " return i && i.complete && i.naturalWidth === 24; }"
    )
    expect(message.locator("a.file")).to_contain_text("договор.pdf")
    operator.screenshot(path=str(artifacts / "console-attachments.png"))
    assert errors == []
