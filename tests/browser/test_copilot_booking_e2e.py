""" "Create a booking from this chat" end to end in Chromium: a visitor asks for a person and,
while waiting, writes what they want to book; the operator opens the conversation, the
copilot pre-fills the booking form from the chat (the demo's Baikal tour, the departure on
that date, guests, name, phone), the operator ticks "confirm at once" and saves; the booking
is confirmed, linked to the conversation and the customer, and shows in the booking panel
and the customer's profile. Screenshots go to ``test-artifacts/copilot-booking-*.png``."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.browser.test_copilot_e2e import stored_summary
from tests.browser.test_handoff_e2e import (
    _context,
    console_login,
    console_message,
    watch_errors,
)
from tests.browser.widget_kit import Frames, open_chat, open_demo, send, track_ready, wait_for_text


def _departure(server: Server) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo's Baikal tour and a departure of it with room for two."""
    token = server.token("admin")
    resources = server.api("GET", "/resources", token).json()
    baikal = next(r for r in resources if r["name"] == "Байкал")
    rows = server.api("GET", f"/resources/{baikal['id']}/departures", token).json()
    future = [d for d in rows if d["free_places"] >= 2]
    return baikal, future[-1]  # the latest: no other test books it


def test_operator_creates_a_booking_from_the_chat(
    browser: Browser, server: Server, artifacts: Path
) -> None:
    visitor_ctx, operator_ctx = _context(browser), _context(browser)
    visitor, operator = visitor_ctx.new_page(), operator_ctx.new_page()
    errors: list[str] = []
    watch_errors(visitor, "visitor", errors)
    watch_errors(operator, "operator", errors)
    try:
        _flow(visitor, operator, server, artifacts)
    except BaseException:
        for who, page in (("visitor", visitor), ("operator", operator)):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(artifacts / f"copilot-booking-failure-{who}.png"))
        raise
    finally:
        visitor_ctx.close()
        operator_ctx.close()
    assert errors == []


def _flow(visitor: Page, operator: Page, server: Server, artifacts: Path) -> None:
    baikal, departure = _departure(server)
    starts = datetime.fromisoformat(departure["starts_at"]).astimezone(ZoneInfo(baikal["timezone"]))
    console_login(operator, server)
    track_ready(visitor)
    frames = Frames(visitor)
    open_demo(visitor, server)
    open_chat(visitor)
    send(visitor, "How much is the Baikal tour?")
    wait_for_text(visitor, ".log .msg.ai[data-id]", "45,000")
    visitor.locator(".human").click()
    expect(visitor.locator(".banner")).to_have_text(re.compile("Waiting for an operator"))
    cid = frames.conversation_id()
    wanted = (
        f"Хочу забронировать тур Байкал на {starts:%d.%m.%Y}, нас 2 человека, "
        "меня зовут Анна, телефон +7 900 123-45-67"
    )
    send(visitor, wanted)
    summary = stored_summary(server, cid)

    operator.locator(f"[data-testid=conv-row][data-id='{cid}']").click()
    expect(operator.get_by_test_id("conversation")).to_be_visible()
    expect(console_message(operator, "contact", "Анна")).to_be_visible()
    expect(operator.get_by_test_id("copilot-summary")).to_have_text(summary["summary"])

    # the copilot reads the request from the chat; the form opens pre-filled
    operator.get_by_test_id("copilot-book").click()
    form = operator.get_by_test_id("copilot-booking-form")
    expect(form).to_be_visible()
    expect(operator.get_by_test_id("cb-resource")).to_have_value(baikal["id"])
    expect(operator.get_by_test_id("cb-departure")).to_have_value(departure["id"])
    expect(operator.get_by_test_id("cb-adults")).to_have_value("2")
    expect(operator.get_by_test_id("cb-name")).to_have_value("Анна")
    expect(operator.get_by_test_id("cb-phone")).to_have_value("+79001234567")
    expect(operator.get_by_test_id("cb-missing")).to_contain_text("Filled in from the chat")
    operator.screenshot(path=str(artifacts / "copilot-booking-01-form.png"))

    # the operator checks it, confirms at once and saves
    operator.get_by_test_id("cb-confirm").check()
    operator.get_by_test_id("cb-save").click()
    expect(operator.get_by_test_id("copilot-booking-notice")).to_contain_text("confirmed")
    expect(form).to_be_hidden()
    expect(operator.get_by_test_id("panel-booking")).to_contain_text("confirmed")
    expect(operator.get_by_test_id("profile-bookings")).to_contain_text("Байкал")
    operator.screenshot(path=str(artifacts / "copilot-booking-02-saved.png"))

    token = server.token("operator")
    [booking] = server.api("GET", f"/bookings?conversation_id={cid}", token).json()["items"]
    conversation = server.api("GET", f"/conversations/{cid}", token).json()
    assert (booking["status"], booking["departure_id"]) == ("confirmed", departure["id"])
    assert (booking["adults"], booking["customer_name"]) == (2, "Анна")
    assert booking["contact_id"] == conversation["contact_id"]
