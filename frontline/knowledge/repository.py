"""SQL of the knowledge base (documents, chunks, the per-tenant version)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import undefer

from frontline.kit.repository import TenantRepository
from frontline.models import KnowledgeChunk, KnowledgeDocument, KnowledgeState


class DocumentRepository(TenantRepository[KnowledgeDocument]):
    model = KnowledgeDocument

    async def count(self) -> int:
        """Documents and FAQ entries of the tenant."""
        stmt = self.select(func.count()).select_from(KnowledgeDocument)
        return int((await self.session.execute(stmt)).scalar_one())

    async def get_for_update(self, document_id: int) -> KnowledgeDocument | None:
        stmt = self.select().where(KnowledgeDocument.id == document_id).with_for_update()
        return await self.one_or_none(stmt)

    async def get_with_content(self, document_id: int) -> KnowledgeDocument | None:
        stmt = (
            self.select()
            .where(KnowledgeDocument.id == document_id)
            .options(undefer(KnowledgeDocument.content))
        )
        return await self.one_or_none(stmt)

    async def all_for_update(self) -> list[KnowledgeDocument]:
        """Every document and FAQ entry of the tenant, locked (without their content)."""
        stmt = self.select().order_by(KnowledgeDocument.id).with_for_update()
        return list((await self.session.execute(stmt)).scalars())

    async def page(self, *, limit: int, after_id: int | None) -> list[KnowledgeDocument]:
        stmt = self.select().order_by(KnowledgeDocument.id.desc()).limit(limit)
        if after_id is not None:
            stmt = stmt.where(KnowledgeDocument.id < after_id)
        return list((await self.session.execute(stmt)).scalars())

    async def set_progress(self, document_id: int, revision: int, **values: Any) -> None:
        """Progress of the ingestion of ``revision`` (a newer upload's progress wins)."""
        await self.session.execute(
            update(KnowledgeDocument)
            .where(
                KnowledgeDocument.tenant_id == self.scope.tenant_id,
                KnowledgeDocument.id == document_id,
                KnowledgeDocument.revision == revision,
            )
            .values(**values)
        )


class ChunkRepository(TenantRepository[KnowledgeChunk]):
    model = KnowledgeChunk

    async def replace(self, document_id: int, rows: Sequence[dict[str, Any]]) -> int:
        """The document's chunks become ``rows`` (new ids: indexes see removals + additions);
        returns how many old chunks were deleted."""
        deleted = await self.delete_of(document_id)
        if rows:
            tenant = self.scope.tenant_id
            await self.session.execute(
                insert(KnowledgeChunk),
                [{**row, "tenant_id": tenant, "document_id": document_id} for row in rows],
            )
        return deleted

    async def of_document(self, document_id: int, limit: int) -> list[KnowledgeChunk]:
        stmt = (
            self.select()
            .where(KnowledgeChunk.document_id == document_id)
            .order_by(KnowledgeChunk.ordinal, KnowledgeChunk.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def delete_of(self, document_id: int) -> int:
        result = await self.session.execute(
            delete(KnowledgeChunk).where(
                KnowledgeChunk.tenant_id == self.scope.tenant_id,
                KnowledgeChunk.document_id == document_id,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def index_rows(self, after_id: int, limit: int) -> list[Any]:
        """Chunks with ``id > after_id`` for an index: id, terms, embedding, its model, the
        re-rank vector and its model."""
        stmt = (
            select(
                KnowledgeChunk.id,
                KnowledgeChunk.terms,
                KnowledgeChunk.embedding,
                KnowledgeChunk.embedding_model,
                KnowledgeChunk.rerank_vector,
                KnowledgeChunk.rerank_model,
            )
            .where(KnowledgeChunk.tenant_id == self.scope.tenant_id, KnowledgeChunk.id > after_id)
            .order_by(KnowledgeChunk.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def all_ids(self) -> list[int]:
        stmt = select(KnowledgeChunk.id).where(KnowledgeChunk.tenant_id == self.scope.tenant_id)
        return [int(i) for i in (await self.session.execute(stmt)).scalars()]

    async def passages(self, ids: Sequence[int]) -> list[Any]:
        """The chunks ``ids`` (those still there) with their document's title and kind."""
        if not ids:
            return []
        stmt = (
            select(
                KnowledgeChunk.id,
                KnowledgeChunk.document_id,
                KnowledgeChunk.text,
                KnowledgeChunk.heading_path,
                KnowledgeChunk.page,
                KnowledgeChunk.meta,
                KnowledgeDocument.title,
                KnowledgeDocument.kind,
            )
            # the chunk's tenant filter is the scope (a chunk's document is always of the
            # same tenant); filtering documents by tenant too made PostgreSQL scan all of the
            # tenant's documents instead of joining the few chunks' documents by key
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(
                KnowledgeChunk.tenant_id == self.scope.tenant_id,
                KnowledgeChunk.id.in_(list(ids)),
            )
        )
        return list((await self.session.execute(stmt)).all())

    async def embedding_pending(self, model: str, limit: int) -> list[Any]:
        """Chunks without a vector of ``model``: id and text, oldest first."""
        stmt = (
            select(KnowledgeChunk.id, KnowledgeChunk.text)
            .where(
                KnowledgeChunk.tenant_id == self.scope.tenant_id,
                or_(
                    KnowledgeChunk.embedding_model.is_(None),
                    KnowledgeChunk.embedding_model != model,
                ),
            )
            .order_by(KnowledgeChunk.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def set_embedding(self, chunk_id: int, vector: bytes | None, model: str | None) -> None:
        await self.session.execute(
            update(KnowledgeChunk)
            .where(KnowledgeChunk.tenant_id == self.scope.tenant_id, KnowledgeChunk.id == chunk_id)
            .values(embedding=vector, embedding_model=model)
        )

    async def rerank_pending(self, model: str, limit: int) -> list[Any]:
        """Chunks without a re-rank vector of ``model``: id, text, heading path and their
        document's title, oldest first."""
        stmt = (
            select(
                KnowledgeChunk.id,
                KnowledgeChunk.text,
                KnowledgeChunk.heading_path,
                KnowledgeDocument.title,
            )
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(
                KnowledgeChunk.tenant_id == self.scope.tenant_id,
                or_(KnowledgeChunk.rerank_model.is_(None), KnowledgeChunk.rerank_model != model),
            )
            .order_by(KnowledgeChunk.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).all())

    async def set_rerank_vector(self, chunk_id: int, vector: bytes, model: str) -> None:
        await self.session.execute(
            update(KnowledgeChunk)
            .where(KnowledgeChunk.tenant_id == self.scope.tenant_id, KnowledgeChunk.id == chunk_id)
            .values(rerank_vector=vector, rerank_model=model)
        )

    async def embedding_counts(self, model: str | None) -> tuple[int, int]:
        """``(chunks with a vector of model, all chunks)``."""
        total = select(func.count()).where(KnowledgeChunk.tenant_id == self.scope.tenant_id)
        done = total.where(KnowledgeChunk.embedding_model == model)
        all_ = int((await self.session.execute(total)).scalar_one())
        if model is None:
            return 0, all_
        return int((await self.session.execute(done)).scalar_one()), all_


class StateRepository(TenantRepository[KnowledgeState]):
    model = KnowledgeState

    async def version(self) -> tuple[int, int, int]:
        """``(version, removals, epoch)`` of the tenant's knowledge base (zeros before any)."""
        stmt = select(KnowledgeState.version, KnowledgeState.removals, KnowledgeState.epoch).where(
            KnowledgeState.tenant_id == self.scope.tenant_id
        )
        row = (await self.session.execute(stmt)).first()
        if row is None:
            return (0, 0, 0)
        return (int(row.version), int(row.removals), int(row.epoch))

    async def current(self) -> KnowledgeState | None:
        return await self.one_or_none(self.select())

    async def locked(self) -> KnowledgeState:
        """The tenant's row, locked (created on first use, race-free); it serialises
        changes to one tenant's knowledge base."""
        insert_ = (
            pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        await self.session.execute(
            insert_(KnowledgeState)
            .values(tenant_id=self.scope.tenant_id, version=0, removals=0, epoch=0, bytes_used=0)
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        stmt = self.select().with_for_update().execution_options(populate_existing=True)
        row = await self.one_or_none(stmt)
        assert row is not None
        return row
