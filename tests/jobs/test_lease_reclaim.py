"""A job whose worker is alive is never run twice, even when the lease is shorter than one
run of the job: the worker renews the lease of every job it holds (running, or a held
follow-up waiting for its turn), and its own claims never take a job it is running (a
renewal that comes late - a blocked event loop, a slow database - must not let the worker
start a second copy of its own job). Real databases, real worker loops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from frontline.deps import Services
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.worker import Worker
from frontline.models import Job, JobStatus
from tests.jobs.kit import add_job, load, make_worker, wait_for

LEASE = 1  # seconds: shorter than one run of the jobs below


class Runs:
    """``test.slow`` takes ``seconds`` (awaiting); ``test.parent`` enqueues two held
    ``test.slow`` follow-ups, which then run one after the other in the parent's slot."""

    def __init__(self, seconds: float, block: float = 0.0) -> None:
        self.seconds = seconds
        self.block = block  # the first run blocks the event loop this long (a late heartbeat)
        self.runs: list[tuple[int, int, str]] = []  # (job id, attempt, worker id)

    async def slow(self, ctx: JobContext) -> None:
        self.runs.append((ctx.job_id, ctx.attempt, ctx.worker_id))
        if self.block and len(self.runs) == 1:
            time.sleep(self.block)  # nothing else of this worker runs meanwhile
        await asyncio.sleep(self.seconds)

    async def parent(self, ctx: JobContext) -> None:
        async with ctx.db.transaction() as s:
            for n in range(2):
                await ctx.enqueue_held(s, "test.slow", {"n": n})
            await ctx.complete_in(s)

    def registry(self) -> JobRegistry:
        registry = JobRegistry()
        registry.register(JobKind("test.slow", self.slow))
        registry.register(JobKind("test.parent", self.parent))
        return registry


async def _all_done(services: Services) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        async with services.db.transaction() as s:
            statuses = (await s.execute(select(Job.status))).scalars().all()
        return bool(statuses) and all(st == JobStatus.DONE.value for st in statuses)

    return done


async def _run_workers(services: Services, workers: list[Worker]) -> None:
    """Run the loops until every job is done (and a little longer: a second copy would
    show), then stop them."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        await wait_for(await _all_done(services), timeout=30)
        await asyncio.sleep(2 * LEASE)
    finally:
        for w in workers:
            w.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)


async def test_a_job_longer_than_its_lease_runs_once_with_two_workers_polling(
    services: Services,
) -> None:
    runs = Runs(seconds=3 * LEASE)
    registry = runs.registry()
    workers = [
        make_worker(services, registry, worker_id=name, lease_seconds=LEASE)
        for name in ("w1", "w2")
    ]
    job_id = await add_job(services, "test.slow", {})
    await _run_workers(services, workers)
    assert [(j, a) for j, a, _w in runs.runs] == [(job_id, 1)]
    assert (await load(services, job_id)).attempts == 1


async def test_a_late_lease_renewal_does_not_let_the_worker_run_its_own_job_again(
    services: Services,
) -> None:
    """The event loop is blocked past the lease (the renewal is late): the loop's next claim
    finds the lease expired, but the job is this worker's own, still running."""
    runs = Runs(seconds=0.5, block=1.5 * LEASE)
    worker = make_worker(services, runs.registry(), worker_id="w1", lease_seconds=LEASE)
    job_id = await add_job(services, "test.slow", {})
    await _run_workers(services, [worker])
    assert [(j, a) for j, a, _w in runs.runs] == [(job_id, 1)]
    assert (await load(services, job_id)).attempts == 1


async def test_held_follow_ups_waiting_for_their_turn_keep_their_lease(
    services: Services,
) -> None:
    """Two held follow-ups run one after the other in their parent's slot; each takes longer
    than the lease, so the second waits longer than its lease: it is renewed meanwhile and
    neither this worker nor another takes it."""
    runs = Runs(seconds=2 * LEASE)
    registry = runs.registry()
    workers = [
        make_worker(services, registry, worker_id=name, lease_seconds=LEASE)
        for name in ("w1", "w2")
    ]
    await add_job(services, "test.parent", {})
    await _run_workers(services, workers)
    async with services.db.transaction() as s:
        children = (await s.execute(select(Job).where(Job.kind == "test.slow"))).scalars().all()
    assert len(children) == 2
    assert sorted((j, a) for j, a, _w in runs.runs) == sorted((c.id, 1) for c in children)
    assert {c.attempts for c in children} == {1}
    # both ran where their parent ran
    assert len({w for _j, _a, w in runs.runs}) == 1


async def test_a_held_follow_up_is_not_claimed_again_by_its_own_worker_while_waiting(
    services: Services,
) -> None:
    runs = Runs(seconds=2 * LEASE)
    worker = make_worker(services, runs.registry(), worker_id="w1", lease_seconds=LEASE)
    await add_job(services, "test.parent", {})
    await _run_workers(services, [worker])
    assert [a for _j, a, _w in runs.runs] == [1, 1]
    assert len({j for j, _a, _w in runs.runs}) == 2
