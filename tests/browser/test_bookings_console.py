"""The console's bookings, in headless Chromium against ``frontline serve`` with the demo:
a customer books Baikal through the AI on the API channel; the operator finds the pending
booking in the list, confirms it, sees it in the resource's calendar (month and week), and
in the panel beside the conversation. The owner creates and edits condition templates and
resources, deactivates one, and enters a tour's departures and a rental's blocked periods
in the resource's own time zone; bad fields are refused under the field, in English and
Russian, with nothing saved."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, Server, sign_in
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
    return server.customer_says(text, contact="anna-browser", external_id=text)


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


def _field(page: Page, form: str, name: str) -> Any:
    return page.get_by_test_id(f"form-{form}").get_by_test_id(f"field-{name}")


def _error(page: Page, form: str, name: str) -> Any:
    return page.get_by_test_id(f"form-{form}").get_by_test_id(f"error-{name}")


def _named(server: Server, token: str, path: str, name: str) -> list[dict[str, Any]]:
    return [x for x in server.api("GET", path, token).json() if x["name"] == name]


def test_owner_manages_condition_templates(server: Server, operator: Page) -> None:
    page = operator
    errors: list[str] = []
    watch_errors(page, "owner", errors)
    sign_in(page, server, "admin")
    token = server.token("admin")
    page.goto(f"{server.base}/console/settings/booking-templates?lang=en")
    expect(page.locator("h1")).to_have_text("Booking conditions")
    # an empty name and a prepayment over 100% are refused, each under its field
    _field(page, "template", "prepayment_percent").fill("150")
    page.get_by_test_id("rule-add").click()
    page.get_by_test_id("rule-days").fill("7")
    page.get_by_test_id("rule-penalty").fill("50")
    page.get_by_test_id("template-submit").click()
    expect(_error(page, "template", "name")).to_have_text("Fill this in.")
    expect(_error(page, "template", "prepayment_percent")).to_have_text("The value is too large.")
    expect(_field(page, "template", "prepayment_percent")).to_have_attribute("aria-invalid", "true")
    assert _named(server, token, "/booking-templates", "Boats") == []
    # a penalty over 100% in a rule is shown under the rules
    _field(page, "template", "name").fill("Boats")
    _field(page, "template", "prepayment_percent").fill("30")
    page.get_by_test_id("rule-penalty").fill("120")
    page.get_by_test_id("template-submit").click()
    expect(_error(page, "template", "cancellation_rules")).to_have_text("The value is too large.")
    expect(_error(page, "template", "name")).to_be_hidden()
    page.get_by_test_id("rule-penalty").fill("50")
    _field(page, "template", "checkin_rules").fill("Life jackets are compulsory.")
    page.get_by_test_id("template-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Template created.")
    row = page.get_by_test_id("template-row").filter(has_text="Boats")
    expect(row).to_contain_text("7 days: 50%")
    # the same name again: refused under the name
    _field(page, "template", "name").fill("Boats")
    page.get_by_test_id("template-submit").click()
    expect(_error(page, "template", "name")).to_have_text("This name is already taken.")
    # edit: a deposit is added
    row.get_by_test_id("template-edit").click()
    expect(page.get_by_test_id("template-editor-title")).to_have_text("Template: Boats")
    _field(page, "template", "deposit_amount").fill("5000")
    page.get_by_test_id("template-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Template saved.")
    expect(row).to_contain_text("5000")
    (saved,) = _named(server, token, "/booking-templates", "Boats")
    assert saved["prepayment_percent"] == 30 and saved["deposit_amount"] == "5000.00"
    assert saved["cancellation_rules"] == [{"days_before": 7, "penalty_percent": 50}]
    assert saved["checkin_rules"] == "Life jackets are compulsory."
    # a throwaway template is deleted (the button asks twice)
    expect(page.get_by_test_id("template-editor-title")).to_have_text("New conditions template")
    _field(page, "template", "name").fill("Throwaway")
    page.get_by_test_id("template-submit").click()
    throwaway = page.get_by_test_id("template-row").filter(has_text="Throwaway")
    throwaway.get_by_test_id("template-delete").click()
    expect(throwaway.get_by_test_id("template-delete")).to_have_text("Delete for good?")
    throwaway.get_by_test_id("template-delete").click()
    expect(throwaway).to_have_count(0)
    assert _named(server, token, "/booking-templates", "Throwaway") == []
    # in Russian
    page.goto(f"{server.base}/console/settings/booking-templates?lang=ru")
    expect(page.locator("h1")).to_have_text("Условия бронирования")
    _field(page, "template", "payment_deadline_days").fill("-1")
    page.get_by_test_id("template-submit").click()
    expect(_error(page, "template", "name")).to_have_text("Заполните поле.")
    boats = page.get_by_test_id("template-row").filter(has_text="Boats")
    expect(boats).to_contain_text("за 7 дн.: 50%")
    expect(_error(page, "template", "payment_deadline_days")).to_have_text(
        "Слишком маленькое значение."
    )
    page.screenshot(path=str(ARTIFACTS / "bookings-templates-ru.png"), full_page=True)
    assert errors == []


def test_owner_manages_resources_and_their_schedules(server: Server, operator: Page) -> None:
    page = operator
    errors: list[str] = []
    watch_errors(page, "owner", errors)
    sign_in(page, server, "admin")
    token = server.token("admin")
    r = server.api("POST", "/booking-templates", token, json={"name": "Rentals"})
    assert r.status_code == 201, r.text
    # the owner reaches the page from the bookings page
    page.goto(f"{server.base}/console/bookings?lang=en")
    page.get_by_test_id("nav-resources").click()
    page.wait_for_url(re.compile(r"/console/settings/resources"))
    expect(page.locator("h1")).to_have_text("Bookable resources")
    # a capacity of 0 and an unknown time zone are refused under their fields
    _field(page, "resource", "name").fill("Kayak")
    _field(page, "resource", "kind").select_option("equipment")
    _field(page, "resource", "availability").select_option("hourly")
    _field(page, "resource", "capacity").fill("0")
    _field(page, "resource", "price").fill("1500")
    _field(page, "resource", "timezone").fill("Mars/Olympus")
    page.get_by_test_id("resource-submit").click()
    expect(_error(page, "resource", "capacity")).to_have_text("The value is too small.")
    expect(_error(page, "resource", "timezone")).to_have_text("Unknown time zone.")
    expect(_error(page, "resource", "name")).to_be_hidden()
    assert _named(server, token, "/resources", "Kayak") == []
    _field(page, "resource", "capacity").fill("2")
    _field(page, "resource", "timezone").fill("Europe/Moscow")
    _field(page, "resource", "template_id").select_option(label="Rentals")
    _field(page, "resource", "description").fill("A two-seat sea kayak with paddles.")
    page.get_by_test_id("resource-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Resource created.")
    row = page.get_by_test_id("resource-row").filter(has_text="Kayak")
    expect(row).to_contain_text("By the hour")
    expect(row).to_contain_text("Rentals")
    expect(row).to_contain_text("active")
    expect(page.get_by_test_id("resource-row").filter(has_text="Байкал")).to_contain_text(
        "45000.00 RUB / person"
    )
    (kayak,) = _named(server, token, "/resources", "Kayak")
    assert kayak["availability"] == "hourly" and kayak["kind"] == "equipment"
    assert kayak["template_id"] == r.json()["id"] and kayak["price"] == "1500.00"
    # edit the price (how it is booked is fixed once created)
    row.get_by_test_id("resource-edit").click()
    expect(_field(page, "resource", "availability")).to_be_disabled()
    _field(page, "resource", "price").fill("1800")
    page.get_by_test_id("resource-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Resource saved.")
    expect(row).to_contain_text("1800")
    # a blocked period, entered in Moscow time; the end before the start is refused first
    row.get_by_test_id("resource-schedule-open").click()
    expect(page.get_by_test_id("schedule-title")).to_contain_text("Kayak (Europe/Moscow)")
    _field(page, "block", "starts_at").fill("2030-01-10T12:00")
    _field(page, "block", "ends_at").fill("2030-01-10T10:00")
    page.get_by_test_id("block-submit").click()
    expect(_error(page, "block", "ends_at")).to_have_text("The end must be after the start.")
    assert server.api("GET", f"/resources/{kayak['id']}/blocks", token).json() == []
    _field(page, "block", "ends_at").fill("2030-01-10T14:00")
    _field(page, "block", "reason").fill("Maintenance")
    page.get_by_test_id("block-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Period blocked.")
    block_row = page.get_by_test_id("block-row")
    expect(block_row).to_contain_text("10/01/2030, 12:00")
    expect(block_row).to_contain_text("Maintenance")
    (block,) = server.api("GET", f"/resources/{kayak['id']}/blocks", token).json()
    assert datetime.fromisoformat(block["starts_at"]) == datetime.fromisoformat(
        "2030-01-10T09:00:00+00:00"
    )
    block_row.get_by_test_id("block-delete").click()
    block_row.get_by_test_id("block-delete").click()
    expect(block_row).to_have_count(0)
    assert server.api("GET", f"/resources/{kayak['id']}/blocks", token).json() == []
    # deactivate: the AI no longer offers it
    row.get_by_test_id("resource-deactivate").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Resource deactivated")
    expect(row).to_contain_text("inactive")
    expect(row.get_by_test_id("resource-activate")).to_be_visible()
    assert _named(server, token, "/resources", "Kayak")[0]["active"] is False

    # a tour, booked on departures entered in Irkutsk time
    _field(page, "resource", "name").fill("Altai")
    _field(page, "resource", "kind").select_option("tour")
    _field(page, "resource", "availability").select_option("departures")
    _field(page, "resource", "capacity").fill("12")
    _field(page, "resource", "price").fill("30000")
    _field(page, "resource", "per_person").check()
    _field(page, "resource", "timezone").fill("Asia/Irkutsk")
    page.get_by_test_id("resource-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Resource created.")
    altai = page.get_by_test_id("resource-row").filter(has_text="Altai")
    altai.get_by_test_id("resource-schedule-open").click()
    expect(page.get_by_test_id("schedule-title")).to_contain_text("Altai (Asia/Irkutsk)")
    _field(page, "departure", "starts_at").fill("2030-07-01T08:00")
    _field(page, "departure", "ends_at").fill("2030-07-08T18:00")
    _field(page, "departure", "capacity").fill("0")
    page.get_by_test_id("departure-submit").click()
    expect(_error(page, "departure", "capacity")).to_have_text("The value is too small.")
    _field(page, "departure", "capacity").fill("10")
    page.get_by_test_id("departure-submit").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Departure added.")
    departure_row = page.get_by_test_id("departure-row")
    expect(departure_row).to_contain_text("01/07/2030, 08:00")
    expect(departure_row).to_contain_text("08/07/2030, 18:00")
    (resource,) = _named(server, token, "/resources", "Altai")
    (departure,) = server.api("GET", f"/resources/{resource['id']}/departures", token).json()
    assert datetime.fromisoformat(departure["starts_at"]) == datetime.fromisoformat(
        "2030-07-01T00:00:00+00:00"
    )
    assert departure["capacity"] == 10 and departure["free_places"] == 10
    page.screenshot(path=str(ARTIFACTS / "bookings-resources-en.png"), full_page=True)

    # in Russian: the same refusals in Russian
    page.goto(f"{server.base}/console/settings/resources?lang=ru")
    expect(page.locator("h1")).to_have_text("Ресурсы бронирования")
    _field(page, "resource", "capacity").fill("0")
    page.get_by_test_id("resource-submit").click()
    expect(_error(page, "resource", "name")).to_have_text("Заполните поле.")
    expect(_error(page, "resource", "capacity")).to_have_text("Слишком маленькое значение.")
    expect(page.get_by_test_id("resource-row").filter(has_text="Kayak")).to_contain_text("отключён")
    assert errors == []
