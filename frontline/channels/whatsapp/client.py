"""The Graph API calls of the WhatsApp Cloud API channel, with its documented wire format.

``POST /{version}/{phone_number_id}/messages`` sends a message and answers
``{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..."}]}``;
``GET /{version}/{media_id}`` answers the media's short-lived ``url`` (downloaded with the
same bearer token). Errors come as ``{"error": {"message", "type", "code", "error_data":
{"details"}, "fbtrace_id"}}``; the throughput and spam limits come as HTTP 400 with their own
codes, so the code - not only the HTTP status - decides what is retried.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from frontline.channels.base import (
    AuthFailed,
    BadRequest,
    FetchedFile,
    RateLimited,
    Timeout,
    Unavailable,
)
from frontline.channels.http import http_client, json_object, network_error, read_limited

# Graph API error codes that mean "slow down", whatever the HTTP status
# (4: app call limit, 80007: WABA rate limit, 130429: throughput, 131048: spam rate limit,
# 131056: too many messages to one recipient)
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056})
# transient errors on Meta's side (1, 2: unknown/service errors, 131000: something went wrong,
# 131016: service unavailable)
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
# the customer service window is closed: only a template message would go out
WINDOW_CLOSED_CODE = 131047


def graph_error(status: int, body: bytes) -> Exception | None:
    """The closed-set error of a Graph API answer (``None`` when it succeeded)."""
    if status < 300:
        return None
    code: int | None = None
    detail = body.decode("utf-8", "replace")[:300]
    try:
        error = json.loads(body).get("error") or {}
        code = int(error["code"]) if "code" in error else None
        details = (error.get("error_data") or {}).get("details")
        detail = f"{error.get('message', '')}" + (f" ({details})" if details else "")
    except (ValueError, TypeError, AttributeError):
        pass
    text = f"WhatsApp error {code}: {detail}" if code is not None else f"HTTP {status}: {detail}"
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(text)
    if status >= 500 or code in TRANSIENT_CODES:
        return Unavailable(text)
    if status in (401, 403) or code == 190:  # 190: access token expired or invalid
        return AuthFailed(text)
    return BadRequest(text)


class GraphClient:
    """One channel's calls to the Graph API (built per call; holds no connection)."""

    def __init__(self, base_url: str, version: str, access_token: str, timeout: float) -> None:
        self.base = base_url.rstrip("/")
        self.version = version
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def url(self, *parts: str) -> str:
        return "/".join([self.base, self.version, *parts])

    async def post_json(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {**self._headers, "Content-Type": "application/json"}
        _status, answer = await self._call("POST", url, headers, body)
        return json_object(answer, "Graph API")

    async def get_json(self, url: str) -> dict[str, Any]:
        _status, answer = await self._call("GET", url, self._headers, None)
        return json_object(answer, "Graph API")

    async def download(self, url: str, max_bytes: int) -> tuple[bytes, str | None]:
        """The bytes at a media URL (bearer token sent), refused past ``max_bytes``."""
        try:
            async with (
                http_client() as client,
                client.get(url, headers=self._headers, timeout=self._timeout) as response,
            ):
                if response.status >= 300:
                    error = graph_error(response.status, await response.read())
                    assert error is not None
                    raise error
                data = await read_limited(response, max_bytes)
                return bytes(data), response.headers.get("content-type")
        except TimeoutError as exc:
            raise Timeout(f"WhatsApp media download timed out: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(f"WhatsApp media unreachable: {exc!r}") from exc

    async def _call(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        try:
            async with (
                http_client() as client,
                client.request(
                    method, url, data=body, headers=headers, timeout=self._timeout
                ) as response,
            ):
                answer = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise network_error("Graph API", exc) from exc
        error = graph_error(status, answer)
        if error is not None:
            raise error
        return status, answer


async def fetch_media(client: GraphClient, media_id: str, max_bytes: int) -> FetchedFile:
    """Download a media id: its metadata (URL, type, size) first, then the bytes."""
    info = await client.get_json(client.url(media_id))
    url = info.get("url")
    if not isinstance(url, str) or not url:
        raise BadRequest(f"media {media_id} has no URL")
    try:
        declared = int(info.get("file_size") or 0)
    except (TypeError, ValueError):
        declared = 0
    if declared > max_bytes:
        raise BadRequest(f"the file is larger than {max_bytes} bytes")
    data, content_type = await client.download(url, max_bytes)
    mime = info.get("mime_type")
    return FetchedFile(data=data, content_type=mime if isinstance(mime, str) else content_type)
