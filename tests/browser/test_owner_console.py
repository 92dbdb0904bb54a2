"""The owner's path through the console in Chromium (issue 14's "how it is tested"), as one
test: the owner signs in, switches the AI to the offline engine (a temperature of 7 and an
unknown provider are refused on their fields, nothing saved), drops a PDF onto the knowledge
page beside four bad files (unsupported, oversized, an empty PDF, a corrupt DOCX: each says
why on its own row while the PDF gets indexed), asks the test box a question answered from
the PDF (sources, decision, confidence on the threshold's 0..1 scale), creates a Telegram
channel against the tests' fake Bot API, copies the widget snippet, invites an operator,
and sees the analytics charts change after a conversation is resolved (every report has a
chart, its table and a CSV export; an end before the start is refused under its field).
Screenshots of every owner page and the platform page in both languages go to
``docs/screenshots/`` (the README links them) with ``FRONTLINE_UPDATE_SCREENSHOTS=1``.

Beside it: the knowledge page's own tools (search, chunks, re-index one, delete, FAQ inline),
the refusals in Russian, the platform page (usage with storage, a new workspace, suspend,
a plan limit refused with its message), and an operator's 403 on every owner page."""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from frontline.console.admin import SETTINGS_PAGES
from tests.browser.botkit import ThreadedBot
from tests.browser.conftest import Server, console_context, sign_in
from tests.channels.telegram.fakebot import BOT_TOKEN

ROOT = Path(__file__).resolve().parents[2]
# the README's screenshots are refreshed with FRONTLINE_UPDATE_SCREENSHOTS=1; otherwise a run
# leaves its own under test-artifacts/ (the tracked files stay as they are)
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("FRONTLINE_UPDATE_SCREENSHOTS")
    else ROOT / "test-artifacts" / "screenshots"
)
PAGES = ["analytics", *SETTINGS_PAGES]
# small, so an oversized file is quick to make (the widget's own tests need no bigger files)
MAX_FILE = 256 * 1024
SERVER_ENV = {"FRONTLINE_KNOWLEDGE_MAX_FILE_BYTES": str(MAX_FILE)}
FACT = "The Sunrise hostel offers free parking for 20 cars next to the lake pier."
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
# every report of the analytics page: a chart, the table behind it, a CSV export
REPORTS = {
    "timeline": "timeline",
    "timeline-csat": "timeline",
    "summary-times": "summary",
    "volume-hour": "volume",
    "volume-weekday": "volume",
    "handoff-reasons": "handoff-reasons",
    "categories": "categories",
    "bookings": "bookings",
    "unanswered": "unanswered",
    "usage": "usage",
}


def pdf_bytes(text: str | None = FACT) -> bytes:
    """A one-page PDF saying ``text`` (``None``: an empty page, no text at all)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if text is not None:
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 8, text="Sunrise hostel: parking\n\n" + text)
    return bytes(pdf.output())


def drop_files(page: Page, files: dict[str, bytes]) -> None:
    """Drop ``files`` (name -> content) onto the knowledge page's drop zone at once, as a
    drag from the desktop does (a DataTransfer holding File objects)."""
    payload = {name: base64.b64encode(data).decode() for name, data in files.items()}
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of Object.entries(files)) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name));
            }
            return dt;
        }""",
        payload,
    )
    page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": transfer})


def upload_row(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="upload-row"][data-filename="{name}"]')


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


def page_url(base: str, name: str) -> str:
    return f"{base}/console/analytics" if name == "analytics" else f"{base}/console/settings/{name}"


@pytest.fixture(scope="module")
def bot() -> Iterator[ThreadedBot]:
    b = ThreadedBot(BOT_TOKEN)
    yield b
    b.close()


