"""The knowledge base: uploads, FAQ entries, ingestion (parse -> chunk -> analyse -> embed ->
store) and the version bump that tells every process's index to catch up.

Uploads are checked at once (empty, too big, not a type we read, the tenant's space) and
answered with a 4xx; everything that needs the file's content (a corrupt or encrypted PDF, a
zip bomb, no text) happens in the ``knowledge.ingest`` job and ends the document ``failed``
with the reason. A document's chunks are replaced in one transaction together with the
version bump, so a search sees either the old chunks or the new ones; a delete takes them out
of search at once (search reads the chunk rows it returns, and deleted rows are gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.ai.base import Embedder, EmbeddingRequest, ProviderError
from frontline.ai.providers.registry import (
    InvalidProviderConfig,
    build_embedder,
    supports_embeddings,
    validate_embedder_config,
)
from frontline.errors import AppError, NotFound, PayloadTooLarge, Unprocessable
from frontline.jobs.queue import enqueue
from frontline.kit.crypto import SecretBox
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.knowledge import rerank, semantic
from frontline.knowledge.analysis import analyze
from frontline.knowledge.chunking import Chunk, chunk_document, chunk_search_text, faq_chunk
from frontline.knowledge.index import Hit, IndexBackend
from frontline.knowledge.parsing import DocumentError, ParseLimits, parse_document, sniff_type
from frontline.knowledge.repository import ChunkRepository, DocumentRepository, StateRepository
from frontline.knowledge.vectors import EMBED_BATCH, embed_texts
from frontline.models import DocumentStatus, KnowledgeDocument

log = logging.getLogger(__name__)

FAQ_KIND = "faq"
# progress is written at most this often while a document is parsed
PROGRESS_SECONDS = 0.5


class UnsupportedType(AppError):
    status_code = 415
    code = "unsupported_type"


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_tenant_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    """The tenant's embedding model, when it has one: chunks get vectors for dense search."""

    embedder: Embedder
    model: str


# --- documents -------------------------------------------------------------------------------


async def get_document(session: AsyncSession, scope: TenantScope, document_id: int) -> Any:
    doc = await DocumentRepository(session, scope).get(document_id)
    if doc is None:
        raise NotFound("document not found")
    return doc


async def list_documents(
    session: AsyncSession, scope: TenantScope, *, limit: int, after_id: int | None
) -> list[KnowledgeDocument]:
    return await DocumentRepository(session, scope).page(limit=limit, after_id=after_id)


def _request_ingest(session: AsyncSession, scope: TenantScope, doc: KnowledgeDocument) -> None:
    enqueue(
        session,
        events.JOB_KNOWLEDGE_INGEST,
        {"document_id": doc.id, "revision": doc.revision},
        tenant_id=scope.tenant_id,
        idempotency_key=f"kb-ingest:{scope.tenant_id}:{doc.id}:{doc.revision}",
        max_attempts=3,
    )


async def upload(
    session: AsyncSession,
    scope: TenantScope,
    data: bytes,
    *,
    filename: str = "",
    title: str | None = None,
    limits: Limits = Limits(),
    document_id: int | None = None,
    queue_job: bool = True,
) -> KnowledgeDocument:
    """Store an upload (a new document, or new content for ``document_id``) and queue its
    ingestion (unless the caller ingests it itself: ``queue_job=False``). Raises 4xx errors
    for what can be told without parsing."""
    if not data:
        raise Unprocessable("the file is empty", code="empty_file")
    if len(data) > limits.max_file_bytes:
        raise PayloadTooLarge(f"the file is larger than {_mb(limits.max_file_bytes)}")
    try:
        kind = sniff_type(data, filename)
    except DocumentError as exc:  # a damaged DOCX (ZIP) is refused here, before parsing
        code = {"corrupt": "corrupt_file", "empty": "empty_file"}.get(exc.code)
        raise UnsupportedType(exc.reason, code=code) from exc
    documents = DocumentRepository(session, scope)
    state = await StateRepository(session, scope).locked()  # one upload at a time per tenant
    doc: KnowledgeDocument | None = None
    if document_id is not None:
        doc = await documents.get_for_update(document_id)
        if doc is None or doc.kind == FAQ_KIND:
            raise NotFound("document not found")
    used = state.bytes_used - (doc.size_bytes if doc is not None else 0)
    if used + len(data) > limits.max_tenant_bytes:
        raise PayloadTooLarge(
            f"the knowledge base is full: {_mb(used)} of {_mb(limits.max_tenant_bytes)} used; "
            "delete documents to make room",
            code="knowledge_base_full",
        )
    state.bytes_used = used + len(data)
    name = filename.rsplit("/", 1)[-1][:300]
    if doc is None:
        doc = documents.add(
            KnowledgeDocument(title=(title or "").strip()[:300], filename=name, revision=1)
        )
    else:
        doc.revision += 1
        doc.filename = name or doc.filename
        if title is not None:
            doc.title = title.strip()[:300]
    doc.kind = kind
    doc.size_bytes = len(data)
    doc.content = data
    _reset(doc)
    await session.flush()
    if queue_job:
        _request_ingest(session, scope, doc)
    return doc


