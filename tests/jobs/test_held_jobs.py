"""Jobs run without a claim round trip: follow-ups a handler enqueues *held* (leased to its
own worker in its transaction, run right after it) and jobs handed over to a worker loop of
the same process (``queue.insert(..., run_locally=True)``). Real databases, the real worker
with test-only job kinds. If the holder dies, the lease brings the job back to everyone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.worker import Worker
from frontline.models import Job, JobStatus
from tests.jobs.kit import (
    Boom,
    add_job,
    count_jobs,
    expire_lease,
    load,
    make_worker,
    wait_for,
)


@dataclass
class Claims:
    """Counts the claims that found jobs (wraps the real ``queue.claim``)."""

    found: list[list[int]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = queue.claim

        async def counting(*args: Any, **kwargs: Any) -> list[queue.ClaimedJob]:
            jobs = await real(*args, **kwargs)
            if jobs:
                self.found.append([j.id for j in jobs])
            return jobs

        monkeypatch.setattr(queue, "claim", counting)


@pytest.fixture
def claims(monkeypatch: pytest.MonkeyPatch) -> Claims:
    counter = Claims()
    counter.install(monkeypatch)
    return counter


@dataclass
class Seen:
    ctx: JobContext
    row: Job | None  # the job's row as the handler found it


class Kinds:
    """``test.parent`` enqueues a held ``test.child``; ``test.child`` records what it saw."""

    def __init__(
        self,
        services: Services,
        parent: Callable[[JobContext], Awaitable[None]] | None = None,
    ) -> None:
        self.services = services
        self.children: list[Seen] = []
        self.parents: list[JobContext] = []
        self._parent = parent

    async def parent(self, ctx: JobContext) -> None:
        self.parents.append(ctx)
        if self._parent is not None:
            await self._parent(ctx)
            return
        async with ctx.db.transaction() as s:
            await ctx.enqueue_held(
                s, "test.child", {"of": ctx.job_id}, idempotency_key=f"child-of-{ctx.job_id}"
            )
            await ctx.complete_in(s)

    async def child(self, ctx: JobContext) -> None:
        async with self.services.db.transaction() as s:
            row = await s.get(Job, ctx.job_id)
        self.children.append(Seen(ctx, row))

    def registry(self) -> JobRegistry:
        registry = JobRegistry()
        registry.register(JobKind("test.parent", self.parent))
        registry.register(JobKind("test.child", self.child))
        return registry


async def child_rows(services: Services) -> list[Job]:
    async with services.db.transaction() as s:
        stmt = select(Job).where(Job.kind == "test.child").order_by(Job.id)
        return list((await s.execute(stmt)).scalars())


# -- held follow-ups -----------------------------------------------------------------------


async def test_held_follow_up_runs_right_after_its_parent_without_a_claim(
    services: Services, claims: Claims
) -> None:
    kinds = Kinds(services)
    worker = make_worker(services, kinds.registry())
    parent_id = await add_job(services, "test.parent", {})

    assert await worker.run_until_idle() == 2  # the parent, then its follow-up
    [seen] = kinds.children
    assert seen.ctx.payload == {"of": parent_id}
    # it was enqueued already running, leased to this worker, on its first attempt
    assert seen.row is not None
    assert (seen.row.status, seen.row.attempts, seen.row.locked_by) == (
        JobStatus.RUNNING.value,
        1,
        worker.worker_id,
    )
    assert seen.row.idempotency_key == f"child-of-{parent_id}"
    [child] = await child_rows(services)
    assert child.status == JobStatus.DONE.value
    assert (await load(services, parent_id)).status == JobStatus.DONE.value
    assert claims.found == [[parent_id]]  # only the parent was ever claimed


async def test_held_follow_up_without_complete_in_is_written_before_the_commit(
    services: Services, claims: Claims
) -> None:
    async def parent(ctx: JobContext) -> None:
        async with ctx.db.transaction() as s:
            await ctx.enqueue_held(s, "test.child", {"of": ctx.job_id})

    kinds = Kinds(services, parent)
    worker = make_worker(services, kinds.registry())
    parent_id = await add_job(services, "test.parent", {})

    assert await worker.run_until_idle() == 2
    assert [c.ctx.payload for c in kinds.children] == [{"of": parent_id}]
    assert [c.status for c in await child_rows(services)] == [JobStatus.DONE.value]
    assert claims.found == [[parent_id]]


async def test_rolled_back_follow_up_neither_exists_nor_runs(services: Services) -> None:
    async def parent(ctx: JobContext) -> None:
        async with ctx.db.transaction() as s:
            await ctx.enqueue_held(s, "test.child", {"of": ctx.job_id})
            await ctx.complete_in(s)
            raise Boom("crashed before the commit")

    kinds = Kinds(services, parent)
    worker = make_worker(services, kinds.registry())
    parent_id = await add_job(services, "test.parent", {}, max_attempts=1)

    await worker.run_until_idle()
    assert kinds.children == []
    assert await child_rows(services) == []
    assert (await load(services, parent_id)).status == JobStatus.DEAD.value


async def test_lost_lease_writes_no_follow_up(services: Services) -> None:
    async def parent(ctx: JobContext) -> None:
        await expire_lease(services, ctx.job_id)
        async with ctx.db.transaction() as s:  # another worker takes the job meanwhile
            assert [j.id for j in await queue.claim(s, "thief", 10, 30)] == [ctx.job_id]
        async with ctx.db.transaction() as s:
            await ctx.enqueue_held(s, "test.child", {"of": ctx.job_id})
            await ctx.complete_in(s)  # raises LeaseLost: the transaction rolls back

    kinds = Kinds(services, parent)
    worker = make_worker(services, kinds.registry())
    parent_id = await add_job(services, "test.parent", {})

    assert await worker.run_until_idle() == 1
    assert await child_rows(services) == []
    parent_row = await load(services, parent_id)
    assert (parent_row.status, parent_row.locked_by) == (JobStatus.RUNNING.value, "thief")


async def test_a_worker_lost_after_the_commit_leaves_the_follow_up_to_the_lease(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder dies between the parent's commit and running the follow-up: nobody runs
    it before its lease ends; then any worker does, on its second attempt, same payload."""
    kinds = Kinds(services)
    registry = kinds.registry()
    doomed = make_worker(services, registry, worker_id="doomed")
    parent_id = await add_job(services, "test.parent", {})
    with monkeypatch.context() as m:
        # the process dies right after the parent's commit: its follow-ups never start
        m.setattr(JobContext, "take_held", lambda self: [])
        assert await doomed.run_until_idle() == 1
    [child] = await child_rows(services)
    assert (child.status, child.locked_by, child.attempts) == (
        JobStatus.RUNNING.value,
        "doomed",
        1,
    )
    survivor = make_worker(services, registry, worker_id="survivor")
    assert await survivor.run_until_idle() == 0  # leased: not taken before its time
    assert kinds.children == []

    await expire_lease(services, child.id)
    assert await survivor.run_until_idle() == 1
    [seen] = kinds.children
    assert (seen.ctx.attempt, seen.ctx.worker_id, seen.ctx.payload) == (
        2,
        "survivor",
        {"of": parent_id},
    )
    assert [c.status for c in await child_rows(services)] == [JobStatus.DONE.value]


