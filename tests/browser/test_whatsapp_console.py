"""A WhatsApp conversation in the operator console (headless Chromium against a real
``frontline serve``): a signed Cloud API webhook opens it, the operator's reply goes out
through a local Graph API, and Meta's ``statuses[]`` reports turn its bubble from "sent"
to "delivered" to "read" live, never back."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.test_handoff_e2e import (  # noqa: F401  (fixtures)
    console_login,
    console_message,
    operator,
)
from tests.channels.whatsapp.fake_graph import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    VERSION,
    payload,
    sign,
)

REPLY = "Yes, it also comes in navy blue."
HOLD_SECONDS = 12.0  # past the server's default outbound timeout (10 s)


class Graph:
    """A Graph API in a thread (the server under test is another process)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        # the next send of this text is taken and answered only after the server's
        # outbound timeout (10 s): the server cannot know whether it arrived
        self.hold_text: str | None = None
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = self.path == f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
                graph.sent.append(body)
                if (
                    graph.hold_text is not None
                    and body.get("text", {}).get("body") == graph.hold_text
                ):
                    graph.hold_text = None
                    time.sleep(HOLD_SECONDS)
                answer = json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.OUT{len(graph.sent):04d}"}],
                    }
                ).encode()
                with contextlib.suppress(OSError):  # a client that gave up waiting
                    self.send_response(200 if ok else 404)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def wamid_of(self, message_id: int) -> str | None:
        for number, body in enumerate(self.sent, 1):
            if body.get("biz_opaque_callback_data") == f"frontline:{message_id}":
                return f"wamid.OUT{number:04d}"
        return None


@pytest.fixture(scope="module")
def graph() -> Iterator[Graph]:
    fake = Graph()
    thread = threading.Thread(target=fake.httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()
    thread.join(timeout=5)


def webhook(server: Server, channel_id: str, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    r = httpx.post(
        f"{server.base}/api/v1/webhooks/whatsapp/{channel_id}", content=raw, headers=sign(raw)
    )
    assert r.status_code == 200, r.text


def whatsapp_conversation(server: Server, graph: Graph) -> tuple[str, int, str]:
    """A WhatsApp channel and a customer's conversation on it: (channel id, conversation
    id, the customer's number)."""
    admin = server.token("admin")
    config = {
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_base_url": graph.base,
    }
    r = server.api(
        "POST", "/channels", admin, json={"type": "whatsapp", "name": "WA", "config": config}
    )
    assert r.status_code == 201, r.text
    channel_id = r.json()["id"]
    customer = str(16505550000 + uuid.uuid4().int % 9999)
    body = payload("text", id=f"wamid.IN-{uuid.uuid4().hex}", **{"from": customer})
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = customer
    webhook(server, channel_id, body)
    token = server.token()
    r = server.api("GET", "/conversations", token, params={"channel_id": channel_id})
    [conversation] = r.json()["items"]
    return channel_id, int(conversation["id"]), customer


def test_reply_bubble_follows_whatsapp_delivery_reports(
    operator: Page,  # noqa: F811
    server: Server,
    graph: Graph,
) -> None:
    channel_id, conversation_id, customer = whatsapp_conversation(server, graph)
    conversation = {"id": conversation_id}
    token = server.token()

    console_login(operator, server)
    operator.goto(f"{server.base}/console/conversations/{conversation['id']}")
    expect(operator.get_by_test_id("conv-channel")).to_contain_text("WhatsApp")
    expect(console_message(operator, "contact", "another color")).to_have_count(1)
    operator.get_by_test_id("reply-text").fill(REPLY)
    operator.get_by_test_id("reply-send").click()
    bubble = console_message(operator, "operator", REPLY)
    expect(bubble.locator(".delivery")).to_have_text("sent")

    r = server.api("GET", f"/conversations/{conversation['id']}/messages", token)
    [reply] = [m for m in r.json() if m["text"] == REPLY]
    wamid = graph.wamid_of(reply["id"])
    assert wamid is not None
    assert reply["external_id"] == wamid
    for status, shown in (("delivered", "delivered"), ("read", "read"), ("delivered", "read")):
        report = payload("statuses", id=wamid, status=status, recipient_id=customer)
        webhook(server, channel_id, report)
        expect(bubble.locator(".delivery")).to_have_text(shown)
    expect(bubble.locator(".delivery")).to_have_class("delivery delivery-read")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_unanswered_send_shows_unknown_and_the_operator_resends(
    operator: Page,  # noqa: F811
    server: Server,
    graph: Graph,
    lang: str,
) -> None:
    _channel_id, conversation_id, _customer = whatsapp_conversation(server, graph)
    console_login(operator, server)
    operator.goto(f"{server.base}/console/conversations/{conversation_id}?lang={lang}")
    text = f"Navy blue is in stock ({lang})."
    graph.hold_text = text

    def sends() -> int:
        return len([b for b in graph.sent if b.get("text", {}).get("body") == text])

    operator.get_by_test_id("reply-text").fill(text)
    operator.get_by_test_id("reply-send").click()
    bubble = console_message(operator, "operator", text)
    unknown = {"en": "delivery unknown", "ru": "доставка неизвестна"}[lang]
    help_start = {"en": "The send was interrupted", "ru": "Отправка прервалась"}[lang]
    # the server's outbound timeout (10 s) runs out first
    expect(bubble.get_by_test_id("delivery")).to_have_text(unknown, timeout=30_000)
    expect(bubble.get_by_test_id("delivery-unknown")).to_contain_text(help_start)
    assert sends() == 1  # taken once, not repeated by itself
    resend = bubble.get_by_test_id("resend")
    expect(resend).to_have_text({"en": "Resend", "ru": "Отправить ещё раз"}[lang])
    resend.click()
    sent = {"en": "sent", "ru": "отправлено"}[lang]
    expect(bubble.get_by_test_id("delivery")).to_have_text(sent)
    expect(bubble.get_by_test_id("delivery-unknown")).to_have_count(0)
    assert sends() == 2