async def save_faq(
    session: AsyncSession,
    scope: TenantScope,
    question: str,
    answer: str,
    *,
    document_id: int | None = None,
) -> KnowledgeDocument:
    """A manual FAQ entry (new, or an edit of ``document_id``): one chunk, ingested by the
    same job as files (so it gets embeddings the same way)."""
    documents = DocumentRepository(session, scope)
    await StateRepository(session, scope).locked()
    if document_id is None:
        doc = documents.add(KnowledgeDocument(kind=FAQ_KIND, revision=1))
    else:
        found = await documents.get_for_update(document_id)
        if found is None or found.kind != FAQ_KIND:
            raise NotFound("FAQ entry not found")
        doc = found
        doc.revision += 1
    doc.question, doc.answer = question.strip(), answer.strip()
    doc.title = doc.question[:300]
    _reset(doc)
    await session.flush()
    _request_ingest(session, scope, doc)
    return doc


def _reset(doc: KnowledgeDocument) -> None:
    doc.status = DocumentStatus.PROCESSING.value
    doc.failure_reason = doc.failure_code = None
    doc.pages_total = doc.pages_done = doc.chunks_done = 0
    doc.updated_at = utcnow()


async def delete_document(session: AsyncSession, scope: TenantScope, document_id: int) -> None:
    state = await StateRepository(session, scope).locked()
    documents = DocumentRepository(session, scope)
    doc = await documents.get_for_update(document_id)
    if doc is None:
        raise NotFound("document not found")
    if await ChunkRepository(session, scope).delete_of(doc.id):
        state.removals += 1
    state.bytes_used = max(0, state.bytes_used - doc.size_bytes)
    state.version += 1
    await session.delete(doc)
    await session.flush()


# --- ingestion -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    chunks: list[Chunk]
    terms: list[str]
    pages: int
    kind: str
    title: str


def prepare(
    data: bytes | None,
    *,
    filename: str,
    title: str,
    faq: tuple[str, str] | None,
    limits: ParseLimits,
    on_page: Callable[[int, int], None] | None = None,
) -> Prepared:
    """Parse, chunk and analyse (CPU work, run in a thread). Raises DocumentError."""
    if faq is not None:
        chunks = [faq_chunk(*faq)]
        kind, pages = FAQ_KIND, 0
    else:
        parsed = parse_document(data or b"", filename=filename, limits=limits, on_page=on_page)
        title = title or parsed.title
        chunks = chunk_document(parsed)
        kind, pages = parsed.kind, parsed.pages
        if not chunks:
            raise DocumentError("no text found in the file", code="empty")
    return Prepared(chunks, index_terms(chunks, title), pages, kind, title)