async def test_kinds_the_worker_cannot_run_are_enqueued_for_everyone(services: Services) -> None:
    async def parent(ctx: JobContext) -> None:
        async with ctx.db.transaction() as s:
            await ctx.enqueue_held(s, "test.elsewhere", {"of": ctx.job_id})
            await ctx.complete_in(s)

    kinds = Kinds(services, parent)
    worker = make_worker(services, kinds.registry())
    await add_job(services, "test.parent", {})
    assert await worker.run_until_idle(max_rounds=1) == 1
    async with services.db.transaction() as s:
        [row] = (await s.execute(select(Job).where(Job.kind == "test.elsewhere"))).scalars()
    assert (row.status, row.attempts, row.locked_by) == (JobStatus.QUEUED.value, 0, None)


# -- jobs handed over to a worker loop of the same process ---------------------------------


async def _started(worker: Worker) -> asyncio.Task[None]:
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.2)  # the loop's first claim is done; it now waits (poll: 60 s)
    return task


async def _stopped(worker: Worker, task: asyncio.Task[None]) -> None:
    worker.stop()
    await asyncio.wait_for(task, timeout=20)


async def test_a_job_handed_over_starts_at_the_commit_without_a_claim(
    services: Services, claims: Claims
) -> None:
    kinds = Kinds(services)
    worker = make_worker(services, kinds.registry(), poll_seconds=60.0)
    task = await _started(worker)
    try:
        async with services.db.transaction() as s:
            job_id = await queue.insert(s, "test.child", {"n": 1}, run_locally=True)

        async def ran() -> bool:
            return bool(kinds.children)

        await wait_for(ran, timeout=10)
        [seen] = kinds.children
        assert seen.row is not None
        assert (seen.row.id, seen.row.attempts, seen.row.locked_by) == (
            job_id,
            1,
            worker.worker_id,
        )
        assert claims.found == []

        async def done() -> bool:
            return (await load(services, job_id)).status == JobStatus.DONE.value

        await wait_for(done, timeout=10)
    finally:
        await _stopped(worker, task)


