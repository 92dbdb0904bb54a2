"""Helpers of the widget's browser tests: a desktop context, the widget's shadow DOM read
as messages, sending, opening the demo, and every socket frame recorded."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Server

ROOT = "document.getElementById('frontline-widget').shadowRoot"
MESSAGES_JS = f"""() => [...{ROOT}.querySelectorAll('.log .msg')].map((e) => ({{
  id: e.dataset.id || null, cls: e.className,
  text: e.querySelector('.body').textContent, html: e.querySelector('.body').innerHTML}}))"""
SHADOW_FOCUS_JS = f"""() => {{
  const host = document.activeElement;
  if (!host || host.id !== 'frontline-widget') return null;
  const el = {ROOT}.activeElement;
  return el ? (el.id || el.className) : null;
}}"""
TIMEOUT = 30_000


def new_context(browser: Browser, locale: str) -> BrowserContext:
    ctx = browser.new_context(locale=locale, viewport={"width": 1100, "height": 800})
    ctx.set_default_timeout(TIMEOUT)
    return ctx


def messages(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(MESSAGES_JS)
    return result


def stored(page: Page) -> list[dict[str, Any]]:
    return [m for m in messages(page) if m["id"] is not None]


def wait_for_text(page: Page, selector: str, needle: str) -> None:
    """Wait until a message matching ``selector`` contains ``needle`` (any kind of space)."""
    page.wait_for_function(
        f"""([selector, needle]) => [...{ROOT}.querySelectorAll(selector)]
          .some((e) => e.textContent.replace(/\\s+/g, ' ').includes(needle))""",
        arg=[selector, needle],
    )


def send(page: Page, text: str) -> None:
    box = page.locator("#fl-input")
    box.fill(text)
    box.press("Enter")


def open_demo(page: Page, server: Server) -> None:
    page.goto(f"{server.base}/demo")
    expect(page.locator(".launcher")).to_be_visible()


def open_chat(page: Page) -> None:
    page.locator(".launcher").click()
    expect(page.locator(".panel")).to_be_visible()
    wait_ready(page)


def wait_ready(page: Page) -> None:
    page.wait_for_function(
        "() => new Promise((ok) => { if (window.__flReady) ok(true); else "
        "addEventListener('frontline:ready', () => ok(true), { once: true }); })"
    )


def track_ready(page: Page) -> None:
    """Record ``frontline:ready`` (a ``hello`` was handled) for :func:`open_chat`."""
    page.add_init_script("addEventListener('frontline:ready', () => { window.__flReady = true; });")


class Frames:
    """Every frame of a page's widget sockets, both directions, parsed."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        ws.on("framereceived", lambda payload: self.received.append(json.loads(payload)))

    def conversation_id(self) -> int:
        for frame in reversed(self.received):
            if frame["type"] == "message.ack":
                return int(frame["data"]["conversation_id"])
        raise AssertionError("no message.ack seen")


def host_page(script: str) -> str:
    return f"<!doctype html><html><head><title>Host</title></head><body>{script}</body></html>"


def widget_tag(server: Server, attributes: str = "", path: str = "/widget.js") -> str:
    return (
        f'<script src="{server.base}{path}" data-key="{server.widget_key}" {attributes} '
        "async></script>"
    )