def index_terms(chunks: Sequence[Chunk], title: str) -> list[str]:
    """What a chunk's ``terms`` column stores: three lines of analysed terms - its text, its
    document title and heading path, and its context (the neighbouring chunks' text, weaker
    evidence of the topic) - the fields of :class:`~frontline.knowledge.lexical.IndexDoc`."""
    bodies = [" ".join(analyze(chunk.text)) for chunk in chunks]
    out = []
    for i, chunk in enumerate(chunks):
        heading = " ".join(analyze(chunk_search_text(replace(chunk, text=""), title)))
        context = " ".join(bodies[j] for j in (i - 1, i + 1) if 0 <= j < len(chunks))
        out.append(f"{bodies[i]}\n{heading}\n{context}")
    return out


async def ingest(
    db: Database,
    scope: TenantScope,
    document_id: int,
    revision: int,
    *,
    parse_limits: ParseLimits = ParseLimits(),
    embedding: EmbeddingModel | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> str | None:
    """Ingest one revision of a document; returns its final status (``None`` when the job is
    stale: the document was deleted or re-uploaded meanwhile). Provider errors while
    embedding propagate (the job retries); a bad file ends the document ``failed``."""
    async with db.transaction() as session:
        doc = await DocumentRepository(session, scope).get_with_content(document_id)
        if doc is None or doc.revision != revision:
            return None
        content, filename, title = doc.content, doc.filename, doc.title
        faq = (doc.question, doc.answer) if doc.kind == FAQ_KIND else None

    pages = [0, 0]

    def on_page(done: int, total: int) -> None:  # runs in the parsing thread
        pages[0], pages[1] = done, total
        if on_progress is not None:
            on_progress(done, total)

    work = asyncio.create_task(
        asyncio.to_thread(
            prepare,
            content,
            filename=filename,
            title=title,
            faq=faq,
            limits=parse_limits,
            on_page=on_page,
        )
    )
    try:
        while True:
            done, _ = await asyncio.wait({work}, timeout=PROGRESS_SECONDS)
            if done:
                break
            await _progress(
                db, scope, document_id, revision, pages_done=pages[0], pages_total=pages[1]
            )
        prepared = work.result()
    except DocumentError as exc:
        return await _fail(db, scope, document_id, revision, exc)
    vectors: list[bytes | None] = [None] * len(prepared.chunks)
    if embedding is not None:
        vectors = list(await embed_texts(embedding, [c.text for c in prepared.chunks]))

    async def embedded(n: int) -> None:  # the semantic re-rank's progress, as chunks done
        await _progress(db, scope, document_id, revision, chunks_done=n)

    reranks = await semantic.chunk_vectors(prepared.chunks, prepared.title, embedded)
    rows = [
        {
            "ordinal": chunk.ordinal,
            "text": chunk.text,
            "heading_path": list(chunk.heading_path),
            "page": chunk.page,
            "terms": terms,
            "embedding": vector,
            "embedding_model": embedding.model if embedding is not None and vector else None,
            "rerank_vector": reranked,
            "rerank_model": rerank.MODEL if reranked else None,
            "meta": _chunk_meta(chunk, faq),
        }
        for chunk, terms, vector, reranked in zip(
            prepared.chunks, prepared.terms, vectors, reranks or [None] * len(vectors), strict=True
        )
    ]
    async with db.transaction() as session:
        state = await StateRepository(session, scope).locked()
        doc = await DocumentRepository(session, scope).get_for_update(document_id)
        if doc is None or doc.revision != revision:
            return None
        if await ChunkRepository(session, scope).replace(document_id, rows):
            state.removals += 1
        if reranks is None and rerank.encoder() is not None:  # the models failed: later
            semantic.request_backfill(session, scope)
        state.version += 1
        doc.status = DocumentStatus.READY.value
        doc.failure_reason = doc.failure_code = None
        doc.kind = prepared.kind
        doc.title = doc.title or prepared.title[:300]
        doc.pages_total = doc.pages_done = prepared.pages
        doc.chunks_done = len(rows)
        doc.updated_at = utcnow()
    return DocumentStatus.READY.value


def _chunk_meta(chunk: Chunk, faq: tuple[str, str] | None) -> dict[str, Any]:
    if faq is not None:
        return {"question": faq[0], "answer": faq[1]}
    return {}


async def _progress(
    db: Database, scope: TenantScope, document_id: int, revision: int, **values: int
) -> None:
    try:
        async with db.transaction() as session:
            await DocumentRepository(session, scope).set_progress(document_id, revision, **values)
    except Exception:
        log.warning("recording ingestion progress failed", exc_info=True)


async def _fail(
    db: Database, scope: TenantScope, document_id: int, revision: int, exc: DocumentError
) -> str:
    async with db.transaction() as session:
        await mark_failed(session, scope, document_id, revision, exc.reason, exc.code)
    log.info("document failed", extra={"document_id": document_id, "reason": exc.reason})
    return DocumentStatus.FAILED.value


async def mark_failed(
    session: AsyncSession, scope: TenantScope, document_id: int, revision: int, reason: str,
    code: str = "ingestion",  # DocumentError.code: the console explains it in its language
) -> None:
    await DocumentRepository(session, scope).set_progress(
        document_id, revision, status=DocumentStatus.FAILED.value, failure_reason=reason,
        failure_code=code, updated_at=utcnow(),
    )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


# --- the embedding model (dense search) ------------------------------------------------------

QUERY_EMBED_DEADLINE = 5.0
MAX_QUERY_CHARS = 1000


class InvalidEmbedding(AppError):
    status_code = 422
    code = "invalid"

    def __init__(self, message: str, fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


@dataclass(frozen=True, slots=True)
class EmbeddingSettings:
    kind: str | None
    model: str | None
    config: dict[str, Any]
    has_api_key: bool
    chunks_embedded: int
    chunks_total: int


async def embedding_settings(session: AsyncSession, scope: TenantScope) -> EmbeddingSettings:
    state = await StateRepository(session, scope).current()
    spec = (state.embedding if state is not None else None) or {}
    model = spec.get("model")
    done, total = await ChunkRepository(session, scope).embedding_counts(model)
    return EmbeddingSettings(
        kind=spec.get("kind"),
        model=model,
        config=dict(spec.get("config") or {}),
        has_api_key=bool(state is not None and state.embedding_secret),
        chunks_embedded=done,
        chunks_total=total,
    )


_KEEP = object()


async def set_embedding(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    *,
    kind: str | None,
    model: str | None,
    config: dict[str, Any],
    api_key: object = _KEEP,
) -> None:
    """Set (or with ``kind=None`` remove) the tenant's embedding model. ``api_key``: a new
    key, ``None`` to remove it, left out to keep the stored one. A new model re-embeds every
    chunk in the background (search stays lexical for chunks without a vector meanwhile)."""
    state = await StateRepository(session, scope).locked()
    if kind is None:
        state.embedding, state.embedding_secret = None, None
        state.epoch += 1
        state.version += 1
        return
    if not model:
        raise InvalidEmbedding("an embedding model is required")
    if not supports_embeddings(kind):
        raise InvalidEmbedding(f"{kind} has no embeddings (search stays lexical without one)")
    if "api_key" in config:
        raise InvalidEmbedding("the API key goes in api_key, not in config")
    key: str | None
    if api_key is _KEEP:
        key = _stored_key(state, box)
    else:
        key = str(api_key) if api_key is not None else None
    try:
        validate_embedder_config(kind, {**config, **({"api_key": key} if key else {})})
    except InvalidProviderConfig as exc:
        raise InvalidEmbedding("invalid embedding provider config", exc.fields) from exc
    previous = state.embedding or {}
    state.embedding = {"kind": kind, "model": model, "config": config}
    state.embedding_secret = box.encrypt(json.dumps({"api_key": key})) if key else None
    if (previous.get("kind"), previous.get("model")) != (kind, model) or previous.get(
        "config"
    ) != config:
        enqueue(
            session,
            events.JOB_KNOWLEDGE_EMBED,
            {},
            tenant_id=scope.tenant_id,
            idempotency_key=f"kb-embed:{scope.tenant_id}:{state.version}:{model}",
            max_attempts=5,
        )


class _EmbeddingState(Protocol):
    """The columns of ``kb_state`` that name the embedding model."""

    @property
    def embedding(self) -> dict[str, Any] | None: ...

    @property
    def embedding_secret(self) -> str | None: ...


def _stored_key(state: _EmbeddingState, box: SecretBox) -> str | None:
    if not state.embedding_secret:
        return None
    key = json.loads(box.decrypt(state.embedding_secret)).get("api_key")
    return str(key) if key else None


async def load_embedding(
    session: AsyncSession, scope: TenantScope, box: SecretBox
) -> EmbeddingModel | None:
    """The tenant's embedding model, ready to call (``None``: lexical search only)."""
    return _embedding_of(await StateRepository(session, scope).current(), box)


def _embedding_of(state: _EmbeddingState | None, box: SecretBox) -> EmbeddingModel | None:
    if state is None or not state.embedding:
        return None
    spec = state.embedding
    key = _stored_key(state, box)
    config = {**spec.get("config", {}), **({"api_key": key} if key else {})}
    try:
        embedder = build_embedder(spec["kind"], config)
    except ProviderError:
        log.warning("the tenant's embedding provider is misconfigured", exc_info=True)
        return None
    return EmbeddingModel(embedder, str(spec["model"]))


async def embed_pending(db: Database, scope: TenantScope, box: SecretBox) -> int:
    """The ``knowledge.embed`` job: give every chunk a vector of the current model, batch
    by batch (provider errors propagate: the job retries), then make every process rebuild
    its index with the new vectors. Returns how many chunks were embedded."""
    done = 0
    while True:
        async with db.transaction() as session:
            embedding = await load_embedding(session, scope, box)
            if embedding is None:
                return done
            pending = await ChunkRepository(session, scope).embedding_pending(
                embedding.model, EMBED_BATCH
            )
        if not pending:
            break
        vectors = await embed_texts(embedding, [row.text for row in pending])
        async with db.transaction() as session:
            chunks = ChunkRepository(session, scope)
            for row, vector in zip(pending, vectors, strict=True):
                await chunks.set_embedding(int(row.id), vector, embedding.model)
        done += len(pending)
    async with db.transaction() as session:
        state = await StateRepository(session, scope).locked()
        state.epoch += 1
        state.version += 1
    return done


@dataclass(frozen=True, slots=True)
class SearchState:
    """What a search needs of the tenant's ``kb_state`` row (all zeros and ``None``
    before it exists), for a caller that read it along with other things."""

    version: tuple[int, int, int]
    embedding: dict[str, Any] | None
    embedding_secret: str | None


async def search(
    session: AsyncSession,
    scope: TenantScope,
    box: SecretBox,
    index: IndexBackend,
    query: str,
    k: int,
    state: SearchState | None = None,
    semantic_query: str | None = None,
) -> list[Hit]:
    """Knowledge search as the API and the AI use it: lexical, re-ranked semantically, fused
    with dense vectors when the tenant has an embedding model (a failing embedding provider
    leaves it lexical). ``state``: the tenant's row as the caller has just read it (else it
    is read here); ``semantic_query``: what the re-rank embeds (default ``query``)."""
    vector: list[float] | None = None
    if state is None:
        # one read serves both the embedding model and the index's freshness check
        row = await StateRepository(session, scope).current()
        state = SearchState(
            (row.version, row.removals, row.epoch) if row is not None else (0, 0, 0),
            row.embedding if row is not None else None,
            row.embedding_secret if row is not None else None,
        )
    version = state.version
    embedding = _embedding_of(state, box)
    if embedding is not None:
        try:
            result = await embedding.embedder.embed(
                EmbeddingRequest(
                    texts=(query,),
                    model=embedding.model,
                    purpose="query",
                    deadline_seconds=QUERY_EMBED_DEADLINE,
                )
            )
            vector = list(result.vectors[0])
        except ProviderError:
            log.warning("query embedding failed; searching lexically", exc_info=True)
    text = query if semantic_query is None else semantic_query  # no knowledge yet: no re-rank
    rerank_vector = await semantic.query_vector(text) if version[0] else None
    return await index.search(
        session, scope, query, k, query_vector=vector, state=version, rerank_vector=rerank_vector
    )
