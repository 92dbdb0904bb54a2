"""Job kinds of the knowledge base (thin: the work is in ``frontline.knowledge.service``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.jobs.registry import JobContext, JobKind, JobRegistry
from frontline.kit.crypto import SecretBox
from frontline.kit.repository import TenantScope
from frontline.knowledge import semantic, service
from frontline.knowledge.parsing import ParseLimits


def register(registry: JobRegistry, parse_limits: ParseLimits, box: SecretBox) -> None:
    async def ingest(ctx: JobContext) -> None:
        if ctx.tenant_id is None:
            return
        scope = TenantScope(ctx.tenant_id)
        async with ctx.db.transaction() as session:
            embedding = await service.load_embedding(session, scope, box)
        await service.ingest(
            ctx.db,
            scope,
            int(ctx.payload["document_id"]),
            int(ctx.payload["revision"]),
            parse_limits=parse_limits,
            embedding=embedding,
        )

    async def embed(ctx: JobContext) -> None:
        if ctx.tenant_id is not None:
            await service.embed_pending(ctx.db, TenantScope(ctx.tenant_id), box)

    async def rerank(ctx: JobContext) -> None:
        if ctx.tenant_id is not None:
            await semantic.embed_pending(ctx.db, TenantScope(ctx.tenant_id))

    async def failed(session: AsyncSession, ctx: JobContext, error: str) -> None:
        if ctx.tenant_id is None:
            return
        await service.mark_failed(
            session,
            TenantScope(ctx.tenant_id),
            int(ctx.payload["document_id"]),
            int(ctx.payload["revision"]),
            f"ingestion failed: {error}"[:2000],
        )

    registry.register(JobKind(events.JOB_KNOWLEDGE_INGEST, ingest, on_dead=failed))
    registry.register(JobKind(events.JOB_KNOWLEDGE_EMBED, embed))
    registry.register(JobKind(events.JOB_KNOWLEDGE_RERANK, rerank))
