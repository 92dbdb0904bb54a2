"""A small client of the Telegram Bot API (https://core.telegram.org/bots/api).

Every method is ``POST {api_base_url}/bot<token>/<method>`` with a JSON body; the answer is
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": "...",
"parameters": {"retry_after": S}}``. Files are downloaded from
``{api_base_url}/file/bot<token>/<file_path>`` (the path ``getFile`` returned). Failures map
onto the channel error set: 429 -> :class:`RateLimited` with ``retry_after``, 5xx and network
errors -> :class:`Unavailable`/:class:`Timeout`, 401 -> :class:`AuthFailed` (bad token),
403 -> :class:`Forbidden` (the user blocked the bot: final), other 4xx -> :class:`BadRequest`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from frontline.channels.base import (
    AuthFailed,
    BadRequest,
    RateLimited,
    Timeout,
    Unavailable,
)
from frontline.channels.http import http_client, network_error

DEFAULT_API_BASE = "https://api.telegram.org"
# getFile serves files up to 20 MB (Bot API limit)
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class Forbidden(BadRequest):
    """403: the bot may not write to this chat (blocked by the user, kicked): final."""


class BotApi:
    """One bot's API, built per call from the channel config; holds no connection."""

    def __init__(self, token: str, base_url: str = DEFAULT_API_BASE, timeout: float = 10.0):
        self._token = token
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def method_url(self, method: str) -> str:
        return f"{self._base}/bot{self._token}/{method}"

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, wait: float | None = None
    ) -> Any:
        """Call ``method`` with ``params`` as JSON; the ``result`` of a successful answer."""
        body = json.dumps(params or {}, ensure_ascii=False).encode()
        limit = aiohttp.ClientTimeout(total=wait or self._timeout)
        try:
            async with (
                http_client() as client,
                client.post(
                    self.method_url(method),
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=limit,
                ) as response,
            ):
                raw = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise network_error(f"Telegram {method}", exc) from exc
        return _result(method, status, raw)

    async def download(self, file_path: str, max_bytes: int) -> bytes:
        """The file ``getFile`` pointed at; :class:`BadRequest` past ``max_bytes``."""
        url = f"{self._base}/file/bot{self._token}/{file_path.lstrip('/')}"
        limit = aiohttp.ClientTimeout(total=max(self._timeout, 60.0))
        try:
            async with (
                http_client() as client,
                client.get(url, timeout=limit) as response,
            ):
                if response.status >= 300:
                    raw = await response.read()
                    _raise(f"file {file_path}", response.status, _decode(raw))
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise BadRequest(f"the file is larger than {max_bytes} bytes")
                    chunks.append(chunk)
        except TimeoutError as exc:
            raise Timeout("Telegram file download timed out") from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(f"Telegram file download failed: {type(exc).__name__}") from exc
        return b"".join(chunks)


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _result(method: str, status: int, raw: bytes) -> Any:
    data = _decode(raw)
    if status < 300 and data.get("ok") is True:
        return data.get("result")
    if status < 300:
        error = Unavailable(f"Telegram {method}: unexpected answer {raw[:200]!r}")
        error.may_have_arrived = True  # a success status: the call may have been carried out
        raise error
    _raise(method, status, data)


def _raise(method: str, status: int, data: dict[str, Any]) -> None:
    code = data.get("error_code", status)
    description = str(data.get("description") or f"HTTP {status}")[:300]
    detail = f"Telegram {method} {code}: {description}"
    if status == 429:
        params = data.get("parameters")
        retry = params.get("retry_after") if isinstance(params, dict) else None
        raise RateLimited(detail, retry_after=float(retry) if isinstance(retry, int) else None)
    if status >= 500:
        raise Unavailable(detail)
    if status == 401:
        raise AuthFailed(detail)
    if status == 403:
        raise Forbidden(detail)
    raise BadRequest(detail)
