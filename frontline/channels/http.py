"""Helpers shared by HTTP-based channel adapters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp

from frontline.channels.base import (
    AuthFailed,
    BadRequest,
    ChannelError,
    RateLimited,
    Timeout,
    Unavailable,
)
from frontline.kit import tls
from frontline.kit.httpclients import ClientCache, aiohttp_session

# the outbound sessions of every channel and tenant, per event loop (see
# frontline.kit.httpclients): nothing in them is per-tenant (no cookies are kept; URLs,
# headers and timeouts go with each request)
CLIENTS: ClientCache[aiohttp.ClientSession] = ClientCache(aiohttp.ClientSession.close)


def _build_client() -> aiohttp.ClientSession:
    # no cap on connections across hosts: one slow tenant's endpoint must not make the
    # others' deliveries wait for a free connection (the worker's concurrency bounds them)
    return aiohttp_session(tls.default_context(), limit=0)


def http_client() -> AbstractAsyncContextManager[aiohttp.ClientSession]:
    """The running loop's shared session, leased for one outbound call (keep-alive
    connections are reused across calls). Pass the timeout with each request."""
    return CLIENTS.lease("outbound", _build_client)


def network_error(who: str, exc: BaseException) -> ChannelError:
    """A failed HTTP call without an answer, as the channel error to raise: a refused or
    failed connection sent nothing (retried as usual); a timeout or a connection lost
    later may have delivered the request (``may_have_arrived``)."""
    if isinstance(exc, TimeoutError):
        return Timeout(f"{who} timed out")
    error = Unavailable(f"{who} unreachable: {type(exc).__name__}")
    error.may_have_arrived = not isinstance(exc, aiohttp.ClientConnectorError)
    return error


def raise_for_http_status(status: int, text: str, headers: Mapping[str, str]) -> None:
    """Map an HTTP answer (``headers`` looked up case-insensitively, as aiohttp's are) onto
    the closed error set (shared by HTTP-based channels)."""
    if status < 300:
        return
    detail = f"HTTP {status}: {text[:200]}"
    if status == 429:
        retry_after = headers.get("retry-after")
        try:
            seconds = float(retry_after) if retry_after else None
        except ValueError:
            seconds = None
        raise RateLimited(detail, retry_after=seconds)
    if status >= 500:
        raise Unavailable(detail)
    if status in (401, 403):
        raise AuthFailed(detail)
    raise BadRequest(detail)


async def read_limited(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """A response body read in chunks, refused (:class:`BadRequest`) past ``max_bytes``
    - before reading when the declared length already says so (provider file downloads)."""
    too_large = BadRequest(f"the file is larger than {max_bytes} bytes")
    if response.content_length and response.content_length > max_bytes:
        raise too_large
    data = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        data += chunk
        if len(data) > max_bytes:
            raise too_large
    return bytes(data)


def json_object(body: bytes, who: str) -> dict[str, Any]:
    """A provider's JSON object answer; anything else is :class:`Unavailable` (a broken
    proxy or an outage page, worth retrying)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise Unavailable(f"{who} answered no JSON: {body[:200]!r}") from exc
    if not isinstance(data, dict):
        raise Unavailable(f"{who} answered no JSON object")
    return data
