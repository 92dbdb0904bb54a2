"""The console's bookings, in headless Chromium against ``frontline serve`` with the demo:
a customer books Baikal through the AI on the API channel; the operator finds the pending
booking in the list, confirms it, sees it in the resource's calendar (month and week), and
in the panel beside the conversation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Server
from tests.browser.test_handoff_e2e import console_login, watch_errors

TIMEOUT = 15_000


@pytest.fixture
def operator(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)
    try:
        yield ctx.new_page()
    finally:
        expect.set_options(timeout=None)
        ctx.close()


def _say(server: Server, text: str) -> dict[str, Any]:
    r = httpx.post(
        f"{server.base}/api/v1/channels/{server.info['api_channel_id']}/messages",
        headers={"Authorization": f"Bearer {server.info['api_channel_secret']}"},
        json={"external_id": text, "contact": {"external_id": "anna-browser"}, "text": text},
        timeout=10,
    )
    assert r.status_code in (200, 202), r.text
    return dict(r.json())


def _booking(server: Server, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = server.api("GET", "/bookings", token).json()["items"]
        if items:
            return dict(items[0])
        time.sleep(0.3)
    raise AssertionError("the AI made no booking")


def test_operator_confirms_the_ai_s_booking_and_sees_it_in_the_calendar(
    server: Server, operator: Page
) -> None:
    errors: list[str] = []
    watch_errors(operator, "operator", errors)
    sent = _say(server, "Хочу забронировать Байкал на двоих с 9 июня")
    time.sleep(1.0)  # the AI asks for the name and phone first
    _say(server, "Анна Смирнова, +7 999 123-45-67")
    token = server.token("operator")
    booking = _booking(server, token)
    assert booking["status"] == "pending" and booking["adults"] == 2

    console_login(operator, server)
    operator.get_by_test_id("nav-bookings").click()
    operator.wait_for_url(re.compile(r"/console/bookings$"))
    row = operator.get_by_test_id("b-row").filter(has_text="Анна Смирнова")
    expect(row).to_contain_text("pending")
    row.click()
    detail = operator.get_by_test_id("b-detail")
    expect(detail).to_contain_text("90000.00 RUB")
    operator.get_by_test_id("bk-confirm").click()
    expect(operator.get_by_test_id("flash")).to_contain_text("Booking confirmed.")
    expect(row).to_contain_text("confirmed")
    assert server.api("GET", f"/bookings/{booking['id']}", token).json()["status"] == "confirmed"

    # the calendar of Baikal, in the month of the departure
    operator.get_by_test_id("tab-calendar").click()
    operator.get_by_test_id("c-resource").select_option(label="Байкал")
    start = datetime.fromisoformat(booking["starts_at"])
    now = datetime.now()
    for _ in range((start.year - now.year) * 12 + start.month - now.month):
        operator.get_by_test_id("c-next").click()
    expect(operator.get_by_test_id("c-title")).to_contain_text("June")
    expect(operator.get_by_test_id("c-booking").first).to_contain_text("Анна Смирнова (2)")
    operator.get_by_test_id("c-week").click()
    expect(operator.get_by_test_id("c-day")).to_have_count(7)

    # the panel beside the conversation
    operator.goto(f"{server.base}/console/conversations/{sent['conversation_id']}")
    panel = operator.get_by_test_id("booking-panel")
    expect(panel).to_be_visible()
    expect(operator.get_by_test_id("panel-booking")).to_contain_text("confirmed")
    assert errors == []
