"""Helpers shared by HTTP-based channel adapters."""

from __future__ import annotations

import httpx

from frontline.channels.base import AuthFailed, BadRequest, RateLimited, Unavailable


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
