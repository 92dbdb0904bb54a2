"""The durable job queue: transactional enqueue, claiming and leases, backoff. Real
databases, the real worker with test-only job kinds registered on a fresh registry."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.queue import claim, enqueue, mark_done
from frontline.jobs.registry import JobContext, LeaseLost
from frontline.jobs.retry import backoff_seconds
from frontline.kit.time import as_utc, utcnow
from frontline.models import Job, JobStatus
from tests.jobs.kit import (
    Boom,
    Wakes,
    add_job,
    count_jobs,
    expire_lease,
    load,
)

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


async def test_a_claim_skips_the_jobs_its_worker_holds_and_renews_them_in_one_go(
    services: Services,
) -> None:
    held_id = await add_job(services, "test.noop", {})
    other_id = await add_job(services, "test.noop", {})
    async with services.db.transaction() as s:
        assert [c.id for c in await claim(s, "w1", 10, 30)] == [held_id, other_id]
    await expire_lease(services, held_id)  # w1's renewal came late
    await expire_lease(services, other_id)
    async with services.db.transaction() as s:
        # w1 still runs held_id: only the other expired job is taken again
        [again] = await claim(s, "w1", 10, 30, skip=[held_id])
    assert (again.id, again.attempts) == (other_id, 2)
    async with services.db.transaction() as s:
        assert await queue.extend_leases(s, [held_id, other_id], "w1", 30) == 2
        assert await queue.extend_leases(s, [held_id], "w2", 30) == 0  # not w2's
        assert await queue.extend_leases(s, [], "w1", 30) == 0
    assert (await load(services, held_id)).attempts == 1
    async with services.db.transaction() as s:
        assert await claim(s, "w2", 10, 30) == []  # both leases renewed


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
