"""A local Telegram Bot API server speaking the documented wire format
(https://core.telegram.org/bots/api#making-requests): ``POST /bot<token>/<method>`` with a
JSON body, answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {"retry_after": S}}``; files at
``GET /file/bot<token>/<file_path>``; ``getUpdates`` long-polls its queue of updates.

Tests script failures per method (``fail``), mark chats that blocked the bot, add files and
updates, and read every call made (``calls``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
ALERT_BOT_TOKEN = "987654321:AAF-alertsBotTokenForStaffChat0001"
BOT_ID = 123456789


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeBotApi:
    token: str = BOT_TOKEN
    base: str = ""
    calls: list[Call] = field(default_factory=list)
    # method -> answers to give first, in turn: (HTTP status, body)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    blocked_chats: set[str] = field(default_factory=set)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id -> (path, data)
    updates: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    next_message_id: int = 1000
    # what getWebhookInfo reports: the URL setWebhook set, Telegram's last delivery error
    webhook_url: str = ""
    webhook_error: tuple[int, str] | None = None  # (unix time, message)
    pending_updates: int = 0
    # methods whose next call is recorded and then left unanswered until ``release`` (a
    # client killed mid-call: Telegram got the request, the client never the answer)
    hold: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def sent_at(self, method: str = "sendMessage") -> list[float]:
        return [c.at for c in self.calls if c.method == method]

    def fail(self, method: str, status: int, description: str, retry_after: int | None = None):
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append((status, body))

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        self.files[file_id] = (path, data)

    def push_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    # --- the protocol ------------------------------------------------------------------

    async def method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        name = request.match_info["method"]
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            return _error(400, "Bad Request: invalid JSON")
        self.calls.append(Call(name, params, time.monotonic()))
        if name in self.hold:
            self.hold.remove(name)
            await self.release.wait()
        scripted = self.failures.get(name)
        if scripted:
            status, body = scripted.pop(0)
            return web.json_response(body, status=status)
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return _error(404, "Not Found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        self.downloads.append(path)
        for file_path, data in self.files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return _error(404, "Not Found")

    async def _setWebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url", ""))
        if url and not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: bad webhook: Failed to resolve host")
        self.webhook_url = url
        return True

    async def _deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        return True

    async def _getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def _getMe(self, params: dict[str, Any]) -> Any:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Frontline", "username": "fl_bot"}

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        chat = str(params.get("chat_id"))
        text = params.get("text")
        if chat in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        if not isinstance(text, str) or not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        self.next_message_id += 1
        result: dict[str, Any] = {
            "message_id": self.next_message_id,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Frontline"},
            "chat": {"id": int(chat), "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if "reply_markup" in params:
            result["reply_markup"] = params["reply_markup"]
        return result

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return True

    async def _getFile(self, params: dict[str, Any]) -> Any:
        found = self.files.get(str(params.get("file_id")))
        if found is None:
            return _error(400, "Bad Request: invalid file_id")
        path, data = found
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"u{abs(hash(path)) % 10**8}",
            "file_size": len(data),
            "file_path": path,
        }

    async def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 2.0)
        while True:
            ready = [u for u in self.updates if u["update_id"] >= offset]
            if ready or time.monotonic() >= deadline:
                # confirmed updates (below offset) are forgotten, as Telegram does
                self.updates = ready
                return ready[: int(params.get("limit") or 100)]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


@asynccontextmanager
async def fake_bot_api(token: str = BOT_TOKEN) -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(token=token)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.method)
    app.router.add_get("/file/bot{token}/{path:.+}", api.file)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.base = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        api.release.set()
        await runner.cleanup()
