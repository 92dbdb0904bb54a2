"""A job's effect and its completion commit together (``complete_in``, ``complete_with``),
and nothing is written once the lease is lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update

from frontline.deps import Services
from frontline.jobs.queue import claim, enqueue
from frontline.jobs.registry import JobContext, JobKind, JobRegistry, LeaseLost
from frontline.kit.time import utcnow
from frontline.models import Job, JobStatus
from tests.jobs.kit import (
    Boom,
    add_job,
    count_jobs,
    expire_lease,
    load,
    make_worker,
    run_until,
)

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
