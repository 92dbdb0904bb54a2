"""What the knowledge page adds: a document's chunks in order (its preview), the plan's
limit on documents, and re-indexing one document or the whole base."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from frontline.errors import NotFound
from frontline.kit.repository import TenantScope
from frontline.knowledge.repository import ChunkRepository, DocumentRepository, StateRepository
from frontline.knowledge.service import _request_ingest, _reset, get_document
from frontline.models import KnowledgeChunk, KnowledgeDocument
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


async def reindex_all(session: AsyncSession, scope: TenantScope) -> list[KnowledgeDocument]:
    """Parse, chunk and index every document and FAQ entry again from what is stored (after
    a parser or chunking change, or to repair an index): each gets a new revision and its
    ingestion job, exactly as a re-upload of the same content would (the service's own
    helpers); the documents' states show the progress. Jobs of older revisions still
    queued find themselves stale."""
    await StateRepository(session, scope).locked()
    docs = await DocumentRepository(session, scope).all_for_update()
    for doc in docs:
        doc.revision += 1
        _reset(doc)
    await session.flush()
    for doc in docs:
        _request_ingest(session, scope, doc)
    return docs


async def reindex_one(
    session: AsyncSession, scope: TenantScope, document_id: int
) -> KnowledgeDocument:
    """Parse, chunk and index one document (or FAQ entry) again from what is stored, as
    :func:`reindex_all` does for each (404 for another tenant's document). Until the new
    revision is ready, search keeps answering from the old chunks."""
    await StateRepository(session, scope).locked()
    doc = await DocumentRepository(session, scope).get_for_update(document_id)
    if doc is None:
        raise NotFound("document not found")
    doc.revision += 1
    _reset(doc)
    await session.flush()
    _request_ingest(session, scope, doc)
    return doc
