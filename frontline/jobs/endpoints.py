"""HTTP: tenant admins list jobs (dead ones above all) and re-queue them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from frontline.auth.deps import Admin
from frontline.deps import ServicesDep, Session
from frontline.errors import Conflict, NotFound
from frontline.jobs import queue
from frontline.jobs.repository import JobRepository
from frontline.kit.params import PathId
from frontline.models import JobStatus

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    attempts: int
    max_attempts: int
    payload: dict[str, Any]
    last_error: str | None
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None


@router.get("/jobs", response_model=list[JobOut])
async def list_jobs(
    subject: Admin,
    session: Session,
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[JobOut]:
    rows = await JobRepository(session, subject.scope).list(status.value if status else None, limit)
    return [JobOut.model_validate(r) for r in rows]


@router.post("/jobs/{job_id}/requeue", response_model=JobOut)
async def requeue_job(
    job_id: PathId, subject: Admin, session: Session, services: ServicesDep
) -> JobOut:
    """Give a dead job a fresh set of attempts."""
    job = await JobRepository(session, subject.scope).get(job_id)
    if job is None:
        raise NotFound("job not found")
    if job.status != JobStatus.DEAD.value:
        raise Conflict("only dead jobs can be re-queued")
    kind = services.jobs.get(job.kind)
    await queue.requeue(session, job, kind.on_requeue if kind else None)
    return JobOut.model_validate(job)
