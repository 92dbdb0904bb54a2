"""Helpers shared by HTTP-based channel adapters."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import httpx

from frontline.channels.base import AuthFailed, BadRequest, RateLimited, Unavailable
from frontline.kit import tls
from frontline.kit.httpclients import ClientCache, no_cookies

# the outbound clients of every channel and tenant, per event loop (see
# frontline.kit.httpclients): nothing in them is per-tenant (no cookies are kept; URLs,
# headers and timeouts go with each request)
CLIENTS: ClientCache[httpx.AsyncClient] = ClientCache(httpx.AsyncClient.aclose)


def _build_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=tls.default_context(),
        cookies=no_cookies(),
        # no cap on connections across hosts (one slow tenant's endpoint must not make the
        # others' deliveries wait for a free connection; the worker's concurrency bounds
        # them), and enough idle ones kept for a burst of replies to the same hosts
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
    )


def http_client() -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The running loop's shared client, leased for one outbound call (keep-alive
    connections are reused across calls). Pass the timeout with each request."""
    return CLIENTS.lease("outbound", _build_client)


def raise_for_http_status(response: httpx.Response) -> None:
    """Map an HTTP answer onto the closed error set (shared by HTTP-based channels)."""
    status = response.status_code
    if status < 300:
        return
    detail = f"HTTP {status}: {response.text[:200]}"
    if status == 429:
        retry_after = response.headers.get("retry-after")
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
