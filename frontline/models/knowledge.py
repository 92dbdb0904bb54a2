"""The knowledge base: documents a tenant uploads (or FAQ entries it types), their chunks,
and one version counter per tenant that search indexes compare to stay in step."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from frontline.kit.time import utcnow
from frontline.models.base import Base, BigId, created_at_column


class DocumentStatus(enum.StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class KnowledgeDocument(Base):
    """One uploaded file or FAQ entry. ``content`` keeps the uploaded bytes (ingestion reads
    them; a re-upload replaces them and bumps ``revision``). ``kind`` is what the content
    turned out to be (``pdf | docx | html | markdown | text``) or ``faq``."""

    __tablename__ = "kb_documents"
    # ids are never reused (SQLite would reuse a deleted highest id): an id a client kept,
    # or a job queued for it, must not come to mean another document
    __table_args__ = (
        Index("ix_kb_documents_tenant_id", "tenant_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20), default="")
    size_bytes: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.PROCESSING.value)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # what went wrong, for the console to explain in its language (DocumentError.code)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(default=1)
    pages_total: Mapped[int] = mapped_column(default=0)
    pages_done: Mapped[int] = mapped_column(default=0)
    chunks_done: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeChunk(Base):
    """A searchable piece of a document. ``terms`` is the analysed text (space-separated
    index terms) so an index rebuilds without re-analysing; ``embedding`` is a float32
    vector from the tenant's embedding model (``embedding_model``), when one is set."""

    __tablename__ = "kb_chunks"
    # ids only grow (SQLite would otherwise reuse the highest id after a delete): an index
    # catches up by loading ids above the highest it has (inserts are serialised per tenant
    # by the locked kb_state row, so they also commit in id order)
    __table_args__ = (
        Index("ix_kb_chunks_tenant_id", "tenant_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("kb_documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    heading_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    page: Mapped[int | None] = mapped_column()
    terms: Mapped[str] = deferred(mapped_column(Text, default="", nullable=False))
    embedding: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # the semantic re-rank's vector (frontline.knowledge.rerank: float32, both bundled
    # models) and the models it came from; null until the chunk is embedded
    rerank_vector: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    rerank_model: Mapped[str | None] = mapped_column(String(200))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class KnowledgeState(Base):
    """Per tenant: ``version`` goes up with every change to its chunks (in the same
    transaction), so each process's in-memory index knows when to catch up; ``bytes_used``
    counts stored uploads against the tenant's limit."""

    __tablename__ = "kb_state"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # goes up when chunks are deleted (a re-upload replaces its chunks): an index that saw
    # the same count only needs to load the new chunks, not to look for removed ones
    removals: Mapped[int] = mapped_column(BigInteger, default=0)
    # goes up when every process must rebuild its index from scratch (new embeddings)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(BigInteger, default=0)
    # the embedding model for dense search: {kind, model, config} without secrets; the
    # provider's API key in ``embedding_secret`` (SecretBox ciphertext)
    embedding: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    embedding_secret: Mapped[str | None] = mapped_column(Text)
