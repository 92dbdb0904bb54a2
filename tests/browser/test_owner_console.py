"""The owner's path through the console in Chromium (issue 14's "how it is tested"): the
owner signs in, switches the AI to the offline engine (and sees a bad temperature refused
on its field, nothing saved), uploads a PDF with a broken file beside it and watches the
PDF get indexed, asks the test box a question answered from it, creates a channel from the
type's schema (a Telegram one when the server has that type), copies the widget snippet,
invites an operator, and sees the analytics change after a conversation is resolved. An
operator gets 403 on every owner page. Screenshots of each page in both languages go to
``docs/screenshots/`` (the README links them) with ``FRONTLINE_UPDATE_SCREENSHOTS=1``."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server, console_context, sign_in

ROOT = Path(__file__).resolve().parents[2]
# the README's screenshots are refreshed with FRONTLINE_UPDATE_SCREENSHOTS=1; otherwise a run
# leaves its own under test-artifacts/ (the tracked files stay as they are)
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("FRONTLINE_UPDATE_SCREENSHOTS")
    else ROOT / "test-artifacts" / "screenshots"
)
PAGES = [
    "analytics",
    "ai",
    "knowledge",
    "channels",
    "team",
    "categories",
    "api-keys",
    "jobs",
    "ai-log",
    "audit",
]
FACT = "The Sunrise hostel offers free parking for 20 cars next to the lake pier."


def pdf_bytes() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text="Sunrise hostel: parking\n\n" + FACT)
    return bytes(pdf.output())


def offline_only(page: Page) -> None:
    """Leave the offline engine as the chain's one provider (not saved yet)."""
    while page.get_by_test_id("chain-remove").count():
        page.get_by_test_id("chain-remove").first.click()
    page.get_by_test_id("chain-add").click()
    page.locator('[name="provider_chain.0.kind"]').select_option("offline")
    page.locator('[name="provider_chain.0.model"]').fill("offline")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_the_owner_sets_up_and_watches_it_work(owner: Page, server: Server, tmp_path: Path) -> None:
    page = owner
    base = server.base
    expect(page.get_by_test_id("nav-settings")).to_be_visible()

    # --- AI: offline engine only; a bad temperature is refused on its field
    page.goto(f"{base}/console/settings/ai")
    form = page.get_by_test_id("form-ai")
    expect(form).to_be_visible()
    offline_only(page)
    page.get_by_test_id("field-temperature").fill("7")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("error-temperature")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("field-temperature")).not_to_have_value("7")
    offline_only(page)
    page.get_by_test_id("field-temperature").fill("0.2")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("ai-saved")).to_be_visible()
    expect(page.get_by_test_id("chain-entry")).to_have_count(1)

    # --- knowledge: a PDF and a broken file at once; each row says how it went
    pdf = tmp_path / "sunrise-parking.pdf"
    pdf.write_bytes(pdf_bytes())
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 this is not really a docx")
    page.goto(f"{base}/console/settings/knowledge")
    page.get_by_test_id("kb-file-input").set_input_files([str(pdf), str(broken)])
    pdf_row = page.locator('[data-testid="upload-row"][data-filename="sunrise-parking.pdf"]')
    bad_row = page.locator('[data-testid="upload-row"][data-filename="broken.docx"]')
    expect(pdf_row.get_by_test_id("upload-state")).to_have_text("Indexed", timeout=60_000)
    expect(bad_row).to_have_class(re.compile(r"\bfailed\b"), timeout=60_000)
    expect(bad_row.get_by_test_id("upload-state")).to_contain_text("Failed")
    doc = page.locator('[data-testid="doc-row"][data-filename="sunrise-parking.pdf"]')
    doc.get_by_test_id("doc-preview").click()
    expect(page.get_by_test_id("chunk").filter(has_text="free parking")).to_be_visible()
    shot(page, "knowledge-en")

    # --- the test box answers from the PDF
    page.goto(f"{base}/console/settings/ai")
    page.get_by_test_id("field-question").fill("Is there free parking at the Sunrise hostel?")
    page.get_by_test_id("ai-ask").click()
    expect(page.get_by_test_id("try-decision")).to_have_text("Full answer")
    expect(page.get_by_test_id("try-reply")).to_contain_text("20 cars")
    expect(page.get_by_test_id("try-sources")).to_contain_text("sunrise")
    shot(page, "ai-en")

    # --- channels: a form per type from its schema; the widget snippet copied
    page.goto(f"{base}/console/settings/channels")
    # every type the server knows is offered (Telegram and the rest once they exist);
    # an API channel is created here: its form is the callback URL from its schema
    expect(page.get_by_test_id("form-channel")).to_be_visible()
    expect(page.get_by_test_id("channel-row").first).to_be_visible()
    types = page.get_by_test_id("field-type").locator("option").all_inner_texts()
    assert {"Web chat", "E-mail", "API"} <= set(types), types
    kind = "api"
    page.get_by_test_id("field-type").select_option(kind)
    page.get_by_test_id("field-name").first.fill(f"New {kind}")
    page.locator('[name="callback_url"]').fill("not a url")
    page.get_by_test_id("channel-submit").click()
    # the refusal sits under its own field, not in one message on top of the form
    form = page.get_by_test_id("form-channel")
    expect(form.get_by_test_id("error-callback_url")).to_contain_text("URL")
    expect(form.locator('[name="callback_url"]')).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("form-error-channel")).to_be_hidden()
    page.locator('[name="callback_url"]').fill("")
    page.get_by_test_id("channel-submit").click()
    expect(page.get_by_test_id("channel-secret")).to_be_visible()
    expect(page.get_by_test_id("channel-row").filter(has_text=f"New {kind}")).to_be_visible()
    snippet = page.get_by_test_id("widget-snippet-code").first.inner_text()
    assert f'data-key="{server.widget_key}"' in snippet and "/widget.js" in snippet
    page.get_by_test_id("snippet-copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    shot(page, "channels-en")

    # --- team: invite an operator
    page.goto(f"{base}/console/settings/team")
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_test_id("field-email").fill(email)
    page.get_by_test_id("field-password").fill("a long first password")
    page.get_by_test_id("invite-submit").click()
    expect(page.get_by_test_id("invite-done")).to_be_visible()
    expect(page.locator(f'[data-testid="member-row"][data-email="{email}"]')).to_be_visible()

    # --- analytics change after a conversation is resolved
    page.goto(f"{base}/console/analytics")
    kpi = page.get_by_test_id("kpi-conversations")
    expect(kpi).to_have_text(re.compile(r"^\d+$"))
    before = int(kpi.inner_text())
    resolved_before = page.get_by_test_id("table-timeline").text_content()
    resolve_a_conversation(server)
    page.reload()
    expect(page.get_by_test_id("kpi-conversations")).to_have_text(str(before + 1))
    assert page.get_by_test_id("table-timeline").text_content() != resolved_before
    canvas = page.get_by_test_id("chart-timeline")
    assert page.evaluate("(c) => !!window.Chart.getChart(c)", canvas.element_handle())
    with page.expect_download() as download:
        page.get_by_test_id("csv-summary").click()
    assert download.value.suggested_filename == "analytics-summary.csv"

    # --- screenshots of every page in both languages
    for lang in ("en", "ru"):
        for name in PAGES:
            url = (
                f"{base}/console/analytics"
                if name == "analytics"
                else f"{base}/console/settings/{name}"
            )
            page.goto(f"{url}?lang={lang}")
            expect(page.get_by_test_id(f"page-{name}")).to_be_visible()
            page.wait_for_load_state("networkidle")
            shot(page, f"{name}-{lang}")


def resolve_a_conversation(server: Server) -> None:
    """A customer writes on the demo API channel; an operator resolves the conversation."""
    said = server.customer_says("Hello, is the Baikal tour available in winter?")
    token = server.token("operator")
    conversation_id = said["conversation_id"]
    r = server.api("PATCH", f"/conversations/{conversation_id}", token, json={"status": "resolved"})
    assert r.status_code == 200, r.text


def test_an_operator_gets_403_on_every_owner_page(browser: Browser, server: Server) -> None:
    ctx = console_context(browser, server)
    try:
        page = ctx.new_page()
        sign_in(page, server, "operator")
        expect(page.get_by_test_id("nav-settings")).to_have_count(0)
        for name in [*PAGES, "platform"]:
            url = (
                f"/console/{name}"
                if name in ("analytics", "platform")
                else f"/console/settings/{name}"
            )
            response = page.goto(server.base + url)
            assert response is not None and response.status == 403, url
            expect(page.get_by_test_id("error-title")).to_have_text("Access denied")
    finally:
        ctx.close()
