"""A local Avito API speaking its wire format (client-credentials token, webhook
subscription, messenger send, image renditions), with scripted failures."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.kit.keepalive import Answer, KeepAliveServer, Request, keepalive_server

PAYLOADS = Path(__file__).parent / "payloads"
CLIENT_ID = "avito-client-id"
CLIENT_SECRET = "avito-client-secret"
USER_ID = 94235311
CHAT = "u2i-PJIRO8q3Tm2pS6JT~Ua5Eg"
ITEM = "1768287444"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x01" * 300


@dataclass
class FakeAvito:
    server: KeepAliveServer
    valid_tokens: set[str] = field(default_factory=set)
    issued: int = 0
    sent: int = 0
    script: list[Answer] = field(default_factory=list)  # answers to sends, in turn
    subscriptions: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.base

    def payload(self, name: str, **value: Any) -> dict[str, Any]:
        """A recorded notification; ``value`` sets keys of ``payload.value``."""
        raw = (PAYLOADS / f"{name}.json").read_text().replace("IMAGE_BASE", f"{self.base}/img")
        data: dict[str, Any] = json.loads(raw)
        data["payload"]["value"].update(value)
        return copy.deepcopy(data)

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    def sends(self) -> list[Request]:
        path = f"/messenger/v1/accounts/{USER_ID}/chats/{urllib.parse.quote(CHAT)}/messages"
        return [
            r
            for r in self.server.requests
            if r.method == "POST" and _unquote(r.path) == _unquote(path)
        ]

    def token_calls(self) -> list[Request]:
        return [r for r in self.server.requests if r.path == "/token"]

    def answer(self, request: Request) -> Answer:
        if request.path == "/token" and request.method == "POST":
            form = urllib.parse.parse_qs(request.body.decode())
            if form != {
                "grant_type": ["client_credentials"],
                "client_id": [CLIENT_ID],
                "client_secret": [CLIENT_SECRET],
            }:
                return Answer(400, {"error": "invalid_client"})
            self.issued += 1
            token = f"token-{self.issued}"
            self.valid_tokens.add(token)
            return Answer(body={"access_token": token, "expires_in": 86400, "token_type": "Bearer"})
        if request.path.startswith("/img/"):
            return Answer(body=JPEG, headers={"Content-Type": "image/jpeg"})
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return Answer(401, {"error": {"code": 401, "message": "Unauthorized"}})
        if request.path == "/messenger/v3/webhook" and request.method == "POST":
            self.subscriptions.append(request.json()["url"])
            return Answer(body={"ok": True})
        found = re.fullmatch(r"/messenger/v1/accounts/(\d+)/chats/([^/]+)/messages", request.path)
        if found and request.method == "POST":
            if self.script:
                return self.script.pop(0)
            self.sent += 1
            text = request.json()["message"]["text"]
            return Answer(
                body={
                    "id": f"out-{self.sent}",
                    "created": 1733520900,
                    "direction": "out",
                    "type": "text",
                    "content": {"text": text},
                }
            )
        return Answer(404, {"error": {"code": 404, "message": "not found"}})


def _unquote(path: str) -> str:
    return urllib.parse.unquote(path)


@contextlib.asynccontextmanager
async def fake_avito() -> AsyncIterator[FakeAvito]:
    holder: list[FakeAvito] = []
    async with keepalive_server(lambda r: holder[0].answer(r)) as server:
        holder.append(FakeAvito(server))
        yield holder[0]
