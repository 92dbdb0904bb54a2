"""The worker loop: claim due jobs, run their handlers concurrently, settle each one.

A job's outcome is written in its own transaction: ``done`` (unless the handler already
completed it atomically with its effect), back to ``queued`` with backoff after a retryable
failure, or ``dead`` with the error kept (permanent failure, or attempts exhausted; the kind's
``on_dead`` hook runs in that same transaction). A heartbeat extends the lease while a handler
runs; a worker that dies stops renewing and its jobs are claimed again after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from frontline.jobs import queue
from frontline.jobs.registry import JobContext, JobRegistry, LeaseLost
from frontline.jobs.retry import PermanentJobError, RetryAfter, backoff_seconds
from frontline.kit.db import Database
from frontline.kit.metrics import jobs_processed
from frontline.kit.time import utcnow

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        db: Database,
        registry: JobRegistry,
        *,
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        lease_seconds: int = 60,
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
        services: Any = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.services = services
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def ensure_daily(self) -> None:
        """Make sure today's run of every daily job kind is scheduled (idempotent across
        restarts and workers: one job per kind and day)."""
        today = utcnow().date()
        for name in self.registry.names():
            kind = self.registry.get(name)
            if kind is not None and kind.daily_at_utc_hour is not None:
                key, run_at = queue.daily_run(name, kind.daily_at_utc_hour, today)
                await self._schedule(name, key, min(run_at, utcnow()))

    async def _schedule(self, kind: str, key: str, run_at: datetime) -> None:
        # IntegrityError: another worker scheduled the same run at the same moment
        with contextlib.suppress(IntegrityError):
            async with self.db.transaction() as session:
                await queue.schedule_once(session, kind, key, run_at)

    async def run(self) -> None:
        """Run until :meth:`stop`; then wait for the jobs in flight to settle."""
        queue.add_waker(self.wake)
        try:
            await self.ensure_daily()
        except Exception:
            log.exception("scheduling daily jobs failed")
        log.info("worker started", extra={"worker_id": self.worker_id})
        try:
            while not self._stopping.is_set():
                # cleared before claiming: a commit that wakes us during the claim is kept
                self._wake.clear()
                claimed = 0
                free = self.concurrency - len(self._running)
                if free > 0:
                    try:
                        claimed = await self._claim_and_start(free)
                    except Exception:
                        log.exception("claiming jobs failed")
                if claimed and len(self._running) < self.concurrency:
                    continue  # there may be more due work
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            queue.remove_waker(self.wake)
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Process due jobs until none is left (tests, CLI one-shot). Returns jobs run."""
        total = 0
        for _ in range(max_rounds):
            async with self.db.transaction() as session:
                jobs = await queue.claim(
                    session, self.worker_id, self.concurrency, self.lease_seconds
                )
            if not jobs:
                break
            await asyncio.gather(*(self._execute(job) for job in jobs))
            total += len(jobs)
        return total

    async def _claim_and_start(self, limit: int) -> int:
        async with self.db.transaction() as session:
            jobs = await queue.claim(session, self.worker_id, limit, self.lease_seconds)
        for job in jobs:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            # wake the loop so a freed slot is refilled promptly
            task.add_done_callback(lambda _t: self._wake.set())
        return len(jobs)

    async def _heartbeat(self, job_id: int) -> None:
        interval = max(0.5, self.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.db.transaction() as session:
                    if not await queue.extend_lease(
                        session, job_id, self.worker_id, self.lease_seconds
                    ):
                        return
            except Exception:
                log.warning("lease renewal failed", extra={"job_id": job_id}, exc_info=True)

    async def _execute(self, job: queue.ClaimedJob) -> None:
        kind = self.registry.get(job.kind)
        ctx = JobContext(
            job_id=job.id,
            kind=job.kind,
            tenant_id=job.tenant_id,
            payload=job.payload,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            worker_id=self.worker_id,
            db=self.db,
            services=self.services,
        )
        if kind is None:
            await self._settle_dead(ctx, None, f"unknown job kind {job.kind!r}")
            return
        if job.attempts > job.max_attempts:
            # its last worker died holding it, and it has had all its attempts
            await self._settle_dead(ctx, kind.on_dead, "attempts exhausted (worker lost)")
            return
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        try:
            await kind.handler(ctx)
        except LeaseLost:
            log.warning("job lease lost", extra={"job_id": job.id})
            jobs_processed.labels(job.kind, "lease_lost").inc()
            return
        except PermanentJobError as exc:
            await self._settle_dead(ctx, kind.on_dead, str(exc) or type(exc).__name__)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts >= job.max_attempts:
                await self._settle_dead(ctx, kind.on_dead, error)
            else:
                delay = backoff_seconds(job.attempts, self.backoff_base, self.backoff_max)
                if isinstance(exc, RetryAfter):
                    delay = max(delay, min(exc.seconds, self.backoff_max))
                log.info("job will retry", extra={"job_id": job.id, "error": error, "delay": delay})
                async with self.db.transaction() as session:
                    await queue.mark_retry(session, job.id, self.worker_id, error, delay)
                jobs_processed.labels(job.kind, "retry").inc()
            return
        finally:
            heartbeat.cancel()
        if not ctx.completed:
            async with self.db.transaction() as session:
                await queue.mark_done(session, job.id, self.worker_id)
        jobs_processed.labels(job.kind, "done").inc()
        if kind.daily_at_utc_hour is not None:
            tomorrow = utcnow().date() + timedelta(days=1)
            key, run_at = queue.daily_run(job.kind, kind.daily_at_utc_hour, tomorrow)
            await self._schedule(job.kind, key, run_at)

    async def _settle_dead(self, ctx: JobContext, hook: Any, error: str) -> None:
        log.warning("job dead", extra={"job_id": ctx.job_id, "kind": ctx.kind, "error": error})
        try:
            async with self.db.transaction() as session:
                if await queue.mark_dead(session, ctx.job_id, self.worker_id, error) and hook:
                    await hook(session, ctx, error)
        except Exception:
            log.exception("settling a dead job failed", extra={"job_id": ctx.job_id})
        jobs_processed.labels(ctx.kind, "dead").inc()
