"""The durable job queue: transactional enqueue, claiming and leases, retries, the worker's
settling of outcomes, and the admin endpoints. Real databases, the real worker with
test-only job kinds registered on a fresh registry."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.queue import claim, daily_run, enqueue, mark_done
from frontline.jobs.registry import JobContext, JobKind, JobRegistry, LeaseLost
from frontline.jobs.retry import PermanentJobError, RetryAfter, backoff_seconds
from frontline.jobs.worker import Worker
from frontline.kit.time import as_utc, utcnow
from frontline.models import Job, JobStatus
from tests.conftest import Factory

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


# -- 1. enqueue is transactional -------------------------------------------------------------


async def test_enqueue_rolled_back_leaves_no_job_and_wakes_no_worker(services: Services) -> None:
    wakes = Wakes()
    queue.add_waker(wakes)
    try:
        with pytest.raises(Boom):
            async with services.db.transaction() as s:
                job = enqueue(s, "test.noop", {"n": 1})
                await s.flush()
                assert job.id is not None  # it was written, inside the transaction
                raise Boom
        assert await count_jobs(services) == 0
        async with services.db.transaction() as s:
            assert await claim(s, "w1", 10, 30) == []
        assert wakes.count == 0
    finally:
        queue.remove_waker(wakes)


async def test_enqueue_committed_is_claimable_once(services: Services) -> None:
    wakes = Wakes()
    queue.add_waker(wakes)
    try:
        job_id = await add_job(services, "test.noop", {"n": 1}, max_attempts=3)
        assert wakes.count == 1  # local workers are woken after the commit
    finally:
        queue.remove_waker(wakes)
    job = await load(services, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED.value, 0, None)

    async with services.db.transaction() as s:
        claimed = await claim(s, "w1", 10, 30)
    assert [(c.id, c.kind, c.payload, c.attempts, c.max_attempts) for c in claimed] == [
        (job_id, "test.noop", {"n": 1}, 1, 3)
    ]
    job = await load(services, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.RUNNING.value, 1, "w1")
    assert job.locked_until is not None
    assert as_utc(job.locked_until) > utcnow() + timedelta(seconds=25)
    async with services.db.transaction() as s:
        assert await claim(s, "w2", 10, 30) == []  # leased to w1


# -- 2. claiming -----------------------------------------------------------------------------


async def test_claim_takes_due_jobs_only(services: Services) -> None:
    later = await add_job(services, "test.noop", {"which": "later"}, delay_seconds=3600)
    now = await add_job(services, "test.noop", {"which": "now"})
    async with services.db.transaction() as s:
        claimed = await claim(s, "w1", 10, 30)
    assert [c.id for c in claimed] == [now]
    async with services.db.transaction() as s:
        assert await claim(s, "w1", 10, 30) == []
    job = await load(services, later)
    assert (job.status, job.attempts) == (JobStatus.QUEUED.value, 0)


async def test_claim_respects_limit_and_order(services: Services) -> None:
    ids = [await add_job(services, "test.noop", {"i": i}) for i in range(5)]
    async with services.db.transaction() as s:
        first = await claim(s, "w1", 2, 30)
    async with services.db.transaction() as s:
        rest = await claim(s, "w2", 10, 30)
    assert [c.id for c in first] == ids[:2]
    assert [c.id for c in rest] == ids[2:]


async def test_expired_lease_is_claimed_again_and_counts_an_attempt(services: Services) -> None:
    job_id = await add_job(services, "test.noop", {})
    async with services.db.transaction() as s:
        [first] = await claim(s, "w1", 10, 30)
    assert first.attempts == 1
    async with services.db.transaction() as s:
        assert await claim(s, "w2", 10, 30) == []  # lease still valid

    await expire_lease(services, job_id)  # w1 died and stopped renewing
    async with services.db.transaction() as s:
        [second] = await claim(s, "w2", 10, 30)
    assert (second.id, second.attempts) == (job_id, 2)
    job = await load(services, job_id)
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING.value, "w2", 2)

    # the first worker, if it comes back, can no longer settle the job ...
    async with services.db.transaction() as s:
        assert await mark_done(s, job_id, "w1") is False
        assert await queue.extend_lease(s, job_id, "w1", 30) is False
    # ... and neither complete it atomically with an effect
    ctx = JobContext(job_id, "test.noop", None, {}, 1, 8, "w1", services.db)
    with pytest.raises(LeaseLost):
        async with services.db.transaction() as s:
            await ctx.complete_in(s)
    async with services.db.transaction() as s:
        assert await mark_done(s, job_id, "w2") is True
    assert (await load(services, job_id)).status == JobStatus.DONE.value


async def test_claimers_in_turn_never_share_a_job(services: Services) -> None:
    """On both backends: overlapping claimers (serialised by SQLite's write lock) split the
    due jobs between them."""
    ids = {await add_job(services, "test.noop", {"i": i}) for i in range(10)}

    async def claimer(name: str) -> list[int]:
        async with services.db.transaction() as s:
            got = await claim(s, name, 4, 30)
            await asyncio.sleep(0.05)  # keep the transaction open a little
        return [c.id for c in got]

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(3)))
    flat = [job_id for got in results for job_id in got]
    assert len(flat) == len(set(flat)) == 10
    assert set(flat) == ids


async def test_concurrent_claimers_skip_locked_rows(services: Services, backend: str) -> None:
    """PostgreSQL: claimers whose transactions are open at the same time each get their own
    jobs at once (SKIP LOCKED) - none waits for another's locks, none gets another's job."""
    if backend != "postgres":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite serialises writers")
    claimers, per_claimer = 4, 5
    ids = {await add_job(services, "test.noop", {"i": i}) for i in range(claimers * per_claimer)}
    barrier = asyncio.Barrier(claimers)

    async def claimer(name: str) -> list[int]:
        async with services.db.transaction() as s:
            got = await claim(s, name, per_claimer, 30)
            # every claimer has claimed while every transaction is still open; had one
            # claimer waited on another's row locks, this barrier would time out
            await asyncio.wait_for(barrier.wait(), timeout=10)
        return [c.id for c in got]

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(claimers)))
    assert [len(got) for got in results] == [per_claimer] * claimers
    flat = [job_id for got in results for job_id in got]
    assert len(set(flat)) == len(flat)
    assert set(flat) == ids
    async with services.db.transaction() as s:
        rows = (await s.execute(select(Job.id, Job.locked_by, Job.attempts))).all()
    owner = {job_id: f"w{i}" for i, got in enumerate(results) for job_id in got}
    assert {r.id: r.locked_by for r in rows} == owner
    assert {r.attempts for r in rows} == {1}


# -- 3. retries, backoff, dead jobs ----------------------------------------------------------


def test_backoff_is_exponential_with_jitter_and_bounded() -> None:
    rng = random.Random(1234)
    base, maximum = 2.0, 600.0
    for attempt in range(1, 15):
        ceiling = min(maximum, base * 2 ** (attempt - 1))
        samples = [backoff_seconds(attempt, base, maximum, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in samples), attempt
        assert len(set(samples)) > 150  # jittered, not a fixed delay
    assert backoff_seconds(0, base, maximum, rng) <= base  # attempt 0 is treated as the first
    # grows exponentially until the maximum ...
    assert [min(maximum, base * 2 ** (a - 1)) for a in range(1, 6)] == [2, 4, 8, 16, 32]
    assert backoff_seconds(3, base, maximum, random.Random(0)) >= 4.0
    assert backoff_seconds(4, base, maximum, random.Random(0)) >= 8.0
    # ... then stays within it, even for absurd attempt numbers
    for attempt in (10, 50, 500, 5000):
        assert maximum / 2 <= backoff_seconds(attempt, base, maximum, rng) <= maximum
    # without an explicit generator it uses the module's one, with the same bounds
    assert 1.0 <= backoff_seconds(1, base, maximum) <= 2.0


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


# -- 4. complete_in: the effect and the completion commit together ----------------------------


def effect_recorder(
    *, crash_before_commit_on: frozenset[int] = frozenset(), steal: bool = False
) -> Callable[[JobContext], Awaitable[None]]:
    """A handler whose effect is a row written in the same transaction as its completion."""

    async def handler(ctx: JobContext) -> None:
        if steal:
            # the lease ran out meanwhile and another worker took the job
            async with ctx.db.transaction() as s:
                await s.execute(
                    update(Job)
                    .where(Job.id == ctx.job_id)
                    .values(locked_until=utcnow() - timedelta(seconds=1))
                )
            async with ctx.db.transaction() as s:
                assert [c.id for c in await claim(s, "thief", 10, 30)] == [ctx.job_id]
        async with ctx.db.transaction() as s:
            enqueue(
                s, "test.effect", {"of": ctx.job_id, "attempt": ctx.attempt}, delay_seconds=3600
            )
            await ctx.complete_in(s)
            assert ctx.completed
            if ctx.attempt in crash_before_commit_on:
                raise Boom("crashed before the commit")

    return handler


async def test_complete_in_commits_effect_and_completion_together(services: Services) -> None:
    registry = JobRegistry()
    registry.register(JobKind("test.kind", effect_recorder()))
    worker = make_worker(services, registry)
    job_id = await add_job(services, "test.kind", {})

    job = await run_until(services, worker, job_id, {JobStatus.DONE.value})
    assert (job.attempts, job.last_error) == (1, None)
    assert job.finished_at is not None
    assert await count_jobs(services, "test.effect") == 1


async def test_complete_in_rolled_back_leaves_neither(services: Services) -> None:
    registry = JobRegistry()
    registry.register(JobKind("test.kind", effect_recorder(crash_before_commit_on=frozenset({1}))))
    worker = make_worker(services, registry, backoff_base=10.0, backoff_max=20.0)
    job_id = await add_job(services, "test.kind", {})

    assert await worker.run_until_idle() == 1
    job = await load(services, job_id)
    assert job.status == JobStatus.QUEUED.value  # not done: the completion was rolled back
    assert job.last_error == "Boom: crashed before the commit"
    assert await count_jobs(services, "test.effect") == 0  # nor the effect

    async with services.db.transaction() as s:  # skip the backoff
        await s.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
    job = await run_until(services, worker, job_id, {JobStatus.DONE.value})
    assert job.attempts == 2
    async with services.db.transaction() as s:
        effects = (
            (await s.execute(select(Job.payload).where(Job.kind == "test.effect"))).scalars().all()
        )
    assert effects == [{"of": job_id, "attempt": 2}]


async def test_complete_in_after_the_lease_was_lost_writes_nothing(services: Services) -> None:
    registry = JobRegistry()
    registry.register(JobKind("test.kind", effect_recorder(steal=True)))
    worker = make_worker(services, registry)
    job_id = await add_job(services, "test.kind", {})

    assert await worker.run_until_idle() == 1
    job = await load(services, job_id)
    # the thief holds it; the first worker's effect and completion were both abandoned
    assert (job.status, job.locked_by, job.attempts) == (JobStatus.RUNNING.value, "thief", 2)
    assert job.last_error is None
    assert await count_jobs(services, "test.effect") == 0


# -- 5. admin endpoints ----------------------------------------------------------------------


async def test_admin_lists_and_requeues_dead_jobs_of_its_tenant(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t1 = await factory.tenant()
    t2 = await factory.tenant()
    # the application's own worker: no handler for this kind, so these jobs die
    dead1 = await add_job(services, "test.unhandled", {"t": 1}, tenant_id=t1.id, max_attempts=3)
    dead2 = await add_job(services, "test.unhandled", {"t": 2}, tenant_id=t2.id, max_attempts=3)
    assert await worker.run_until_idle() == 2
    queued1 = await add_job(
        services, "test.unhandled", {"t": 1}, tenant_id=t1.id, delay_seconds=3600
    )
    await add_job(services, "test.unhandled", {"t": 0}, delay_seconds=3600)  # no tenant

    r = await factory.client.get("/api/v1/jobs", params={"status": "dead"}, headers=t1.owner)
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert row["id"] == dead1
    assert (row["status"], row["kind"], row["attempts"], row["max_attempts"]) == (
        "dead",
        "test.unhandled",
        1,
        3,
    )
    assert row["payload"] == {"t": 1}
    assert row["last_error"] == "unknown job kind 'test.unhandled'"
    assert row["finished_at"] is not None

    r = await factory.client.get("/api/v1/jobs", headers=t1.owner)
    assert r.status_code == 200
    assert [j["id"] for j in r.json()] == [queued1, dead1]
    r = await factory.client.get("/api/v1/jobs", params={"status": "dead"}, headers=t2.owner)
    assert [j["id"] for j in r.json()] == [dead2]
    r = await factory.client.get("/api/v1/jobs", params={"status": "bogus"}, headers=t1.owner)
    assert r.status_code == 422

    # operators may not see or touch jobs
    r = await factory.client.get("/api/v1/jobs", params={"status": "dead"}, headers=t1.operator)
    assert r.status_code == 403
    r = await factory.client.post(f"/api/v1/jobs/{dead1}/requeue", headers=t1.operator)
    assert r.status_code == 403
    r = await factory.client.get("/api/v1/jobs")
    assert r.status_code == 401
    assert (await load(services, dead1)).status == JobStatus.DEAD.value

    # another tenant's job does not exist for this admin
    r = await factory.client.post(f"/api/v1/jobs/{dead2}/requeue", headers=t1.owner)
    assert r.status_code == 404
    assert (await load(services, dead2)).status == JobStatus.DEAD.value
    r = await factory.client.post("/api/v1/jobs/999999/requeue", headers=t1.owner)
    assert r.status_code == 404

    # a job that is not dead cannot be re-queued
    r = await factory.client.post(f"/api/v1/jobs/{queued1}/requeue", headers=t1.owner)
    assert r.status_code == 409

    wakes = Wakes()
    queue.add_waker(wakes)
    try:
        r = await factory.client.post(f"/api/v1/jobs/{dead1}/requeue", headers=t1.owner)
    finally:
        queue.remove_waker(wakes)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"], body["attempts"], body["finished_at"]) == (
        dead1,
        "queued",
        0,
        None,
    )
    assert wakes.count == 1
    job = await load(services, dead1)
    assert (job.status, job.attempts, job.locked_by, job.locked_until, job.finished_at) == (
        JobStatus.QUEUED.value,
        0,
        None,
        None,
        None,
    )
    assert as_utc(job.run_at) <= utcnow()
    r = await factory.client.post(f"/api/v1/jobs/{dead1}/requeue", headers=t1.owner)
    assert r.status_code == 409  # it is queued now

    # and it is claimable again, with a fresh set of attempts
    async with services.db.transaction() as s:
        claimed = await claim(s, "w1", 10, 30)
    assert [(c.id, c.attempts) for c in claimed] == [(dead1, 1)]


async def test_daily_job_kinds_keep_one_run_scheduled(services: Services) -> None:
    runs: list[int] = []

    async def handler(ctx: JobContext) -> None:
        runs.append(ctx.job_id)

    registry = JobRegistry()
    registry.register(JobKind("test.daily", handler, daily_at_utc_hour=3))
    worker = Worker(services.db, registry, lease_seconds=30)
    await worker.ensure_daily()
    await worker.ensure_daily()  # a restart (or a second worker) schedules nothing more
    today = utcnow().date()
    async with services.db.transaction() as session:
        jobs = list((await session.execute(select(Job).where(Job.kind == "test.daily"))).scalars())
    assert [j.idempotency_key for j in jobs] == [daily_run("test.daily", 3, today)[0]]
    assert await worker.run_until_idle() == 1 and len(runs) == 1
    async with services.db.transaction() as session:
        jobs = list(
            (
                await session.execute(select(Job).where(Job.kind == "test.daily").order_by(Job.id))
            ).scalars()
        )
    key, run_at = daily_run("test.daily", 3, today + timedelta(days=1))
    assert [(j.idempotency_key, j.status) for j in jobs] == [
        (daily_run("test.daily", 3, today)[0], "done"),
        (key, "queued"),
    ]
    assert abs((jobs[1].run_at - run_at).total_seconds()) < 1
    assert await worker.run_until_idle() == 0  # tomorrow's run is not due yet


async def test_ai_log_purge_is_a_daily_job(services: Services) -> None:
    kind = services.jobs.get("ai.log_purge")
    assert kind is not None and kind.daily_at_utc_hour is not None


def note_statement() -> Any:
    """A test effect: set a job's ``last_error`` (returning its id and the new value)."""
    return (
        update(Job.__table__)
        .where(Job.__table__.c.id == bindparam("target"))
        .values(last_error=bindparam("note"))
        .returning(Job.__table__.c.id, Job.__table__.c.last_error)
    )


EFFECT = note_statement()


async def test_complete_with_runs_the_effect_with_the_completion_only_while_held(
    services: Services,
) -> None:
    """One statement on PostgreSQL, inside a statement session (no transaction of its own):
    the effect and the completion happen together, or - the lease lost - neither."""
    job_id = await add_job(services, "test.noop", {})
    target = await add_job(services, "test.other", {})
    async with services.db.transaction() as s:
        [claimed] = await claim(s, "w1", 1, 30)
    assert claimed.id == job_id
    ctx = JobContext(job_id, "test.noop", None, {}, 1, 8, "w1", services.db)

    # another worker took the job after the lease: nothing is written
    await expire_lease(services, job_id)
    async with services.db.transaction() as s:
        [taken] = await claim(s, "w2", 1, 30)
    assert taken.id == job_id
    with pytest.raises(LeaseLost):
        async with services.db.statement() as s:
            await ctx.complete_with(s, EFFECT, {"target": target, "note": "lost"})
    assert (await load(services, target)).last_error is None
    assert (await load(services, job_id)).status == JobStatus.RUNNING.value

    # held: the effect's row comes back and the job is done
    ctx = JobContext(job_id, "test.noop", None, {}, 2, 8, "w2", services.db)
    async with services.db.statement() as s:
        rows = await ctx.complete_with(s, EFFECT, {"target": target, "note": "sent"})
    assert rows == [{"id": target, "last_error": "sent"}]
    assert ctx.completed
    assert (await load(services, target)).last_error == "sent"
    job = await load(services, job_id)
    assert (job.status, job.locked_until) == (JobStatus.DONE.value, None)


async def test_complete_with_an_effect_that_matches_nothing_still_completes(
    services: Services,
) -> None:
    job_id = await add_job(services, "test.noop", {})
    async with services.db.transaction() as s:
        await claim(s, "w1", 1, 30)
    ctx = JobContext(job_id, "test.noop", None, {}, 1, 8, "w1", services.db)
    async with services.db.statement() as s:
        rows = await ctx.complete_with(s, EFFECT, {"target": job_id + 1000, "note": "x"})
    assert rows == []
    assert (await load(services, job_id)).status == JobStatus.DONE.value
