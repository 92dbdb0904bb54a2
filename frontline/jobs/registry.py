"""Job kinds and their handlers. Domains register thin handlers (load by id, call service)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.db import Database


@dataclass
class JobContext:
    """What a handler gets: the job's identity and payload, and the database.

    Handlers open their own transactions with ``ctx.db.transaction()`` (they must not hold
    one across network calls). A handler that writes the effect of the job in a transaction
    should call :meth:`complete_in` inside that same transaction, which makes the effect and
    the job's completion atomic: a worker killed before the commit leaves neither.
    """

    job_id: int
    kind: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    worker_id: str
    db: Database
    services: Any = None
    _completed: bool = field(default=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        return f"job-{self.job_id}"

    async def complete_in(self, session: AsyncSession) -> None:
        from frontline.jobs.queue import mark_done

        if not await mark_done(session, self.job_id, self.worker_id):
            raise LeaseLost(f"job {self.job_id} is no longer held by {self.worker_id}")
        self._completed = True

    @property
    def completed(self) -> bool:
        return self._completed


class LeaseLost(Exception):
    """The job's lease expired and another worker took it: abandon without side effects."""


Handler = Callable[[JobContext], Awaitable[None]]
DeadHook = Callable[[AsyncSession, JobContext, str], Awaitable[None]]
# runs in the transaction that re-queues a dead job: (session, tenant id, payload)
RequeueHook = Callable[[AsyncSession, uuid.UUID | None, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    on_dead: DeadHook | None = None
    on_requeue: RequeueHook | None = None
    # run once a day at this UTC hour (workers keep one run scheduled; see Worker)
    daily_at_utc_hour: int | None = None


class JobRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}

    def register(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)
