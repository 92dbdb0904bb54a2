"""Tenant-scoped views of the job table (for the admin endpoints)."""

from __future__ import annotations

from frontline.kit.repository import TenantRepository
from frontline.models import Job


class JobRepository(TenantRepository[Job]):
    model = Job

    async def list(self, status: str | None, limit: int) -> list[Job]:
        stmt = self.select()
        if status:
            stmt = stmt.where(Job.status == status)
        stmt = stmt.order_by(Job.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
