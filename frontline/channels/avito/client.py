"""The Avito API calls of the Avito Messenger channel, with its documented wire format.

- ``POST /token`` (form: ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``) answers ``{"access_token", "expires_in", "token_type": "Bearer"}``;
- ``POST /messenger/v3/webhook`` ``{"url"}`` subscribes a URL to new messages
  (``{"ok": true}``);
- ``POST /messenger/v1/accounts/{user_id}/chats/{chat_id}/messages``
  ``{"message": {"text"}, "type": "text"}`` sends a message and answers it with its ``id``.

The access token is cached per process until shortly before it expires and fetched again
when Avito answers 401 (revoked or rotated credentials).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from frontline.channels.base import AuthFailed, FetchedFile, Timeout, Unavailable
from frontline.channels.http import (
    http_client,
    json_object,
    network_error,
    raise_for_http_status,
    read_limited,
)

# a token is used until this long before Avito says it expires
EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # time.monotonic()


class TokenCache:
    """Access tokens by credentials (a hash of them: the secret is not kept as a key),
    shared by every call in the process; one fetch at a time per credentials."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, key: str) -> str | None:
        token = self._tokens.get(key)
        if token is None or token.expires_at <= time.monotonic():
            return None
        return token.value

    def put(self, key: str, value: str, expires_in: float) -> None:
        expires = time.monotonic() + max(0.0, expires_in - EXPIRY_MARGIN_SECONDS)
        self._tokens[key] = _Token(value, expires)

    def drop(self, key: str, value: str) -> None:
        if (token := self._tokens.get(key)) is not None and token.value == value:
            del self._tokens[key]

    def clear(self) -> None:
        self._tokens.clear()

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


TOKENS = TokenCache()


class AvitoClient:
    """One channel's calls to the Avito API (built per call; holds no connection)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
        tokens: TokenCache = TOKENS,
    ) -> None:
        self.base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._tokens = tokens
        material = f"{self.base}\n{client_id}\n{client_secret}".encode()
        self._key = hashlib.sha256(material).hexdigest()

    async def token(self) -> str:
        cached = self._tokens.get(self._key)
        if cached is not None:
            return cached
        async with self._tokens.lock(self._key):
            cached = self._tokens.get(self._key)
            if cached is not None:
                return cached
            form = {
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            }
            status, body = await self._raw("POST", "/token", data=form, headers={})
            if status in (400, 401, 403):
                raise AuthFailed(f"Avito refused the client credentials: HTTP {status}")
            raise_for_http_status(status, body.decode("utf-8", "replace"), {})
            data = json_object(body, "Avito API")
            value = data.get("access_token")
            if not isinstance(value, str) or not value:
                raise Unavailable("Avito answered no access_token")
            try:
                expires_in = float(data.get("expires_in") or 3600)
            except (TypeError, ValueError):
                expires_in = 3600.0
            self._tokens.put(self._key, value, expires_in)
            return value

    async def call(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An authorised JSON call; on 401 the token is fetched again and the call repeated
        once."""
        for attempt in (1, 2):
            token = await self.token()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            body = json.dumps(payload, ensure_ascii=False).encode()
            status, answer = await self._raw(method, path, data=body, headers=headers)
            if status == 401 and attempt == 1:
                self._tokens.drop(self._key, token)
                continue
            raise_for_http_status(status, answer.decode("utf-8", "replace"), {})
            return json_object(answer, "Avito API") if answer.strip() else {}
        raise AssertionError("unreachable")

    async def download(self, url: str, max_bytes: int) -> FetchedFile:
        """A file at a URL Avito gave (a message's image), refused past ``max_bytes``."""
        try:
            async with (
                http_client() as client,
                client.get(url, timeout=self._timeout) as response,
            ):
                if response.status >= 300:
                    raise_for_http_status(response.status, "", response.headers)
                data = await read_limited(response, max_bytes)
                return FetchedFile(bytes(data), response.headers.get("content-type"))
        except TimeoutError as exc:
            raise Timeout(f"Avito file download timed out: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise Unavailable(f"Avito file unreachable: {exc!r}") from exc

    async def _raw(
        self, method: str, path: str, *, data: Any, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        try:
            async with (
                http_client() as client,
                client.request(
                    method, self.base + path, data=data, headers=headers, timeout=self._timeout
                ) as response,
            ):
                answer = await response.read()
                retry_after = response.headers.get("retry-after")
                if response.status == 429:
                    # keep Retry-After for the job's backoff
                    raise_for_http_status(
                        429, answer.decode("utf-8", "replace"), {"retry-after": retry_after or ""}
                    )
                return response.status, answer
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise network_error("Avito API", exc) from exc
