"""Job kinds of the AI settings domain (thin: call the service)."""

from __future__ import annotations

from frontline.aisettings import service
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.time import utcnow

JOB_AI_LOG_PURGE = "ai.log_purge"
PURGE_HOUR_UTC = 3


async def purge_log(ctx: JobContext) -> None:
    """Delete expired AI calls of every tenant, atomically with the job's completion."""
    async with ctx.db.transaction() as session:
        await service.purge_expired(session, utcnow())
        await ctx.complete_in(session)


def register(registry: JobRegistry) -> None:
    registry.register(JobKind(JOB_AI_LOG_PURGE, purge_log, daily_at_utc_hour=PURGE_HOUR_UTC))
