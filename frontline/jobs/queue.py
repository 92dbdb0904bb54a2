"""The job table as a queue.

- :func:`enqueue` adds a job to the caller's session, so it commits (or rolls back) with the
  data it concerns; local workers are woken after commit.
- :func:`claim` takes due jobs, and running jobs whose lease has expired (their worker died),
  in one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` statement; on SQLite
  the write lock of ``BEGIN IMMEDIATE`` gives the same exclusion.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.jobs.registry import RequeueHook
from frontline.kit.db import after_commit
from frontline.kit.time import utcnow
from frontline.models.jobs import Job, JobStatus

_wakers: set[Callable[[], None]] = set()


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


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    tenant_id: uuid.UUID | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


async def claim(
    session: AsyncSession, worker_id: str, limit: int, lease_seconds: int
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs to ``worker_id``; counts an attempt for each."""
    now = utcnow()
    due = or_(
        and_(Job.status == JobStatus.QUEUED.value, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING.value, Job.locked_until < now),
    )
    candidates = (
        select(Job.id)
        .where(due)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING.value,
            attempts=Job.attempts + 1,
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.tenant_id, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
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


async def mark_done(session: AsyncSession, job_id: int, worker_id: str) -> bool:
    """Complete a job this worker holds; False when the lease was lost meanwhile."""
    return await _update_held(
        session,
        job_id,
        worker_id,
        status=JobStatus.DONE.value,
        finished_at=utcnow(),
        locked_until=None,
    )


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
