"""Telegram calls made by jobs: channel errors as the job queue's retry decisions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from frontline.channels.base import ChannelError, RateLimited
from frontline.jobs.retry import PermanentJobError, RetryAfter


@contextmanager
def job_retry_policy() -> Iterator[None]:
    """429 -> retry after Telegram's ``retry_after``; transient errors (5xx, network) ->
    retried with backoff; anything else (403 blocked, 400, 401) -> the job fails with it."""
    try:
        yield
    except RateLimited as exc:
        raise RetryAfter(str(exc), exc.retry_after or 0.0) from exc
    except ChannelError as exc:
        if exc.transient:
            raise
        raise PermanentJobError(f"{type(exc).__name__}: {exc}") from exc