async def test_a_hand_over_rolled_back_frees_its_slot(services: Services) -> None:
    kinds = Kinds(services)
    worker = make_worker(services, kinds.registry(), poll_seconds=60.0, concurrency=1)
    task = await _started(worker)
    try:
        with pytest.raises(Boom):
            async with services.db.transaction() as s:
                await queue.insert(s, "test.child", {"n": 1}, run_locally=True)
                raise Boom("the request failed")
        assert await count_jobs(services, "test.child") == 0
        # the slot is free again: the next hand-over is taken
        async with services.db.transaction() as s:
            job_id = await queue.insert(s, "test.child", {"n": 2}, run_locally=True)
        row = await load(services, job_id)
        assert (row.attempts, row.locked_by) == (1, worker.worker_id)

        async def ran() -> bool:
            return [c.ctx.payload for c in kinds.children] == [{"n": 2}]

        await wait_for(ran, timeout=10)
    finally:
        await _stopped(worker, task)


async def test_a_full_worker_gets_no_hand_over(services: Services) -> None:
    release = asyncio.Event()

    async def parent(ctx: JobContext) -> None:
        await release.wait()  # occupies the only slot

    kinds = Kinds(services, parent)
    worker = make_worker(services, kinds.registry(), poll_seconds=0.05, concurrency=1)
    task = await _started(worker)
    try:
        await add_job(services, "test.parent", {})

        async def busy() -> bool:
            return bool(kinds.parents)

        await wait_for(busy, timeout=10)
        async with services.db.transaction() as s:
            job_id = await queue.insert(s, "test.child", {"n": 1}, run_locally=True)
        row = await load(services, job_id)
        assert (row.status, row.attempts, row.locked_by) == (JobStatus.QUEUED.value, 0, None)
        release.set()  # the slot frees and the loop claims the queued job as usual

        async def ran() -> bool:
            return bool(kinds.children)

        await wait_for(ran, timeout=10)
        assert kinds.children[0].ctx.attempt == 1
    finally:
        release.set()
        await _stopped(worker, task)


async def test_no_worker_loop_means_an_ordinary_queued_job(services: Services) -> None:
    async with services.db.transaction() as s:
        job_id = await queue.insert(s, "test.child", {"n": 1}, run_locally=True)
    row = await load(services, job_id)
    assert (row.status, row.attempts, row.locked_by) == (JobStatus.QUEUED.value, 0, None)


async def test_a_worker_takes_no_hand_over_from_another_database(
    services: Services, claims: Claims
) -> None:
    from frontline.kit.db import Database

    kinds = Kinds(services)
    worker = make_worker(services, kinds.registry(), poll_seconds=60.0)
    task = await _started(worker)
    other = Database(services.db.url, pool_size=1)  # another engine: another database, say
    try:
        async with other.transaction() as s:
            job_id = await queue.insert(s, "test.child", {"n": 1}, run_locally=True)

        async def ran() -> bool:
            return bool(kinds.children)

        await wait_for(ran, timeout=10)  # the commit woke the loop, which claimed it
        assert claims.found == [[job_id]]
    finally:
        await other.dispose()
        await _stopped(worker, task)