def test_the_owner_sets_up_and_watches_it_work(
    owner: Page, server: Server, bot: ThreadedBot
) -> None:
    page = owner
    base = server.base
    expect(page.get_by_test_id("nav-settings")).to_be_visible()

    # --- AI: offline engine only; a bad temperature and an unknown provider are refused on
    # their fields, and nothing is saved
    page.goto(f"{base}/console/settings/ai")
    expect(page.get_by_test_id("form-ai")).to_be_visible()
    kinds_before = [
        page.locator(f'[name="provider_chain.{i}.kind"]').input_value()
        for i in range(page.get_by_test_id("chain-entry").count())
    ]
    temperature_before = page.get_by_test_id("field-temperature").input_value()
    offline_only(page)
    page.get_by_test_id("field-temperature").fill("7")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("error-temperature")).to_have_text("At most 2.")
    expect(page.get_by_test_id("field-temperature")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("field-temperature").fill("1.3")
    # a provider this server does not know (as a hand-made request would send it)
    page.locator('[name="provider_chain.0.kind"]').evaluate(
        "(s) => { s.add(new Option('skynet', 'skynet')); s.value = 'skynet'; }"
    )
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("error-provider_chain")).to_contain_text("Allowed values:")
    expect(page.get_by_test_id("error-provider_chain")).to_contain_text("'offline'")
    expect(page.get_by_test_id("ai-saved")).to_be_hidden()
    page.reload()
    expect(page.get_by_test_id("field-temperature")).to_have_value(temperature_before)
    assert [
        page.locator(f'[name="provider_chain.{i}.kind"]').input_value()
        for i in range(page.get_by_test_id("chain-entry").count())
    ] == kinds_before
    offline_only(page)
    page.get_by_test_id("field-temperature").fill("0.2")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("ai-saved")).to_be_visible()
    expect(page.get_by_test_id("chain-entry")).to_have_count(1)
    expect(page.locator('[name="provider_chain.0.kind"]')).to_have_value("offline")

    # --- knowledge: a PDF and four bad files dropped at once; each row says how it went
    page.goto(f"{base}/console/settings/knowledge")
    drop_files(
        page,
        {
            "sunrise-parking.pdf": pdf_bytes(),
            "broken.docx": b"PK\x03\x04 this is not really a docx",
            "scan.pdf": pdf_bytes(None),
            "photo.png": PNG,
            "huge.txt": b"All about tours. " * (MAX_FILE // 16),
        },
    )
    expect(page.get_by_test_id("upload-row")).to_have_count(5)
    for name in ("sunrise-parking.pdf", "broken.docx", "scan.pdf", "photo.png", "huge.txt"):
        expect(upload_row(page, name).locator("progress")).to_have_count(1)
    pdf_row = upload_row(page, "sunrise-parking.pdf")
    expect(pdf_row.get_by_test_id("upload-state")).to_have_text("Indexed", timeout=60_000)
    expect(pdf_row.locator("progress")).to_have_js_property("value", 100)
    why = {
        "broken.docx": "Failed: The file is damaged and cannot be read.",
        "scan.pdf": "Failed: no text found in the document",
        "photo.png": "Failed: This file type is not supported",
        "huge.txt": "Failed: The file is too large.",
    }
    for name, text in why.items():
        row = upload_row(page, name)
        expect(row).to_have_class(re.compile(r"\bfailed\b"), timeout=60_000)
        expect(row.get_by_test_id("upload-state")).to_contain_text(text)
    doc = page.locator('[data-testid="doc-row"][data-filename="sunrise-parking.pdf"]')
    doc.get_by_test_id("doc-preview").click()
    expect(page.get_by_test_id("chunk").filter(has_text="free parking")).to_be_visible()
    failed = page.locator('[data-testid="doc-row"][data-filename="scan.pdf"]')
    expect(failed.get_by_test_id("doc-status")).to_contain_text("no text found")

    # --- the test box answers from the PDF: decision, sources, confidence (0..1)
    page.goto(f"{base}/console/settings/ai")
    page.get_by_test_id("field-question").fill("Is there free parking at the Sunrise hostel?")
    page.get_by_test_id("ai-ask").click()
    expect(page.get_by_test_id("try-decision")).to_have_text("Full answer")
    expect(page.get_by_test_id("try-reply")).to_contain_text("20 cars")
    expect(page.get_by_test_id("try-sources")).to_contain_text("sunrise")
    confidence = page.get_by_test_id("try-confidence")
    expect(confidence).to_have_text(re.compile(r"^(0\.\d\d|1\.00) \(0–1\)$"))
    assert float(confidence.inner_text().split()[0]) > 0

    # --- channels: a Telegram channel against the fake Bot API, the widget snippet copied
    assert bot.api is not None
    page.goto(f"{base}/console/settings/channels")
    f = page.get_by_test_id("form-channel")
    # the types come from GET /channel-types: wait for them
    expect(f.get_by_test_id("field-type").locator('option[value="telegram"]')).to_have_count(1)
    types = f.get_by_test_id("field-type").locator("option").all_inner_texts()
    assert {"Web chat", "E-mail", "API", "Telegram"} <= set(types), types
    f.get_by_test_id("field-type").select_option("telegram")
    name = f"Bot {uuid.uuid4().hex[:6]}"
    f.get_by_test_id("field-name").fill(name)
    f.get_by_test_id("field-bot_token").fill(BOT_TOKEN)
    f.get_by_test_id("field-api_base_url").fill(bot.api.base)
    page.get_by_test_id("channel-submit").click()
    expect(page.get_by_test_id("channel-secret")).to_be_visible()
    expect(page.get_by_test_id("channel-row").filter(has_text=name)).to_be_visible()
    webhooks = bot.call(lambda: bot.api.called("setWebhook"))  # type: ignore[union-attr]
    assert webhooks and webhooks[-1]["url"].startswith(f"{base}/api/v1/webhooks/telegram/")
    snippet = page.get_by_test_id("widget-snippet-code").first.inner_text()
    assert f'data-key="{server.widget_key}"' in snippet and "/widget.js" in snippet
    page.get_by_test_id("snippet-copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == snippet

    # --- team: invite an operator
    page.goto(f"{base}/console/settings/team")
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_test_id("field-email").fill(email)
    page.get_by_test_id("field-password").fill("a long first password")
    page.get_by_test_id("invite-submit").click()
    expect(page.get_by_test_id("invite-done")).to_be_visible()
    expect(page.locator(f'[data-testid="member-row"][data-email="{email}"]')).to_be_visible()

    # --- analytics: every report drawn, tabled and exportable; they change after a
    # conversation is resolved
    page.goto(f"{base}/console/analytics")
    kpi = page.get_by_test_id("kpi-conversations")
    expect(kpi).to_have_text(re.compile(r"^\d+$"))
    before = int(kpi.inner_text())
    for report, csv in REPORTS.items():
        canvas = page.get_by_test_id(f"chart-{report}")
        assert page.evaluate("(c) => !!window.Chart.getChart(c)", canvas.element_handle())
        box = page.get_by_test_id(f"report-{report}")
        expect(box.get_by_test_id(f"table-{report}")).to_have_count(1)
        expect(box.get_by_test_id(f"csv-{csv}")).to_have_attribute("href", re.compile("format=csv"))
    resolved_before = page.get_by_test_id("table-timeline").text_content()
    chart_before = page.evaluate(
        "(c) => JSON.stringify(window.Chart.getChart(c).data.datasets.map((d) => d.data))",
        page.get_by_test_id("chart-timeline").element_handle(),
    )
    resolve_a_conversation(server)
    page.reload()
    expect(page.get_by_test_id("kpi-conversations")).to_have_text(str(before + 1))
    assert page.get_by_test_id("table-timeline").text_content() != resolved_before
    chart_after = page.evaluate(
        "(c) => JSON.stringify(window.Chart.getChart(c).data.datasets.map((d) => d.data))",
        page.get_by_test_id("chart-timeline").element_handle(),
    )
    assert chart_after != chart_before
    with page.expect_download() as download:
        page.get_by_test_id("analytics-summary").get_by_test_id("csv-summary").click()
    assert download.value.suggested_filename == "analytics-summary.csv"
    # the end before the start: the API's 422, shown under the end date
    page.get_by_test_id("field-end").fill("2026-01-01")
    page.get_by_test_id("field-start").fill("2026-01-31")
    page.get_by_test_id("submit-range").click()
    expect(page.get_by_test_id("error-end")).to_have_text(
        "The end of the range is before its start."
    )

    # --- screenshots of every page in both languages
    for lang in ("en", "ru"):
        for name in PAGES:
            page.goto(f"{page_url(base, name)}?lang={lang}")
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


def test_the_knowledge_page_tools(owner: Page, server: Server) -> None:
    """Search, a document's chunks, re-index one document, delete one, FAQ edited inline."""
    page = owner
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server.base}/console/settings/knowledge")
    page.get_by_test_id("kb-file-input").set_input_files(
        [
            {
                "name": "ferry.md",
                "mimeType": "text/markdown",
                "buffer": b"# Ferry\n\nThe ferry to the island leaves at 07:40 every day.",
            }
        ]
    )
    row = upload_row(page, "ferry.md")
    expect(row.get_by_test_id("upload-state")).to_have_text("Indexed", timeout=60_000)
    search = page.get_by_test_id("form-kb-search")
    search.get_by_test_id("field-q").fill("When does the ferry leave?")
    search.get_by_test_id("submit-kb-search").click()
    expect(page.get_by_test_id("kb-hits").locator("li").first).to_contain_text("07:40")

    doc = page.locator('[data-testid="doc-row"][data-filename="ferry.md"]')
    doc.get_by_test_id("doc-reindex").click()
    expect(doc.get_by_test_id("doc-status")).to_have_text("Indexed", timeout=60_000)
    r = server.api("GET", "/knowledge/documents?limit=200", server.token("admin"))
    [ferry] = [d for d in r.json()["items"] if d["filename"] == "ferry.md"]
    assert ferry["revision"] == 2 and ferry["status"] == "ready"

    # FAQ: add, edit in place, and it is searchable with the new words
    faq = page.get_by_test_id("form-faq")
    faq.get_by_test_id("field-question").fill("Can I bring a bicycle on the ferry?")
    faq.get_by_test_id("field-answer").fill("Yes, bicycles travel free.")
    rows = page.get_by_test_id("faq-row")
    expect(rows.first).to_be_visible()
    count = rows.count()
    page.get_by_test_id("faq-add").click()
    expect(rows).to_have_count(count + 1)
    entry = rows.first  # newest first
    expect(entry.get_by_test_id("faq-question")).to_have_value(
        "Can I bring a bicycle on the ferry?"
    )
    entry.get_by_test_id("faq-answer").fill("Yes, bicycles and kayaks travel free.")
    entry.get_by_test_id("faq-save").click()
    search.get_by_test_id("field-q").fill("kayaks")
    # the edit is indexed by a job (202): search again, as a user would, until it is there
    deadline = time.monotonic() + 90
    while True:
        search.get_by_test_id("submit-kb-search").click()
        try:
            expect(page.get_by_test_id("kb-hits")).to_contain_text("kayaks", timeout=3_000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise

    # delete: it leaves the list and the search
    doc = page.locator('[data-testid="doc-row"][data-filename="ferry.md"]')
    doc.get_by_test_id("doc-delete").click()
    expect(doc).to_have_count(0)
    search.get_by_test_id("field-q").fill("ferry leaves 07:40")
    search.get_by_test_id("submit-kb-search").click()
    expect(page.get_by_test_id("kb-hits")).not_to_contain_text("07:40")


def test_a_faq_being_edited_keeps_what_was_typed_when_the_list_is_redrawn(
    owner: Page, server: Server
) -> None:
    """The knowledge page draws its lists again after each add, save, upload or re-index,
    and those can overlap: an entry being edited keeps what was typed, and saves it."""
    admin = server.token("admin")
    question = {"question": "Do you rent tents?", "answer": "Yes, 300 rubles a night."}
    faq_id = server.api("POST", "/knowledge/faq", admin, json=question).json()["id"]
    owner.goto(f"{server.base}/console/settings/knowledge")
    entry = owner.locator(f'[data-testid="faq-row"][data-id="{faq_id}"]')
    typed = "Yes, 350 rubles a night with sleeping mats."
    entry.get_by_test_id("faq-answer").fill(typed)
    rows = owner.get_by_test_id("faq-row")
    count = rows.count()
    form = owner.get_by_test_id("form-faq")
    form.get_by_test_id("field-question").fill("Do you rent gas stoves?")
    form.get_by_test_id("field-answer").fill("Yes, 100 rubles a day.")
    owner.get_by_test_id("faq-add").click()
    expect(rows).to_have_count(count + 1)  # the list was drawn again
    expect(entry.get_by_test_id("faq-answer")).to_have_value(typed)
    entry.get_by_test_id("faq-save").click()
    deadline = time.monotonic() + 20
    while server.api("GET", f"/knowledge/documents/{faq_id}", admin).json()["answer"] != typed:
        assert time.monotonic() < deadline, "the typed answer was not saved"
        time.sleep(0.2)


def test_refusals_are_explained_in_russian(owner: Page, server: Server) -> None:
    page = owner
    page.goto(f"{server.base}/console/settings/ai?lang=ru")
    page.get_by_test_id("field-temperature").fill("7")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("error-temperature")).to_have_text("Не больше 2.")

    page.goto(f"{server.base}/console/settings/knowledge?lang=ru")
    drop_files(
        page,
        {
            "photo.png": PNG,
            "huge.txt": b"x" * (MAX_FILE + 1),
            "broken.docx": b"PK\x03\x04 broken",
            "empty.txt": b"",
        },
    )
    why = {
        "photo.png": "Такой тип файла не поддерживается",
        "huge.txt": "Файл слишком большой.",
        "broken.docx": "Файл повреждён и не читается.",
        "empty.txt": "Файл пустой.",
    }
    for name, text in why.items():
        expect(upload_row(page, name).get_by_test_id("upload-state")).to_contain_text(text)

    page.goto(f"{server.base}/console/analytics?lang=ru")
    expect(page.get_by_test_id("kpi-conversations")).to_have_text(re.compile(r"^\d+$"))
    page.get_by_test_id("field-end").fill("2026-01-01")
    page.get_by_test_id("field-start").fill("2026-01-31")
    page.get_by_test_id("submit-range").click()
    expect(page.get_by_test_id("error-end")).to_have_text("Конец периода раньше начала.")


def test_team_keys_and_the_logs(owner: Page, server: Server) -> None:
    """Team (invite, role, a refused change explained, remove), an API key shown once and
    revoked, the AI log filtered and opened, the audit log filtered, named in words."""
    page = owner
    page.on("dialog", lambda dialog: dialog.accept())
    base = server.base
    # --- team
    page.goto(f"{base}/console/settings/team?lang=en")
    email = f"mate-{uuid.uuid4().hex[:6]}@example.com"
    invite = page.get_by_test_id("form-invite")
    invite.get_by_test_id("field-email").fill(email)
    invite.get_by_test_id("field-password").fill("a long first password")
    page.get_by_test_id("invite-submit").click()
    member = page.locator(f'[data-testid="member-row"][data-email="{email}"]')
    expect(member.get_by_test_id("member-role")).to_have_value("operator")
    member.get_by_test_id("member-role").select_option("admin")
    page.reload()
    expect(member.get_by_test_id("member-role")).to_have_value("admin")
    invite.get_by_test_id("field-email").fill(email)
    invite.get_by_test_id("field-password").fill("a long first password")
    page.get_by_test_id("invite-submit").click()
    expect(page.get_by_test_id("form-error-invite")).to_have_text(
        "This user is already on the team."
    )
    me = page.locator(f'[data-testid="member-row"][data-email="{server.info["admin_email"]}"]')
    me.get_by_test_id("member-role").select_option("admin")  # the workspace's one owner
    expect(page.get_by_test_id("team-error")).to_have_text(
        "The workspace must keep at least one owner."
    )
    expect(me.get_by_test_id("member-role")).to_have_value("owner")
    member.get_by_test_id("member-remove").click()
    expect(member).to_have_count(0)

    # --- API keys: shown once, working, revoked
    page.goto(f"{base}/console/settings/api-keys?lang=en")
    page.get_by_test_id("form-api-key").get_by_test_id("field-name").fill("CRM sync")
    page.get_by_test_id("key-submit").click()
    key = page.get_by_test_id("new-key").locator("code").inner_text()
    assert key.startswith("flk_"), key
    assert server.api("GET", "/channels", key).status_code == 200
    page.reload()
    expect(page.get_by_test_id("key-row").filter(has_text="CRM sync")).to_be_visible()
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    assert key not in page.content() and key[-12:] not in page.content()
    page.get_by_test_id("key-row").filter(has_text="CRM sync").get_by_test_id("key-revoke").click()
    expect(page.get_by_test_id("key-row").filter(has_text="CRM sync")).to_contain_text("Revoked")
    assert server.api("GET", "/channels", key).status_code == 401

    # --- the AI log: a customer's question is answered and logged; filters narrow it
    server.customer_says("What does the Baikal tour cost?")
    admin = server.token("admin")
    for _ in range(100):
        if server.api("GET", "/ai/calls?limit=1", admin).json()["items"]:
            break
        page.wait_for_timeout(300)
    page.goto(f"{base}/console/settings/ai-log?lang=en")
    expect(page.get_by_test_id("call-row").first).to_be_visible()
    f = page.get_by_test_id("form-ai-log")
    f.get_by_test_id("field-provider").fill("no-such-provider")
    f.get_by_test_id("submit-ai-log").click()
    expect(page.get_by_test_id("call-list")).to_contain_text("Nothing yet.")
    f.get_by_test_id("field-provider").fill("offline")
    f.get_by_test_id("submit-ai-log").click()
    expect(page.get_by_test_id("call-row").first).to_contain_text("offline")
    page.get_by_test_id("call-row").first.get_by_test_id("call-open").click()
    expect(page.get_by_test_id("call-detail")).to_contain_text('"prompt"')

    # --- the audit log, in words, filtered by kind
    page.goto(f"{base}/console/settings/audit?lang=en")
    page.get_by_test_id("form-audit").get_by_test_id("field-action").select_option("members")
    removed = page.locator('[data-testid="audit-row"][data-action="members.remove"]')
    expect(removed.first).to_contain_text("Member removed")
    expect(page.locator('[data-testid="audit-row"][data-action="api_keys.create"]')).to_have_count(
        0
    )
    page.goto(f"{base}/console/settings/audit?lang=ru")
    expect(
        page.locator('[data-testid="audit-row"][data-action="api_keys.revoke"]').first
    ).to_contain_text("Отозван API-ключ")


def test_the_platform_page(browser: Browser, server: Server) -> None:
    """The platform superadmin: every workspace with its usage (storage included), a new
    workspace with its owner, suspend and resume, and a plan limit its owner then meets
    with a clear message; screenshots in both languages."""
    email, password = server.superadmin()
    ctx = console_context(browser, server)
    try:
        page = ctx.new_page()
        sign_in(page, server, email, password)
        page.goto(f"{server.base}/console/platform?lang=en")
        demo = page.locator('[data-testid="tenant-row"]').first
        expect(demo).to_be_visible()
        # no workspace menu on this page: the table has the whole width
        box = page.get_by_test_id("page-platform").bounding_box()
        assert box is not None and box["width"] > 1000, box
        expect(demo).to_contain_text("Storage:")
        expect(demo).to_contain_text("Messages:")
        slug = f"acme-{uuid.uuid4().hex[:6]}"
        f = page.get_by_test_id("form-tenant")
        f.get_by_test_id("field-name").fill("Acme")
        f.get_by_test_id("field-slug").fill(slug)
        f.get_by_test_id("field-owner_email").fill(f"owner@{slug}.example.com")
        f.get_by_test_id("field-owner_password").fill("acme owner password")
        page.get_by_test_id("tenant-submit").click()
        acme = page.locator(f'[data-testid="tenant-row"][data-slug="{slug}"]')
        expect(acme).to_be_visible()
        acme.get_by_test_id("tenant-suspend").click()
        expect(acme.get_by_test_id("tenant-resume")).to_be_visible()
        acme.get_by_test_id("tenant-resume").click()
        expect(acme.get_by_test_id("tenant-suspend")).to_be_visible()
        # a documents limit of 0: Acme's owner cannot add one, and is told why
        acme.get_by_test_id("field-documents").fill("0")
        acme.get_by_test_id("limits-save").click()
        expect(acme.get_by_test_id("field-documents")).to_have_value("0")
        for lang in ("en", "ru"):
            page.goto(f"{server.base}/console/platform?lang={lang}")
            expect(page.get_by_test_id("page-platform")).to_be_visible()
            storage = {"en": "Storage: ", "ru": "Хранилище: "}[lang]
            unit = {"en": " KB", "ru": " КБ"}[lang]  # the demo's files are a few kilobytes
            expect(page.locator('[data-testid="tenant-row"]').first).to_contain_text(
                re.compile(storage + r"\d+\.\d" + unit)
            )
            page.wait_for_load_state("networkidle")
            shot(page, f"platform-{lang}")
    finally:
        ctx.close()
    ctx = console_context(browser, server)
    try:
        page = ctx.new_page()
        sign_in(page, server, f"owner@{slug}.example.com", "acme owner password")
        page.goto(f"{server.base}/console/settings/knowledge?lang=en")
        drop_files(page, {"notes.txt": b"Opening hours: 9 to 18."})
        expect(upload_row(page, "notes.txt").get_by_test_id("upload-state")).to_have_text(
            "Failed: The workspace's plan limit is reached: ask the platform administrator."
        )
    finally:
        ctx.close()


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
        # the API behind them with the same cookie (every admin route is walked over HTTP in
        # tests/console/test_admin_pages.py::test_operator_gets_403_on_every_admin_route)
        csrf = next(c["value"] for c in ctx.cookies() if c["name"] == "fl_csrf")
        for method, path in (
            ("GET", "/analytics/summary"),
            ("PUT", "/ai/settings"),
            ("POST", "/knowledge/reindex"),
        ):
            r = page.request.fetch(
                f"{server.base}/api/v1{path}",
                method=method,
                headers={"X-CSRF-Token": csrf},
                data="{}",
            )
            assert r.status == 403, (method, path, r.status)
    finally:
        ctx.close()
