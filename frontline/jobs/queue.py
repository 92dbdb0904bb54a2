"""The job table as a queue.

- :func:`enqueue` adds a job to the caller's session, so it commits (or rolls back) with the
  data it concerns; local workers are woken after commit. :func:`insert` does the same with
  one Core statement at once (hot paths: no ORM unit of work at flush).
- :func:`insert_held` enqueues a job already leased to a worker, which runs it itself right
  after the commit (see :meth:`frontline.jobs.registry.JobContext.enqueue_held`);
  ``insert(..., run_locally=True)`` hands a job to a worker loop of this process that has a
  free slot the same way (no claim round trip), else enqueues it for any worker.
- :func:`claim` takes due jobs, and running jobs whose lease has expired (their worker died),
  in one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` statement; on SQLite
  the write lock of ``BEGIN IMMEDIATE`` gives the same exclusion. A claiming worker names the
  jobs it holds itself (``skip``): an expired lease of its own (a renewal came late) never
  makes it start a second copy of a job it is still running.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    Insert,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy import insert as sql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.jobs.types import ClaimedJob, FollowUp, RequeueHook
from frontline.kit.db import Unit, after_commit, on_rollback
from frontline.kit.time import as_utc, utcnow
from frontline.models.jobs import Job, JobStatus

_wakers: set[Callable[[], None]] = set()
_runners: list[LocalRunner] = []


class LocalRunner(Protocol):
    """A worker loop of this process that takes jobs handed over (see :func:`insert`)."""

    worker_id: str
    lease_seconds: int

    def try_reserve(self, kind: str, bind: object) -> bool: ...

    def unreserve(self) -> None: ...

    def submit(self, job: ClaimedJob) -> None: ...


def add_runner(runner: LocalRunner) -> None:
    _runners.append(runner)


def remove_runner(runner: LocalRunner) -> None:
    if runner in _runners:
        _runners.remove(runner)


def add_waker(waker: Callable[[], None]) -> None:
    _wakers.add(waker)


def remove_waker(waker: Callable[[], None]) -> None:
    _wakers.discard(waker)


async def wake_local_workers() -> None:
    for waker in list(_wakers):
        waker()


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    tenant_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = 8,
    delay_seconds: float = 0.0,
) -> Job:
    """Add a job to ``session``'s transaction. It becomes visible to workers on commit."""
    now = utcnow()
    job = Job(
        kind=kind,
        payload=payload,
        tenant_id=tenant_id,
        idempotency_key=idempotency_key,
        max_attempts=max_attempts,
        status=JobStatus.QUEUED.value,
        attempts=0,
        run_at=now + timedelta(seconds=delay_seconds),
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    after_commit(session, wake_local_workers)
    return job


@functools.cache
def _insert_statement() -> Insert:
    """Built once (constructing an INSERT costs more than running it); every column is a
    named parameter."""
    jobs = cast(Table, Job.__table__)
    names = [c.name for c in jobs.c if c.name != "id"]
    return sql_insert(jobs).values({n: bindparam(f"j_{n}") for n in names}).returning(jobs.c.id)


def _job_values(
    kind: str,
    payload: dict[str, Any],
    tenant_id: uuid.UUID | None,
    idempotency_key: str | None,
    max_attempts: int,
    run_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "j_tenant_id": tenant_id,
        "j_kind": kind,
        "j_payload": payload,
        "j_status": JobStatus.QUEUED.value,
        "j_attempts": 0,
        "j_max_attempts": max_attempts,
        "j_run_at": run_at,
        "j_locked_until": None,
        "j_locked_by": None,
        "j_last_error": None,
        "j_idempotency_key": idempotency_key,
        "j_created_at": now,
        "j_updated_at": now,
        "j_finished_at": None,
    }


async def insert(
    session: AsyncSession | Unit,
    kind: str,
    payload: dict[str, Any],
    *,
    tenant_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = 8,
    delay_seconds: float = 0.0,
    run_locally: bool = False,
) -> int:
    """:func:`enqueue` in one Core statement, executed now; returns the job's id. A
    duplicate ``idempotency_key`` fails here rather than at flush.

    ``run_locally``: when a worker loop of this process (on the same database) has a free
    slot for the kind, the job is inserted leased to it and starts as soon as the
    transaction commits (no wake-up,
    no claim round trip; the slot is reserved meanwhile and freed on rollback). Else it is
    queued as usual. Only inside ``Database.transaction`` (which runs the commit and
    rollback hooks)."""
    if run_locally and delay_seconds <= 0:
        for runner in _runners:
            if runner.try_reserve(kind, session.bind):
                return await _hand_over(
                    session, runner, kind, payload, tenant_id, idempotency_key, max_attempts
                )
    now = utcnow()
    run_at = now + timedelta(seconds=delay_seconds)
    values = _job_values(kind, payload, tenant_id, idempotency_key, max_attempts, run_at, now)
    job_id = int((await session.execute(_insert_statement(), values)).scalar_one())
    after_commit(session, wake_local_workers)
    return job_id


async def _hand_over(
    session: AsyncSession | Unit,
    runner: LocalRunner,
    kind: str,
    payload: dict[str, Any],
    tenant_id: uuid.UUID | None,
    idempotency_key: str | None,
    max_attempts: int,
) -> int:
    on_rollback(session, runner.unreserve)
    job = await insert_held(
        session,
        kind,
        payload,
        worker_id=runner.worker_id,
        lease_seconds=runner.lease_seconds,
        tenant_id=tenant_id,
        idempotency_key=idempotency_key,
        max_attempts=max_attempts,
    )

    async def _submit() -> None:
        runner.submit(job)

    after_commit(session, _submit)
    return job.id


def _held_values(
    follow_up: FollowUp, worker_id: str, lease_seconds: int, now: datetime
) -> dict[str, Any]:
    f = follow_up
    values = _job_values(
        f.kind, f.payload, f.tenant_id, f.idempotency_key, f.max_attempts, now, now
    )
    values.update(
        j_status=JobStatus.RUNNING.value,
        j_attempts=1,
        j_locked_by=worker_id,
        j_locked_until=now + timedelta(seconds=lease_seconds),
    )
    return values


async def insert_held(
    session: AsyncSession | Unit,
    kind: str,
    payload: dict[str, Any],
    *,
    worker_id: str,
    lease_seconds: int,
    tenant_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = 8,
) -> ClaimedJob:
    """Enqueue a job already claimed by ``worker_id`` (``running``, its first attempt
    counted, leased for ``lease_seconds``), as :func:`claim` would leave it. No worker is
    woken: the holder runs it; if the holder dies, the job is claimed after the lease."""
    follow_up = FollowUp(kind, payload, tenant_id, idempotency_key, max_attempts)
    values = _held_values(follow_up, worker_id, lease_seconds, utcnow())
    job_id = int((await session.execute(_insert_statement(), values)).scalar_one())
    return ClaimedJob(job_id, kind, tenant_id, payload, 1, max_attempts)


@functools.cache
def _claim_statement() -> Update:
    """Built once (the worker claims often); every value is a named parameter."""
    jobs = cast(Table, Job.__table__)
    now = bindparam("claim_now", type_=jobs.c.run_at.type)
    due = or_(
        and_(jobs.c.status == JobStatus.QUEUED.value, jobs.c.run_at <= now),
        and_(jobs.c.status == JobStatus.RUNNING.value, jobs.c.locked_until < now),
    )
    candidates = (
        select(jobs.c.id)
        .where(due, jobs.c.id.not_in(bindparam("claim_skip", expanding=True)))
        .order_by(jobs.c.run_at, jobs.c.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(jobs)
        .where(jobs.c.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING.value,
            attempts=jobs.c.attempts + 1,
            locked_by=bindparam("claim_by"),
            locked_until=bindparam("claim_until", type_=jobs.c.locked_until.type),
            updated_at=now,
        )
        .returning(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.tenant_id,
            jobs.c.payload,
            jobs.c.attempts,
            jobs.c.max_attempts,
        )
    )


async def claim(
    session: AsyncSession,
    worker_id: str,
    limit: int,
    lease_seconds: int,
    skip: Collection[int] = (),
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs to ``worker_id``; counts an attempt for each. Jobs in
    ``skip`` (those the claiming worker is running or about to run) are never taken, even
    with their lease expired: the lease is for telling a dead worker, and the claimer is
    alive."""
    now = utcnow()
    params = {
        "claim_now": now,
        "claim_limit": limit,
        "claim_skip": list(skip),
        "claim_by": worker_id,
        "claim_until": now + timedelta(seconds=lease_seconds),
    }
    rows = (await session.execute(_claim_statement(), params)).all()
    jobs = [
        ClaimedJob(r.id, r.kind, r.tenant_id, r.payload, r.attempts, r.max_attempts) for r in rows
    ]
    return sorted(jobs, key=lambda j: j.id)


async def _update_held(session: AsyncSession, job_id: int, worker_id: str, **values: Any) -> bool:
    """Update a job only while ``worker_id`` still holds it; False when the lease was lost
    (it expired and another worker took the job)."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING.value)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def extend_lease(
    session: AsyncSession, job_id: int, worker_id: str, lease_seconds: int
) -> bool:
    until = utcnow() + timedelta(seconds=lease_seconds)
    return await _update_held(session, job_id, worker_id, locked_until=until)


async def extend_leases(
    session: AsyncSession, job_ids: Collection[int], worker_id: str, lease_seconds: int
) -> int:
    """Renew the leases of the jobs in ``job_ids`` that ``worker_id`` still holds, in one
    statement; returns how many it still held."""
    if not job_ids:
        return 0
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(
            Job.id.in_(list(job_ids)),
            Job.locked_by == worker_id,
            Job.status == JobStatus.RUNNING.value,
        )
        .values(locked_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _done_statement() -> Update:
    """Complete a job while ``done_by`` holds it (built once: every job ends with it)."""
    jobs = cast(Table, Job.__table__)
    at = bindparam("done_at", type_=jobs.c.finished_at.type)
    return (
        update(jobs)
        .where(
            jobs.c.id == bindparam("done_id"),
            jobs.c.locked_by == bindparam("done_by"),
            jobs.c.status == JobStatus.RUNNING.value,
        )
        .values(status=JobStatus.DONE.value, finished_at=at, locked_until=None, updated_at=at)
    )


async def mark_done(session: AsyncSession, job_id: int, worker_id: str) -> bool:
    """Complete a job this worker holds; False when the lease was lost meanwhile."""
    params = {"done_id": job_id, "done_by": worker_id, "done_at": utcnow()}
    result = await session.execute(_done_statement(), params)
    return bool(result.rowcount)  # type: ignore[attr-defined]


@functools.cache
def _complete_and_hold_statement() -> Insert:
    """PostgreSQL: complete a held job and insert one follow-up held by the same worker, in
    one statement - the follow-up only if the completion matched (the lease is still ours)."""
    jobs = cast(Table, Job.__table__)
    done = _done_statement().returning(jobs.c.id).cte("done")
    names = [c.name for c in jobs.c if c.name != "id"]
    values = select(*[bindparam(f"j_{n}", type_=jobs.c[n].type) for n in names]).where(
        exists(select(done.c.id))
    )
    return sql_insert(jobs).from_select(names, values).returning(jobs.c.id).add_cte(done)


async def complete_and_hold(
    session: AsyncSession,
    job_id: int,
    worker_id: str,
    follow_ups: list[FollowUp],
    *,
    lease_seconds: int,
) -> list[ClaimedJob] | None:
    """Mark a job this worker holds done and enqueue ``follow_ups`` held by the same worker
    (:func:`insert_held`), atomically in the caller's transaction: one statement on
    PostgreSQL for a single follow-up. ``None`` when the lease was lost (nothing written)."""
    if not follow_ups:
        return [] if await mark_done(session, job_id, worker_id) else None
    bind = session.bind
    if len(follow_ups) > 1 or bind is None or bind.dialect.name != "postgresql":
        if not await mark_done(session, job_id, worker_id):
            return None
        return [
            await insert_held(
                session,
                f.kind,
                f.payload,
                worker_id=worker_id,
                lease_seconds=lease_seconds,
                tenant_id=f.tenant_id,
                idempotency_key=f.idempotency_key,
                max_attempts=f.max_attempts,
            )
            for f in follow_ups
        ]
    [f] = follow_ups
    now = utcnow()
    values = _held_values(f, worker_id, lease_seconds, now)
    values.update(done_id=job_id, done_by=worker_id, done_at=now)
    found = (await session.execute(_complete_and_hold_statement(), values)).scalar_one_or_none()
    if found is None:
        return None
    return [ClaimedJob(int(found), f.kind, f.tenant_id, f.payload, 1, f.max_attempts)]


@functools.cache
def _complete_with_statement(effect: Update) -> Select[Any]:
    """PostgreSQL: complete a held job and run ``effect`` (an UPDATE ... RETURNING) in one
    statement - the effect only if the completion matched (the lease is still ours). One
    row: ``held`` (0 or 1), then the effect's returned columns (NULL when it matched none).
    Built once per effect statement (they are built once themselves)."""
    jobs = cast(Table, Job.__table__)
    done = _done_statement().returning(jobs.c.id).cte("done")
    changed = effect.where(exists(select(done.c.id))).cte("effect")
    held = select(func.count()).select_from(done).scalar_subquery().label("held")
    return select(held, *changed.c).select_from(
        select(literal(1).label("one")).subquery("one").outerjoin(changed, true())
    )


async def complete_with(
    session: AsyncSession,
    job_id: int,
    worker_id: str,
    effect: Update,
    params: dict[str, Any],
) -> list[dict[str, Any]] | None:
    """Mark a job this worker holds done and run ``effect`` (an UPDATE ... RETURNING whose
    parameters are ``params``) atomically in the caller's transaction: one statement on
    PostgreSQL, which may then run without a transaction of its own
    (:meth:`frontline.kit.db.Database.statement`). Returns the effect's rows; ``None``
    when the lease was lost (nothing written). ``effect`` must return its table's primary
    key (a matched row is told from none by it) and no column named ``held``."""
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        if not await mark_done(session, job_id, worker_id):
            return None
        return [dict(r._mapping) for r in await session.execute(effect, params)]
    values = {**params, "done_id": job_id, "done_by": worker_id, "done_at": utcnow()}
    row = dict((await session.execute(_complete_with_statement(effect), values)).one()._mapping)
    if not row.pop("held"):
        return None
    # the outer join leaves every column NULL when the effect matched no row
    return [row] if any(value is not None for value in row.values()) else []


async def mark_retry(
    session: AsyncSession, job_id: int, worker_id: str, error: str, delay_seconds: float
) -> bool:
    return await _update_held(
        session,
        job_id,
        worker_id,
        status=JobStatus.QUEUED.value,
        run_at=utcnow() + timedelta(seconds=delay_seconds),
        last_error=error[:4000],
        locked_by=None,
        locked_until=None,
    )


async def mark_dead(session: AsyncSession, job_id: int, worker_id: str, error: str) -> bool:
    return await _update_held(
        session,
        job_id,
        worker_id,
        status=JobStatus.DEAD.value,
        last_error=error[:4000],
        locked_until=None,
        finished_at=utcnow(),
    )


async def requeue(session: AsyncSession, job: Job, hook: RequeueHook | None = None) -> None:
    """Give a dead job a fresh set of attempts (the admin's "retry"); ``hook`` lets the job's
    kind undo what going dead did (a failed message shows as queued again)."""
    now = utcnow()
    job.status = JobStatus.QUEUED.value
    job.attempts = 0
    job.run_at = now
    job.updated_at = now
    job.finished_at = None
    job.locked_by = None
    job.locked_until = None
    if hook is not None:
        await hook(session, job.tenant_id, job.payload)
    await session.flush()
    after_commit(session, wake_local_workers)


async def schedule_once(
    session: AsyncSession,
    kind: str,
    key: str,
    run_at: datetime,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Enqueue ``kind`` for ``run_at`` under the idempotency ``key`` unless a job with that
    key exists (a concurrent insert of the same key fails the caller's transaction)."""
    found = await session.execute(select(Job.id).where(Job.idempotency_key == key))
    if found.first() is not None:
        return False
    delay = max(0.0, (run_at - utcnow()).total_seconds())
    enqueue(session, kind, payload or {}, idempotency_key=key, delay_seconds=delay)
    await session.flush()
    return True


def daily_run(kind: str, hour: int, day: date) -> tuple[str, datetime]:
    """The idempotency key and start time of a daily job's run on ``day``."""
    return f"{kind}@{day.isoformat()}", datetime.combine(day, time(hour), tzinfo=UTC)


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    return {status: int(count) for status, count in rows}


@dataclass(frozen=True, slots=True)
class KindStats:
    """One job kind's queue as an operator watches it: jobs due now and not claimed, the
    oldest of them (``None`` when none waits), and dead jobs."""

    ready: int
    oldest_ready: datetime | None
    dead: int


async def stats_by_kind(session: AsyncSession, now: datetime | None = None) -> dict[str, KindStats]:
    """Queue depth, lag and dead jobs per kind, in one grouped query (the metrics)."""
    jobs = cast(Table, Job.__table__)
    now = now or utcnow()
    ready = and_(jobs.c.status == JobStatus.QUEUED.value, jobs.c.run_at <= now)
    dead = jobs.c.status == JobStatus.DEAD.value
    query = (
        select(
            jobs.c.kind,
            func.count().filter(ready),
            type_coerce(func.min(jobs.c.run_at).filter(ready), jobs.c.run_at.type),
            func.count().filter(dead),
        )
        .where(jobs.c.status.in_((JobStatus.QUEUED.value, JobStatus.DEAD.value)))
        .group_by(jobs.c.kind)
    )
    return {
        kind: KindStats(int(n_ready), as_utc(oldest) if oldest else None, int(n_dead))
        for kind, n_ready, oldest, n_dead in (await session.execute(query)).all()
    }
