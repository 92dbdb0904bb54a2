"""What the knowledge page adds: a document's chunks in order (its preview) and the plan's
limit on documents."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantScope
from frontline.knowledge.repository import ChunkRepository, DocumentRepository
from frontline.knowledge.service import get_document
from frontline.models import KnowledgeChunk
from frontline.tenants import service as tenants


async def of_document(
    session: AsyncSession, scope: TenantScope, document_id: int, limit: int
) -> list[KnowledgeChunk]:
    """The chunks of a document, in order (404 for another tenant's document)."""
    await get_document(session, scope, document_id)
    return await ChunkRepository(session, scope).of_document(document_id, limit)


async def enforce_document_limit(session: AsyncSession, scope: TenantScope) -> None:
    """Refuse a new document (403 ``plan_limit_reached``) when the tenant's plan allows no
    more, or the tenant is suspended."""
    await tenants.enforce_limit(
        session, scope, "documents", DocumentRepository(session, scope).count
    )
