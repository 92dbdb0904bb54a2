"""Moderation in the console, in Chromium against ``frontline serve`` with the demo: the
owner sets a mode per rule on the AI settings page (kept after a reload, in Russian too);
a held message shows up live in the inbox with its flag, and the conversation view shows
the verdict on the conversation and on the message; a flagged link-only message too."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server


def test_the_owner_sets_moderation_and_operators_see_the_flags(owner: Page, server: Server) -> None:
    page = owner
    base = server.base
    page.goto(f"{base}/console/settings/ai?lang=en")
    box = page.get_by_test_id("moderation")
    expect(box).to_contain_text("Moderation before the AI")
    expect(page.get_by_test_id("field-profanity")).to_have_value("flag")
    expect(page.get_by_test_id("field-flood")).to_have_value("hold")
    page.get_by_test_id("field-profanity").select_option("hold")
    page.get_by_test_id("field-flood_messages").fill("12")
    page.get_by_test_id("ai-save").click()
    expect(page.get_by_test_id("ai-saved")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("field-profanity")).to_have_value("hold")
    expect(page.get_by_test_id("field-flood_messages")).to_have_value("12")
    page.goto(f"{base}/console/settings/ai?lang=ru")
    expect(page.get_by_test_id("moderation")).to_contain_text("Модерация перед ИИ")
    expect(page.get_by_test_id("moderation")).to_contain_text("Задержать (ответит оператор)")

    try:
        # the inbox is open when the held message arrives: its row appears with the flag
        page.goto(f"{base}/console?lang=en")
        page.get_by_test_id("tab-all").click()
        held = int(server.customer_says("Где мой тур, мудаки?")["conversation_id"])
        row = page.locator(f'[data-testid="conv-row"][data-id="{held}"]')
        expect(row.get_by_test_id("row-moderation")).to_have_text("Held by moderation: profanity")
        page.goto(f"{base}/console/conversations/{held}?lang=en")
        expect(page.get_by_test_id("conv-status")).to_have_text("Waiting for an operator")
        expect(page.get_by_test_id("conv-moderation")).to_have_text("Held by moderation: profanity")
        message = page.get_by_test_id("message").filter(has_text="мудаки")
        expect(message.get_by_test_id("msg-moderation")).to_have_text(
            "Held by moderation: profanity"
        )
        expect(page.get_by_test_id("ai-handoff-reason")).to_contain_text("Held by moderation")
        page.goto(f"{base}/console/conversations/{held}?lang=ru")
        expect(page.get_by_test_id("conv-moderation")).to_have_text("Задержано модерацией: мат")

        # a link-only message is only flagged (the default)
        flagged = int(server.customer_says("https://example.com/tours/42")["conversation_id"])
        page.goto(f"{base}/console/conversations/{flagged}?lang=en")
        expect(page.get_by_test_id("conv-moderation")).to_have_text(
            "Flagged by moderation: links only"
        )
        expect(page.get_by_test_id("conv-moderation")).to_have_class(
            "tag tag-moderation tag-moderation-flag"
        )
    finally:
        token = server.token("admin")
        r = server.api(
            "PUT",
            "/ai/settings",
            token,
            json={"moderation": {"profanity": "flag", "flood_messages": 8}},
        )
        assert r.status_code == 200, r.text
