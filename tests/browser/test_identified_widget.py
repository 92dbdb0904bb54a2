"""Identified visitors in Chromium: a customer's site passes its signed-in user to the widget
(``data-user-id`` + ``data-user-hash``, HMAC-SHA256 with the web channel's identity secret).
What the browser wrote anonymously joins the user's history when they sign in; a second
browser context signed in as the same user shows the same history and every new message;
a wrong hash gets no chat at all."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Server, Site
from tests.browser.test_handoff_e2e import console_login
from tests.browser.widget_kit import (
    host_page,
    new_context,
    open_chat,
    send,
    stored,
    track_ready,
    wait_for_text,
    widget_tag,
)


@pytest.fixture(scope="module")
def identity_secret(server: Server, site: Site) -> str:
    """The demo web channel's identity secret: its secret, rotated here to be known."""
    admin = server.token("admin")
    channel_id = uuid.UUID(hex=server.widget_key.removeprefix("wk_"))
    r = server.api("POST", f"/channels/{channel_id}/rotate-secret", admin)
    assert r.status_code == 200, r.text
    return str(r.json()["secret"])


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made = [new_context(browser, "en-US") for _ in range(4)]
    try:
        yield made
    finally:
        for ctx in made:
            ctx.close()


def signed_in_page(server: Server, site: Site, secret: str, user_id: str, hash_: str = "") -> str:
    user_hash = hash_ or hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    attributes = (
        f'data-user-id="{user_id}" data-user-hash="{user_hash}" data-user-name="Anna Petrova" '
        'data-user-attributes=\'{"plan": "gold"}\''
    )
    return site.put(
        f"/account-{uuid.uuid4().hex[:6]}.html", host_page(widget_tag(server, attributes))
    )


def texts(page: Page) -> list[str]:
    return [m["text"] for m in stored(page) if "contact" in m["cls"]]


def test_one_user_one_history_in_two_browsers_and_a_wrong_hash_is_refused(
    contexts: list[BrowserContext], server: Server, site: Site, identity_secret: str
) -> None:
    first, second, intruder, operator = (ctx.new_page() for ctx in contexts)
    user = f"user-{uuid.uuid4().hex[:6]}"
    # browser 1, not signed in yet: an anonymous chat
    track_ready(first)
    first.goto(site.put("/shop.html", host_page(widget_tag(server))))
    open_chat(first)
    send(first, "Hello, I have not signed in yet")
    wait_for_text(first, ".log .msg.contact[data-id]", "not signed in yet")

    # the user signs in on the site: the widget identifies them, the history stays
    first.goto(signed_in_page(server, site, identity_secret, user))
    open_chat(first)
    wait_for_text(first, ".log .msg.contact[data-id]", "not signed in yet")

    # browser 2 (another device): signed in as the same user, the same history
    track_ready(second)
    second.goto(signed_in_page(server, site, identity_secret, user))
    open_chat(second)
    wait_for_text(second, ".log .msg.contact[data-id]", "not signed in yet")
    send(second, "Writing from my phone now")
    for page in (first, second):
        wait_for_text(page, ".log .msg.contact[data-id]", "from my phone")
    assert texts(first) == texts(second)
    assert texts(first).count("Writing from my phone now") == 1

    # the operator sees one contact: the user, with the site's details
    token = server.token("operator")
    r = server.api(
        "GET", "/conversations?channel_id=" + str(uuid.UUID(hex=server.widget_key[3:])), token
    )
    contacts = {c["contact_id"] for c in r.json()["items"]}
    found: list[dict[str, Any]] = []
    for contact_id in contacts:
        contact = server.api("GET", f"/contacts/{contact_id}", token).json()
        if contact.get("user_id") == user:
            found.append(contact)
    assert len(found) == 1
    assert found[0]["name"] == "Anna Petrova" and found[0]["attributes"] == {"plan": "gold"}

    # in the console the conversation's sidebar shows the identified customer's profile;
    # an operator adds a typed attribute (a wrong type is refused, naming the field)
    conversation = next(c for c in r.json()["items"] if c["contact_id"] == found[0]["id"])
    console_login(operator, server)
    operator.goto(f"{server.base}/console/conversations/{conversation['id']}")
    profile = operator.get_by_test_id("contact-profile")
    expect(profile.get_by_test_id("profile-user")).to_have_text(f"Signed in on the site as {user}")
    expect(profile.locator("dd[data-key=plan]")).to_have_text("gold")
    expect(profile.get_by_test_id("profile-history").locator("li")).to_have_count(1)
    profile.get_by_test_id("profile-key").fill("orders")
    profile.get_by_test_id("profile-value").fill("3")
    profile.get_by_test_id("profile-save").click()
    expect(profile.locator("dd[data-key=orders]")).to_have_text("3")
    profile.get_by_test_id("profile-key").fill("orders")
    profile.get_by_test_id("profile-value").fill("many")
    profile.get_by_test_id("profile-save").click()
    expect(profile.get_by_test_id("profile-notice")).to_contain_text("attributes.orders")

    # a page with a forged hash gets no chat
    refused: list[str] = []
    intruder.on("console", lambda m: refused.append(m.text))
    hellos: list[Any] = []
    intruder.on("websocket", lambda ws: ws.on("framereceived", hellos.append))
    intruder.goto(signed_in_page(server, site, identity_secret, user, hash_="0" * 64))
    intruder.wait_for_function("() => window.Frontline && window.Frontline.version === 1")
    intruder.evaluate("() => window.Frontline.open()")
    intruder.wait_for_timeout(2500)
    assert hellos == []
    assert any("401" in line for line in refused), refused
