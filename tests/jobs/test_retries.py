"""Retries, backoff delays, dead jobs and their ``on_dead`` hook, and the worker loop woken by
a commit: real databases, the real worker, test-only job kinds."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.deps import Services
from frontline.jobs.queue import claim, enqueue
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.retry import PermanentJobError, RetryAfter
from frontline.kit.time import as_utc, utcnow
from frontline.models import JobStatus
from tests.jobs.kit import (
    WAIT,
    Boom,
    Recorder,
    add_job,
    count_jobs,
    expire_lease,
    load,
    make_worker,
    run_until,
    wait_for,
)


async def test_generic_failure_retries_until_max_attempts_then_dead(services: Services) -> None:
    rec = Recorder(lambda ctx: RuntimeError(f"boom {ctx.attempt}"))
    worker = make_worker(services, rec.registry())
    job_id = await add_job(services, "test.kind", {"x": 1}, max_attempts=3)

    job = await run_until(services, worker, job_id, {JobStatus.DEAD.value})
    assert rec.attempts == [1, 2, 3]
    assert job.attempts == 3
    assert job.last_error == "RuntimeError: boom 3"
    assert job.finished_at is not None
    assert job.locked_until is None
    assert rec.dead == [(job_id, "RuntimeError: boom 3", JobStatus.DEAD.value)]
    assert await count_jobs(services, "test.dead-letter") == 1
    # dead is final: nothing claims it again
    assert await worker.run_until_idle() == 0
    assert rec.attempts == [1, 2, 3]


async def test_retry_is_delayed_by_backoff_and_keeps_the_error(services: Services) -> None:
    rec = Recorder(lambda ctx: ConnectionError("upstream down"))
    worker = make_worker(services, rec.registry(), backoff_base=10.0, backoff_max=20.0)
    job_id = await add_job(services, "test.kind", {}, max_attempts=5)

    before = utcnow()
    assert await worker.run_until_idle() == 1
    job = await load(services, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED.value, 1, None)
    assert job.last_error == "ConnectionError: upstream down"
    delay = (as_utc(job.run_at) - before).total_seconds()
    assert 5.0 <= delay <= 10.0 + 2.0  # the upper half of the first window (base 10)
    assert await worker.run_until_idle() == 0  # not due yet
    assert rec.dead == []


async def test_retry_after_waits_as_long_as_the_source_asked(services: Services) -> None:
    rec = Recorder(lambda ctx: RetryAfter("HTTP 429", 30.0))
    worker = make_worker(services, rec.registry(), backoff_base=0.01, backoff_max=60.0)
    job_id = await add_job(services, "test.kind", {}, max_attempts=5)
    before = utcnow()
    await worker.run_until_idle()
    job = await load(services, job_id)
    assert job.status == JobStatus.QUEUED.value
    assert (as_utc(job.run_at) - before).total_seconds() >= 30.0 - 0.5


async def test_permanent_error_goes_dead_at_once(services: Services) -> None:
    rec = Recorder(lambda ctx: PermanentJobError("no callback configured"))
    worker = make_worker(services, rec.registry())
    job_id = await add_job(services, "test.kind", {}, max_attempts=8)

    job = await run_until(services, worker, job_id, {JobStatus.DEAD.value})
    assert rec.attempts == [1]
    assert (job.attempts, job.last_error) == (1, "no callback configured")
    assert rec.dead == [(job_id, "no callback configured", JobStatus.DEAD.value)]
    assert await count_jobs(services, "test.dead-letter") == 1


async def test_job_of_a_worker_lost_on_its_last_attempt_goes_dead(services: Services) -> None:
    rec = Recorder()
    worker = make_worker(services, rec.registry())
    job_id = await add_job(services, "test.kind", {}, max_attempts=1)
    async with services.db.transaction() as s:
        await claim(s, "died-mid-job", 10, 30)
    await expire_lease(services, job_id)

    job = await run_until(services, worker, job_id, {JobStatus.DEAD.value})
    assert rec.attempts == []  # not run a second time: it had all its attempts
    assert job.last_error == "attempts exhausted (worker lost)"
    assert rec.dead == [(job_id, "attempts exhausted (worker lost)", JobStatus.DEAD.value)]


async def test_unknown_kind_goes_dead(services: Services) -> None:
    worker = make_worker(services, JobRegistry())
    job_id = await add_job(services, "test.nobody-handles-this", {})
    job = await run_until(services, worker, job_id, {JobStatus.DEAD.value})
    assert job.last_error == "unknown job kind 'test.nobody-handles-this'"


async def test_on_dead_hook_runs_in_the_same_transaction(services: Services) -> None:
    """A hook that fails rolls back the dead mark with its own writes: neither is kept."""

    async def handler(ctx: JobContext) -> None:
        raise PermanentJobError("bad request")

    async def on_dead(session: AsyncSession, ctx: JobContext, error: str) -> None:
        enqueue(session, "test.dead-letter", {"of": ctx.job_id}, delay_seconds=3600)
        await session.flush()
        raise Boom("hook failed")

    registry = JobRegistry()
    registry.register(JobKind("test.kind", handler, on_dead=on_dead))
    worker = make_worker(services, registry)
    job_id = await add_job(services, "test.kind", {}, max_attempts=8)

    assert await worker.run_until_idle() == 1
    job = await load(services, job_id)
    assert job.status == JobStatus.RUNNING.value  # not dead: that write was rolled back
    assert job.finished_at is None
    assert await count_jobs(services, "test.dead-letter") == 0


async def test_worker_loop_is_woken_by_a_commit_and_retries(services: Services) -> None:
    """The long-running loop (not the one-shot helper): a committed job is picked up on the
    after-commit wake-up (the poll interval is far longer than the wait), and retried."""
    rec = Recorder(lambda ctx: RuntimeError("first try fails") if ctx.attempt == 1 else None)
    worker = make_worker(services, rec.registry(), poll_seconds=0.05)
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.sleep(0.2)
        job_id = await add_job(services, "test.kind", {}, max_attempts=3)

        async def done() -> bool:
            return (await load(services, job_id)).status == JobStatus.DONE.value

        await wait_for(done)
        assert rec.attempts == [1, 2]
        job = await load(services, job_id)
        assert (job.attempts, job.last_error) == (2, "RuntimeError: first try fails")
        assert job.finished_at is not None
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=WAIT)

    # a job that succeeds at once (a retry's backoff delay would be waited out by polling)
    slow = make_worker(services, Recorder().registry(), poll_seconds=60.0, worker_id="slow-poller")
    task = asyncio.create_task(slow.run())
    try:
        await asyncio.sleep(0.2)  # the loop is now idle, waiting for a wake-up or 60 s
        started = time.monotonic()
        job_id = await add_job(services, "test.kind", {}, max_attempts=3)

        async def done_now() -> bool:
            return (await load(services, job_id)).status == JobStatus.DONE.value

        await wait_for(done_now, timeout=10)
        assert time.monotonic() - started < 10
    finally:
        slow.stop()
        await asyncio.wait_for(task, timeout=WAIT)
