"""The job queue's plain types, shared by the queue and the handler context.

Kept apart so that :mod:`frontline.jobs.queue` (SQL) and :mod:`frontline.jobs.registry`
(handlers and their context) do not import each other: the registry uses the queue, and
the queue needs only these.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class FollowUp:
    """A job to enqueue held by the current worker (see :meth:`JobContext.enqueue_held`)."""

    kind: str
    payload: dict[str, Any]
    tenant_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    max_attempts: int = 8


# runs in the transaction that re-queues a dead job: (session, tenant id, payload)
RequeueHook = Callable[[AsyncSession, uuid.UUID | None, dict[str, Any]], Awaitable[None]]
