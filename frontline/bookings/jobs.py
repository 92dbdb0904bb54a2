"""Job kinds of the bookings domain (thin: load by id, call the service)."""

from __future__ import annotations

from frontline import events
from frontline.bookings import service
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.repository import TenantScope


async def expire_booking(ctx: JobContext) -> None:
    """Expire a pending booking whose hold ran out, atomically with the job's completion."""
    assert ctx.tenant_id is not None
    async with ctx.db.transaction() as session:
        await service.expire(session, TenantScope(ctx.tenant_id), int(ctx.payload["booking_id"]))
        await ctx.complete_in(session)


def register(registry: JobRegistry) -> None:
    registry.register(JobKind(events.JOB_BOOKING_EXPIRE, expire_booking))
