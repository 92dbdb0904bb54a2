"""Retry policy: which failures are retried, and when."""

from __future__ import annotations

import random


class PermanentJobError(Exception):
    """A failure that retrying cannot fix (bad request, missing configuration): the job goes
    ``dead`` at once with this message. Every other exception is retried with backoff."""


def backoff_seconds(
    attempt: int, base: float, maximum: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter for the retry after ``attempt`` (1-based).

    The delay doubles per attempt up to ``maximum``; the actual wait is drawn uniformly from
    the upper half of that window ("equal jitter"), so retries of many jobs that failed
    together spread out but none retries immediately.
    """
    # the exponent is capped: 2.0 ** 1024 would raise OverflowError for huge attempt numbers
    ceiling = min(maximum, base * (2.0 ** min(max(0, attempt - 1), 1023)))
    r = rng or random
    return ceiling / 2 + r.uniform(0, ceiling / 2)


class RetryAfter(Exception):
    """A transient failure whose source said when to come back (e.g. HTTP 429 Retry-After)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds
