"""The widget embedded on a customer's own site (see ``conftest.py``): data attributes and
the JS API, colours, allowed origins, a strict content security policy, a phone's screen,
the length limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, expect

from frontline.channels.web.adapter import DEFAULT_MAX_MESSAGE_CHARS
from tests.browser.conftest import Server, Site
from tests.browser.widget_kit import (
    SHADOW_FOCUS_JS,
    TIMEOUT,
    host_page,
    new_context,
    open_chat,
    open_demo,
    send,
    track_ready,
    wait_for_text,
    wait_ready,
    widget_tag,
)


def test_a_customer_site_embeds_it_with_data_attributes_and_the_js_api(
    browser: Browser, server: Server, site: Site
) -> None:
    context = new_context(browser, "ru-RU")
    try:
        page = context.new_page()
        track_ready(page)
        attributes = 'data-language="en" data-color="#dc2626" data-position="left" data-open="true"'
        url = site.put(
            "/attributes.html", host_page(widget_tag(server, attributes, "/static/widget.js"))
        )
        page.goto(url)
        panel = page.locator(".panel")
        expect(panel).to_be_visible()  # data-open
        assert page.evaluate(SHADOW_FOCUS_JS) is None  # opening at load does not steal focus
        launcher = page.locator(".launcher")
        assert launcher.evaluate("(e) => getComputedStyle(e).backgroundColor") == "rgb(220, 38, 38)"
        box = launcher.bounding_box()
        assert box is not None and box["x"] < 100  # on the left
        expect(page.locator("#fl-input")).to_have_attribute("placeholder", "Type a message…")

        # cross-origin: the session (CORS) and the socket (Origin check) accept this site
        wait_ready(page)
        send(page, "Hello from a customer's site")
        wait_for_text(page, ".log .msg.contact[data-id]", "customer's site")

        page.evaluate(
            "() => { window.__events = []; for (const n of ['open', 'close']) "
            "addEventListener('frontline:' + n, () => window.__events.push(n)); }"
        )
        page.evaluate("() => window.Frontline.close()")
        expect(panel).to_be_hidden()
        page.evaluate("() => window.Frontline.open()")
        expect(panel).to_be_visible()
        assert page.evaluate("() => window.Frontline.isOpen()") is True
        assert page.evaluate("() => window.__events") == ["close", "open"]
    finally:
        context.close()


def test_an_invalid_colour_is_ignored(context: BrowserContext, server: Server, site: Site) -> None:
    page = context.new_page()
    url = site.put(
        "/colour.html",
        host_page(widget_tag(server, 'data-color="red;background:url(https://evil.example)"')),
    )
    page.goto(url)
    launcher = page.locator(".launcher")
    expect(launcher).to_be_visible()
    # the channel's colour (#2563eb), not the attribute
    assert launcher.evaluate("(e) => getComputedStyle(e).backgroundColor") == "rgb(37, 99, 235)"


def test_a_site_outside_the_allowed_origins_gets_no_chat(
    context: BrowserContext, server: Server, site: Site
) -> None:
    page = context.new_page()
    track_ready(page)
    hellos: list[Any] = []
    page.on("websocket", lambda ws: ws.on("framereceived", hellos.append))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    url = site.put("/foreign.html", host_page(widget_tag(server)))
    page.goto(url.replace("127.0.0.1", "localhost"))  # another origin, same server
    page.wait_for_function("() => !!document.getElementById('frontline-widget')")
    page.wait_for_function("() => window.Frontline && window.Frontline.version === 1")
    page.evaluate("() => window.Frontline.open()")
    page.wait_for_timeout(2500)
    assert hellos == []  # never connected
    assert any("CORS" in line or "403" in line for line in console), console
    assert page.evaluate("() => !!window.__flReady") is False


def test_the_widget_works_under_a_strict_content_security_policy(
    context: BrowserContext, server: Server, site: Site
) -> None:
    """The guide's CSP: Frontline allowed for scripts and connections, no inline styles."""
    page = context.new_page()
    track_ready(page)
    ws_origin = server.base.replace("http://", "ws://")
    csp = (
        f"default-src 'none'; script-src {server.base}; "
        f"connect-src {server.base} {ws_origin}; style-src 'none'; img-src 'none'"
    )
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    url = site.put("/csp.html", host_page(widget_tag(server)), {"Content-Security-Policy": csp})
    page.goto(url)
    launcher = page.locator(".launcher")
    expect(launcher).to_be_visible()
    assert launcher.evaluate("(e) => getComputedStyle(e).position") == "fixed"  # styled
    open_chat(page)
    send(page, "Hello under CSP")
    wait_for_text(page, ".log .msg.contact[data-id]", "Hello under CSP")
    assert violations == []


def test_on_a_phone_the_panel_fills_the_screen(
    browser: Browser, server: Server, artifacts: Path
) -> None:
    context = browser.new_context(
        locale="en-US",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",  # no opening animation
    )
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        track_ready(page)
        open_demo(page, server)
        page.locator(".launcher").tap()
        panel = page.locator(".panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
        expect(page.locator(".head .x")).to_be_visible()
        page.screenshot(path=str(artifacts / "widget-phone.png"))
        page.locator(".head .x").tap()
        expect(panel).to_be_hidden()
    finally:
        context.close()


def test_the_too_long_error_clears_once_the_text_fits(
    context: BrowserContext, server: Server
) -> None:
    """Issue 14: the "too long" error went on showing after the visitor shortened the text."""
    page = context.new_page()
    track_ready(page)
    open_demo(page, server)
    open_chat(page)
    limit = DEFAULT_MAX_MESSAGE_CHARS  # the demo web channel keeps the default
    send(page, "x" * (limit + 50))
    error = page.locator(".err")
    expect(error).to_be_visible()
    expect(error).to_contain_text("too long")
    page.locator("#fl-input").fill("x" * 10)
    expect(error).to_be_hidden()
    # while the text is still too long, the error stays
    send(page, "x" * (limit + 50))
    expect(error).to_be_visible()
    page.locator("#fl-input").fill("x" * (limit + 10))
    expect(error).to_be_visible()
