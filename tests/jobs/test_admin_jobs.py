"""The jobs admin endpoints (list, requeue dead jobs, per tenant) and the daily job kinds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from frontline.deps import Services
from frontline.jobs import queue
from frontline.jobs.queue import claim, daily_run
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.jobs.worker import Worker
from frontline.kit.time import as_utc, utcnow
from frontline.models import Job, JobStatus
from tests.conftest import Factory
from tests.jobs.kit import (
    Wakes,
    add_job,
    load,
)

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
