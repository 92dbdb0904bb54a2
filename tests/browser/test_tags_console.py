"""Issue 14's remaining console pieces in Chromium against ``frontline serve`` with the demo:
an admin keeps conversation tags on the categories page, an operator tags a conversation in
its sidebar and filters the inbox by tag; the analytics page charts bookings (table and CSV
too); the channels page shows the web widget's live preview inline."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server


def inbound(server: Server, text: str) -> int:
    return int(server.customer_says(text)["conversation_id"])


def test_tags_are_managed_put_on_conversations_and_filter_the_inbox(
    owner: Page, server: Server
) -> None:
    page = owner
    base = server.base
    name = f"VIP-{uuid.uuid4().hex[:4]}"
    page.goto(f"{base}/console/settings/categories?lang=en")
    expect(page.get_by_test_id("tags")).to_contain_text("Conversation tags")
    form = page.get_by_test_id("form-tag")
    form.get_by_test_id("field-name").fill(name)
    form.get_by_test_id("field-color").fill("#d97706")
    page.get_by_test_id("tag-submit").click()
    row = page.get_by_test_id("tag-row").filter(has_text=name)
    expect(row).to_contain_text("#d97706")
    # a duplicate is refused on the form, not a crash
    form.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("tag-submit").click()
    expect(page.get_by_test_id("form-error-tag")).to_contain_text("already exists")
    page.goto(f"{base}/console/settings/categories?lang=ru")
    expect(page.get_by_test_id("tags")).to_contain_text("Метки разговоров")

    tagged = inbound(server, "I'd like a refund, please")
    other = inbound(server, "Just saying hello")
    page.goto(f"{base}/console/conversations/{tagged}?lang=en")
    expect(page.get_by_test_id("conversation")).to_be_visible()
    expect(page.get_by_test_id("conv-tags")).to_contain_text("No tags")
    page.get_by_test_id("tag-add-select").select_option(label=name)
    chip = page.get_by_test_id("conv-tag").filter(has_text=name)
    expect(chip).to_have_count(1)
    # the inbox row carries the tag, and the tag filter keeps only tagged conversations
    page.get_by_test_id("tab-all").click()
    row_of = page.locator(f'[data-testid="conv-row"][data-id="{tagged}"]')
    expect(row_of.locator(".tag-label")).to_have_text(name)
    expect(page.locator(f'[data-testid="conv-row"][data-id="{other}"]')).to_have_count(1)
    page.get_by_test_id("filter-tag").select_option(label=name)
    expect(page.locator(f'[data-testid="conv-row"][data-id="{other}"]')).to_have_count(0)
    expect(page.get_by_test_id("conv-row")).to_have_count(1)
    expect(row_of).to_be_visible()
    # removing it in the sidebar takes the conversation out of the filtered list
    chip.get_by_test_id("tag-remove").click()
    expect(page.get_by_test_id("conv-tag")).to_have_count(0)
    expect(row_of).to_have_count(0)
    token = server.token("operator")
    assert server.api("GET", f"/conversations/{tagged}/tags", token).json() == []


def test_analytics_charts_bookings(owner: Page, server: Server) -> None:
    token = server.token("admin")
    r = server.api(
        "POST",
        "/resources",
        token,
        json={
            "name": f"Analytics tour {uuid.uuid4().hex[:4]}",
            "kind": "tour",
            "availability": "departures",
            "capacity": 10,
            "price": "1000",
        },
    )
    assert r.status_code == 201, r.text
    resource = r.json()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40)
    r = server.api(
        "POST",
        f"/resources/{resource['id']}/departures",
        token,
        json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=2)).isoformat()},
    )
    assert r.status_code == 201, r.text
    departure = r.json()
    before = server.api("GET", "/analytics/bookings", token).json()
    for confirm in (True, False):
        r = server.api(
            "POST",
            "/bookings",
            token,
            json={"resource_id": resource["id"], "departure_id": departure["id"], "adults": 1},
        )
        assert r.status_code == 201, r.text
        if confirm:
            r = server.api("POST", f"/bookings/{r.json()['id']}/confirm", token)
            assert r.status_code == 200, r.text

    page = owner
    page.goto(f"{server.base}/console/analytics?lang=en")
    created, confirmed = before["created"] + 2, before["confirmed"] + 1
    expect(page.get_by_test_id("kpi-bookings")).to_have_text(
        f"Bookings: {created} created, {confirmed} confirmed"
    )
    report = page.get_by_test_id("report-bookings")
    expect(report).to_contain_text("Bookings per day")
    canvas = page.get_by_test_id("chart-bookings")
    assert page.evaluate("(c) => !!window.Chart.getChart(c)", canvas.element_handle())
    today = datetime.now(UTC).date().isoformat()
    day_row = page.get_by_test_id("table-bookings").locator("tr").filter(has_text=today)
    expect(day_row).to_have_count(1)
    cells = day_row.locator("td")
    expect(cells.nth(1)).to_have_text(re.compile(r"^[1-9]\d*$"))
    with page.expect_download() as download:
        page.get_by_test_id("csv-bookings").click()
    assert download.value.suggested_filename == "analytics-bookings.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "day,created,confirmed"
    page.goto(f"{server.base}/console/analytics?lang=ru")
    expect(page.get_by_test_id("report-bookings")).to_contain_text("Бронирования по дням")


def test_channels_page_shows_the_widget_preview_inline(owner: Page, server: Server) -> None:
    page = owner
    page.goto(f"{server.base}/console/settings/channels?lang=en")
    frame_el = page.get_by_test_id("widget-preview-frame").first
    expect(frame_el).to_be_visible()
    src = frame_el.get_attribute("src") or ""
    assert re.fullmatch(r"/console/settings/channels/[0-9a-f-]{36}/preview", src), src
    frame = page.frame_locator('[data-testid="widget-preview-frame"]').first
    # the real widget, loaded by /widget.js with the channel's key inside the frame: it opens
    launcher = frame.locator(".launcher")
    expect(launcher).to_be_visible()
    # the widget's button is fixed to the frame's corner: bring the whole frame into view
    frame_el.evaluate("(f) => f.scrollIntoView({block: 'center'})")
    launcher.click()
    expect(frame.locator("#fl-input")).to_be_visible()
    expect(page.get_by_test_id("widget-preview").first).to_have_attribute("target", "_blank")
