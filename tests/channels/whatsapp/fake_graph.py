"""A local Graph API speaking the WhatsApp Cloud API's wire format (send message, media
metadata, media download), with scripted failures; and webhook bodies signed as Meta does."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.kit.keepalive import Answer, KeepAliveServer, Request, keepalive_server

PAYLOADS = Path(__file__).parent / "payloads"
PHONE_NUMBER_ID = "106540352242922"
CUSTOMER = "16505551234"
ACCESS_TOKEN = "EAAJB-test-access-token"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "verify-me-please"
VERSION = "v21.0"


def payload(name: str, **replace: Any) -> dict[str, Any]:
    """A recorded webhook body; ``replace`` sets keys of its first message/status."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    value = data["entry"][0]["changes"][0]["value"]
    items = value.get("messages") or value.get("statuses")
    items[0].update(replace)
    return copy.deepcopy(data)


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


@dataclass
class FakeGraph:
    server: KeepAliveServer
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id -> (bytes, mime)
    script: list[Answer] = field(default_factory=list)  # answers to sends, in turn
    sent: int = 0

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def sends(self) -> list[dict[str, Any]]:
        path = f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
        return [r.json() for r in self.requests if r.method == "POST" and r.path == path]

    def answer(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return Answer(401, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
        if request.method == "POST" and request.path == f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
            if self.script:
                return self.script.pop(0)
            self.sent += 1
            to = request.json()["to"]
            return Answer(
                body={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": f"wamid.OUT{self.sent:04d}"}],
                }
            )
        found = re.fullmatch(rf"/{VERSION}/(\d+)", request.path)
        if request.method == "GET" and found and found.group(1) in self.media:
            data, mime = self.media[found.group(1)]
            return Answer(
                body={
                    "messaging_product": "whatsapp",
                    "url": f"{self.base}/whatsapp_business/attachments/?mid={found.group(1)}",
                    "mime_type": mime,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "file_size": str(len(data)),
                    "id": found.group(1),
                }
            )
        found = re.fullmatch(r"/whatsapp_business/attachments/\?mid=(\d+)", request.path)
        if request.method == "GET" and found and found.group(1) in self.media:
            data, mime = self.media[found.group(1)]
            return Answer(body=data, headers={"Content-Type": mime})
        return Answer(404, {"error": {"message": "Unsupported get request.", "code": 100}})


@contextlib.asynccontextmanager
async def fake_graph() -> AsyncIterator[FakeGraph]:
    holder: list[FakeGraph] = []
    async with keepalive_server(lambda r: holder[0].answer(r)) as server:
        holder.append(FakeGraph(server))
        yield holder[0]
