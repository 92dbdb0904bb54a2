"""Helpers of the job-queue tests: test job kinds on a fresh registry, a real worker, and
waits bounded by ``WAIT``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.deps import Services
from frontline.jobs.queue import enqueue
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.worker import Worker
from frontline.kit.time import utcnow
from frontline.models import Job

WAIT = 20.0  # upper bound of every wait in this module, seconds


class Boom(Exception):
    pass


# -- helpers --------------------------------------------------------------------------------


async def load(services: Services, job_id: int) -> Job:
    async with services.db.transaction() as s:
        job = await s.get(Job, job_id)
        assert job is not None, f"job {job_id} does not exist"
        return job


async def count_jobs(services: Services, kind: str | None = None) -> int:
    async with services.db.transaction() as s:
        stmt = select(func.count()).select_from(Job)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        return int((await s.execute(stmt)).scalar_one())


async def add_job(
    services: Services, kind: str, payload: dict[str, Any] | None = None, **kw: Any
) -> int:
    async with services.db.transaction() as s:
        job = enqueue(s, kind, payload or {}, **kw)
        await s.flush()
        return job.id


async def expire_lease(services: Services, job_id: int) -> None:
    """What the passing of time does to the lease of a worker that died."""
    async with services.db.transaction() as s:
        await s.execute(
            update(Job).where(Job.id == job_id).values(locked_until=utcnow() - timedelta(seconds=1))
        )


def make_worker(services: Services, registry: JobRegistry, **kw: Any) -> Worker:
    options: dict[str, Any] = {
        "concurrency": 4,
        "poll_seconds": 0.05,
        "lease_seconds": 30,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "worker_id": "test-worker",
    }
    options.update(kw)
    return Worker(services.db, registry, **options)


async def run_until(
    services: Services, worker: Worker, job_id: int, statuses: set[str], timeout: float = WAIT
) -> Job:
    """Run the worker (one-shot rounds, so backoff delays elapse in between) until the job
    reaches one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        await worker.run_until_idle()
        job = await load(services, job_id)
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.status} after {timeout}s"
        await asyncio.sleep(0.02)


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        await asyncio.sleep(0.02)


class Wakes:
    """Counts wake-ups of local workers (a real waker, registered like a worker's)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


class Recorder:
    """A test job kind: its handler and ``on_dead`` hook, recording what they saw."""

    def __init__(self, fail: Callable[[JobContext], Exception | None] = lambda _ctx: None) -> None:
        self.fail = fail
        self.attempts: list[int] = []
        self.dead: list[tuple[int, str, str | None]] = []

    async def handler(self, ctx: JobContext) -> None:
        self.attempts.append(ctx.attempt)
        exc = self.fail(ctx)
        if exc is not None:
            raise exc

    async def on_dead(self, session: AsyncSession, ctx: JobContext, error: str) -> None:
        # the hook's session is the transaction that marked the job dead: it sees that
        status = (
            await session.execute(select(Job.status).where(Job.id == ctx.job_id))
        ).scalar_one()
        self.dead.append((ctx.job_id, error, status))
        enqueue(session, "test.dead-letter", {"of": ctx.job_id}, delay_seconds=3600)

    def registry(self, name: str = "test.kind") -> JobRegistry:
        registry = JobRegistry()
        registry.register(JobKind(name, self.handler, on_dead=self.on_dead))
        return registry
