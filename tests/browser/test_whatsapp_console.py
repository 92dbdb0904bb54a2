"""A WhatsApp conversation in the operator console (headless Chromium against a real
``frontline serve``): a signed Cloud API webhook opens it, the operator's reply goes out
through a local Graph API, and Meta's ``statuses[]`` reports turn its bubble from "sent"
to "delivered" to "read" live, never back."""

from __future__ import annotations

import json
import threading
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
    patient_expect,
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


class Graph:
    """A Graph API in a thread (the server under test is another process)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                ok = self.path == f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
                graph.sent.append(body)
                answer = json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": f"wamid.OUT{len(graph.sent):04d}"}],
                    }
                ).encode()
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


def test_reply_bubble_follows_whatsapp_delivery_reports(
    operator: Page,  # noqa: F811
    server: Server,
    graph: Graph,
) -> None:
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
