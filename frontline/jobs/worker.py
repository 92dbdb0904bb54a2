"""The worker loop: claim due jobs, run their handlers concurrently, settle each one.

A job's outcome is written in its own transaction: ``done`` (unless the handler already
completed it atomically with its effect), back to ``queued`` with backoff after a retryable
failure, or ``dead`` with the error kept (permanent failure, or attempts exhausted; the kind's
``on_dead`` hook runs in that same transaction). The worker renews the leases of every job it
holds - running, or a held follow-up waiting for its turn - in one statement every third of
the lease; a worker that dies stops renewing and its jobs are claimed again after the lease.
A live worker never claims a job it holds itself, even when a renewal came late and the
lease ran out (a blocked event loop, a slow database): the lease is how other workers tell
a dead worker, not a reason for a second copy of the job in the same process.

Follow-up jobs a handler enqueued *held* (``JobContext.enqueue_held``: leased to this worker
in the handler's transaction) run right after their parent, in the parent's task and slot:
no claim round trip, no wake-up, and the concurrency count stays honest (one slot runs one
job at a time). A running loop also takes jobs handed over by code of its own process
(``queue.insert(..., run_locally=True)``): a free slot is reserved before the job is
inserted leased to this worker, and the job starts when its transaction commits (the slot
is freed if it rolls back).

Settling needs the database: when it is unreachable (a restart, a failover) the settling
transaction is tried again with backoff while the job's lease lasts, so the job goes back to
the queue as soon as the database returns instead of waiting out its lease; if the lease
runs out first, another worker claims the job again as for a dead worker.

The loop claims when woken by a local commit, every ``poll_seconds`` (jobs of other
processes, delayed retries), and when a job ends while the last claim may have left due
work behind (it filled every free slot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.jobs import queue
from frontline.jobs.registry import JobContext, JobRegistry, LeaseLost
from frontline.jobs.retry import PermanentJobError, RetryAfter, backoff_seconds
from frontline.jobs.types import ClaimedJob
from frontline.kit.db import Database, is_unavailable
from frontline.kit.metrics import jobs_processed
from frontline.kit.time import utcnow

log = logging.getLogger(__name__)

# how long a stopping worker waits for jobs handed over whose transaction is committing
HANDOVER_PATIENCE_SECONDS = 30.0
# first and longest pause between tries of a settling transaction the database refused
SETTLE_RETRY_FIRST_SECONDS = 0.2
SETTLE_RETRY_MAX_SECONDS = 2.0


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
        self._running: set[asyncio.Task[int]] = set()
        self._reserved = 0  # slots promised to jobs handed over, not yet started
        self._may_have_more = False  # the last claim filled every free slot
        self._accepting = False  # the loop runs: it may take jobs handed over
        # jobs this worker holds in the process (claimed, handed over, held follow-ups
        # committed) until settled: their leases are renewed, its own claims skip them
        self._holding: set[int] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._renewing = False  # the keeper is in a renewal's transaction

    def wake(self) -> None:
        self._wake.set()

    def _free(self) -> int:
        return self.concurrency - len(self._running) - self._reserved

    def try_reserve(self, kind: str, bind: object) -> bool:
        """Promise a slot to a job of ``kind`` about to be inserted through ``bind`` and
        handed over (see :func:`frontline.jobs.queue.insert`); False when full, stopping,
        unable to run it, or working on another database. Exactly one of :meth:`submit`
        and :meth:`unreserve` must follow."""
        if not self._accepting or self._stopping.is_set() or not self.can_run(kind):
            return False
        # a session of a CoreTransaction is bound to its connection (of this engine)
        if bind is not self.db.engine and getattr(bind, "engine", None) is not self.db.engine:
            return False
        if self._free() <= 0:
            return False
        self._reserved += 1
        return True

    def unreserve(self) -> None:
        """The job a slot was promised to was not committed: free the slot."""
        self._reserved -= 1
        if self._may_have_more:
            self._wake.set()

    def submit(self, job: ClaimedJob) -> None:
        """Start a job handed over (committed, leased to this worker) in its reserved slot."""
        self._reserved -= 1
        self.hold([job.id])
        self._start(job)

    def hold(self, job_ids: Iterable[int]) -> None:
        """Jobs leased to this worker that it will run (claimed, handed over, or held
        follow-ups just committed): their leases are renewed, and this worker's claims skip
        them, until each is settled."""
        self._holding.update(job_ids)
        if self._holding and (self._keeper is None or self._keeper.done()):
            self._keeper = asyncio.create_task(self._keep_leases(), name="job-leases")

    def _release(self, job_ids: Iterable[int]) -> None:
        """Settled (or left to their lease): no longer renewed nor skipped."""
        self._holding.difference_update(job_ids)

    async def _release_all(self) -> None:
        """Nothing more will run here: stop renewing (a job still held, if any, is left to
        its lease) and wait for the renewing task to end (a renewal under way finishes; a
        pause between renewals is cut short)."""
        self._holding.clear()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            if not self._renewing:
                keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    def can_run(self, kind: str) -> bool:
        """Whether this worker has a handler for ``kind`` (it can then hold such jobs)."""
        return self.registry.get(kind) is not None

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
        queue.add_runner(self)
        self._accepting = True
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
                free = self._free()
                if free > 0:
                    try:
                        claimed = await self._claim_and_start(free)
                    except Exception as exc:
                        if not is_unavailable(exc):
                            log.exception("claiming jobs failed")
                        else:  # an outage: one line a poll, no traceback
                            log.warning("claiming jobs failed: database unavailable: %r", exc)
                # a full batch (or no free slot) may have left due work: claim again as
                # soon as a slot frees; otherwise wait for a commit, a hand-over or the poll
                self._may_have_more = free <= 0 or claimed >= free
                if claimed and self._free() > 0:
                    continue  # there may be more due work
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            self._accepting = False
            queue.remove_runner(self)
            queue.remove_waker(self.wake)
            # a hand-over still committing starts (or is released) shortly; one that never
            # does would be a caller's bug: its job is claimed again after the lease
            patience = asyncio.get_running_loop().time() + HANDOVER_PATIENCE_SECONDS
            while self._running or (
                self._reserved > 0 and asyncio.get_running_loop().time() < patience
            ):
                if self._running:
                    await asyncio.gather(*self._running, return_exceptions=True)
                else:
                    await asyncio.sleep(0.01)
            await self._release_all()
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Process due jobs until none is left (tests, CLI one-shot). Returns jobs run."""
        total = 0
        try:
            for _ in range(max_rounds):
                jobs = await self._claim(self.concurrency)
                if not jobs:
                    break
                counts = await asyncio.gather(*(self._execute(job) for job in jobs))
                total += sum(counts)
        finally:
            if not self._accepting:  # no loop of this worker runs meanwhile
                await self._release_all()
        return total

    async def _claim(self, limit: int) -> list[ClaimedJob]:
        async with self.db.transaction() as session:
            jobs = await queue.claim(
                session, self.worker_id, limit, self.lease_seconds, skip=self._holding
            )
        self.hold(job.id for job in jobs)
        return jobs

    async def _claim_and_start(self, limit: int) -> int:
        jobs = await self._claim(limit)
        for job in jobs:
            self._start(job)
        return len(jobs)

    def _start(self, job: ClaimedJob) -> None:
        task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[int]) -> None:
        self._running.discard(task)
        if self._may_have_more:
            self._wake.set()  # refill the freed slot promptly

    async def _keep_leases(self) -> None:
        """Renew the leases of the jobs this worker holds, every third of the lease, until
        it holds none (a renewal that fails is tried again at the next beat; a job whose
        lease another worker took meanwhile is simply not renewed)."""
        interval = max(0.5, self.lease_seconds / 3)
        while self._holding:
            await asyncio.sleep(interval)
            held = list(self._holding)
            if not held:
                break
            self._renewing = True
            try:
                async with self.db.transaction() as session:
                    await queue.extend_leases(session, held, self.worker_id, self.lease_seconds)
            except Exception as exc:
                log.warning("lease renewal failed: %r", exc, extra={"job_ids": held[:20]})
            finally:
                self._renewing = False

    async def _execute(self, job: ClaimedJob) -> int:
        """Run ``job`` and then the follow-ups it enqueued held; returns how many ran."""
        ctx = self._context(job)
        try:
            await self._run(job, ctx)
        except BaseException:
            # the job is left to its lease; so are its follow-ups, which will not run here
            self._release([job.id, *(h.id for h in ctx.take_held())])
            raise
        self._release([job.id])
        ran = 1
        # committed follow-ups are ours whatever became of their parent afterwards; each
        # keeps its lease renewed until its turn comes
        waiting = ctx.take_held()
        while waiting:
            held = waiting.pop(0)
            try:
                ran += await self._execute(held)
            except BaseException:
                self._release(h.id for h in waiting)
                raise
        return ran

    def _context(self, job: ClaimedJob) -> JobContext:
        return JobContext(
            job_id=job.id,
            kind=job.kind,
            tenant_id=job.tenant_id,
            payload=job.payload,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            worker_id=self.worker_id,
            db=self.db,
            services=self.services,
            runner=self,
        )

    async def _run(self, job: ClaimedJob, ctx: JobContext) -> None:
        kind = self.registry.get(job.kind)
        if kind is None:
            await self._settle_dead(ctx, None, f"unknown job kind {job.kind!r}")
            return
        if job.attempts > job.max_attempts:
            # its last worker died holding it, and it has had all its attempts
            await self._settle_dead(ctx, kind.on_dead, "attempts exhausted (worker lost)")
            return
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
                await self._settle(
                    job.id,
                    lambda session: queue.mark_retry(session, job.id, self.worker_id, error, delay),
                )
                jobs_processed.labels(job.kind, "retry").inc()
            return
        if not ctx.completed:
            await self._settle(
                job.id, lambda session: queue.mark_done(session, job.id, self.worker_id)
            )
        jobs_processed.labels(job.kind, "done").inc()
        if kind.daily_at_utc_hour is not None:
            tomorrow = utcnow().date() + timedelta(days=1)
            key, run_at = queue.daily_run(job.kind, kind.daily_at_utc_hour, tomorrow)
            await self._schedule(job.kind, key, run_at)

    async def _settle(
        self, job_id: int, write: Callable[[AsyncSession], Awaitable[object]]
    ) -> None:
        """Run ``write`` in a transaction of its own; while the database is unreachable, try
        again with backoff until the job's lease would have run out (then give up: the job
        is claimed again after its lease, as if this worker had died)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.lease_seconds
        pause = SETTLE_RETRY_FIRST_SECONDS
        while True:
            try:
                async with self.db.transaction() as session:
                    await write(session)
                return
            except Exception as exc:
                if not is_unavailable(exc) or loop.time() + pause > give_up:
                    raise
                log.warning(
                    "database unavailable; settling the job again shortly",
                    extra={"job_id": job_id, "error": f"{type(exc).__name__}: {exc}"[:300]},
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, SETTLE_RETRY_MAX_SECONDS)

    async def _settle_dead(self, ctx: JobContext, hook: Any, error: str) -> None:
        log.warning("job dead", extra={"job_id": ctx.job_id, "kind": ctx.kind, "error": error})

        async def write(session: AsyncSession) -> None:
            if await queue.mark_dead(session, ctx.job_id, self.worker_id, error) and hook:
                await hook(session, ctx, error)

        try:
            await self._settle(ctx.job_id, write)
        except Exception:
            log.exception("settling a dead job failed", extra={"job_id": ctx.job_id})
        jobs_processed.labels(ctx.kind, "dead").inc()
