"""HTTP: the knowledge base (operators read and search, admins change it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from frontline.auth.deps import Admin, Operator
from frontline.deps import ServicesDep, Session
from frontline.errors import Unprocessable, error_body
from frontline.kit.params import BIGINT_MAX, PathId
from frontline.knowledge import chunks, service
from frontline.knowledge.schemas import (
    MAX_QUERY_CHARS,
    DocumentOut,
    DocumentPage,
    EmbeddingOut,
    FaqIn,
    KnowledgeSettingsIn,
    KnowledgeSettingsOut,
    PassageOut,
    SearchOut,
)
from frontline.settings import Settings

router = APIRouter(prefix="/knowledge", tags=["knowledge"])


DocumentId = PathId
ERRORS: dict[int | str, dict[str, str]] = {
    413: {"description": "the file, or the tenant's knowledge base, is too big"},
    415: {"description": "not a type Frontline reads (PDF, DOCX, HTML, Markdown, text)"},
    422: {"description": "empty file"},
}


def _limits(settings: Settings) -> service.Limits:
    return service.Limits(
        max_file_bytes=settings.knowledge_max_file_bytes,
        max_tenant_bytes=settings.knowledge_max_tenant_bytes,
    )


async def _store(
    session: Session,
    services: ServicesDep,
    subject: Admin,
    file: UploadFile,
    title: str | None,
    document_id: int | None = None,
) -> DocumentOut:
    limits = _limits(services.settings)
    if document_id is None:  # a new document counts against the plan's limit
        await chunks.enforce_document_limit(session, subject.scope)
    # one byte over the limit is enough for the service to refuse it (413)
    data = await file.read(limits.max_file_bytes + 1)
    doc = await service.upload(
        session,
        subject.scope,
        data,
        filename=file.filename or "",
        title=title,
        limits=limits,
        document_id=document_id,
    )
    return DocumentOut.model_validate(doc)


@router.post(
    "/documents",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
)
async def upload_document(
    subject: Admin,
    session: Session,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or text")],
    title: Annotated[str | None, Form(max_length=300)] = None,
) -> DocumentOut:
    """Upload a document; it is ingested in the background (``status`` goes from
    ``processing`` to ``ready`` or ``failed`` with ``failure_reason``; ``pages_done`` and
    ``chunks_done`` show progress)."""
    return await _store(session, services, subject, file, title)


@router.put(
    "/documents/{document_id}",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
)
async def replace_document(
    document_id: DocumentId,
    subject: Admin,
    session: Session,
    services: ServicesDep,
    file: Annotated[UploadFile, File()],
    title: Annotated[str | None, Form(max_length=300)] = None,
) -> DocumentOut:
    """New content for a document: its chunks are replaced when the new version is ready
    (until then search keeps answering from the old one)."""
    return await _store(session, services, subject, file, title, document_id)


@router.get("/documents", response_model=DocumentPage)
async def list_documents(
    subject: Operator,
    session: Session,
    cursor: Annotated[str | None, Query(max_length=30, pattern=r"^\d+$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    """Documents and FAQ entries, newest first."""
    after = int(cursor) if cursor else None
    if after is not None and after > BIGINT_MAX:
        raise Unprocessable("invalid cursor")
    rows = await service.list_documents(session, subject.scope, limit=limit, after_id=after)
    return DocumentPage(
        items=[DocumentOut.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if len(rows) == limit else None,
    )


@router.get("/documents/{document_id}", response_model=DocumentOut)
async def get_document(document_id: DocumentId, subject: Operator, session: Session) -> DocumentOut:
    """One document with its ingestion status and progress."""
    return DocumentOut.model_validate(
        await service.get_document(session, subject.scope, document_id)
    )


@router.delete("/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(document_id: DocumentId, subject: Admin, session: Session) -> None:
    """Delete a document or FAQ entry; it leaves search at once."""
    await service.delete_document(session, subject.scope, document_id)


class ReindexOut(BaseModel):
    documents: int  # how many documents and FAQ entries are being indexed again


@router.post("/reindex", response_model=ReindexOut, status_code=status.HTTP_202_ACCEPTED)
async def reindex(subject: Admin, session: Session) -> ReindexOut:
    """Parse, chunk and index every document and FAQ entry again from what is stored; each
    document's ``status`` (``processing`` -> ``ready`` | ``failed``) shows the progress."""
    docs = await chunks.reindex_all(session, subject.scope)
    return ReindexOut(documents=len(docs))


@router.post(
    "/documents/{document_id}/reindex",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
)
async def reindex_document(
    document_id: DocumentId, subject: Admin, session: Session
) -> DocumentOut:
    """Parse, chunk and index one document again from what is stored (``status`` goes back
    to ``processing``, then ``ready`` or ``failed``); search keeps the old chunks until the
    new ones are ready."""
    return DocumentOut.model_validate(
        await chunks.reindex_one(session, scope=subject.scope, document_id=document_id)
    )


@router.post("/faq", response_model=DocumentOut, status_code=status.HTTP_202_ACCEPTED)
async def create_faq(body: FaqIn, subject: Admin, session: Session) -> DocumentOut:
    """A manual FAQ entry (question + answer), searchable as one passage."""
    await chunks.enforce_document_limit(session, subject.scope)
    doc = await service.save_faq(session, subject.scope, body.question, body.answer)
    return DocumentOut.model_validate(doc)


@router.put("/faq/{faq_id}", response_model=DocumentOut, status_code=status.HTTP_202_ACCEPTED)
async def update_faq(
    faq_id: DocumentId, body: FaqIn, subject: Admin, session: Session
) -> DocumentOut:
    """Edit an FAQ entry (its id is a document id; delete it through ``/documents``)."""
    doc = await service.save_faq(
        session, subject.scope, body.question, body.answer, document_id=faq_id
    )
    return DocumentOut.model_validate(doc)


@router.get("/search", response_model=SearchOut, responses={422: {"description": "bad query"}})
async def search(
    subject: Operator,
    session: Session,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> SearchOut:
    """The passages that best answer ``q`` (lexical with Russian/English stemming, fused
    with dense vectors when the tenant has an embedding model), best first."""
    if not q.strip():
        raise Unprocessable("the query is empty")
    hits = await service.search(
        session, subject.scope, services.secret_box, services.knowledge, q, k
    )
    return SearchOut(
        query=q,
        passages=[
            PassageOut(
                chunk_id=h.chunk_id,
                document_id=h.document_id,
                document_title=h.title,
                heading_path=list(h.heading_path),
                page=h.page,
                text=h.text,
                score=round(h.score, 6),
            )
            for h in hits
        ],
    )


async def _settings_out(session: Session, subject: Operator) -> KnowledgeSettingsOut:
    current = await service.embedding_settings(session, subject.scope)
    embedding = None
    if current.kind is not None and current.model is not None:
        embedding = EmbeddingOut(
            kind=current.kind,
            model=current.model,
            config=current.config,
            has_api_key=current.has_api_key,
        )
    return KnowledgeSettingsOut(
        embedding=embedding,
        chunks_embedded=current.chunks_embedded,
        chunks_total=current.chunks_total,
    )


@router.get("/settings", response_model=KnowledgeSettingsOut)
async def get_settings(subject: Operator, session: Session) -> KnowledgeSettingsOut:
    """The embedding model (API key shown only as ``has_api_key``) and how many chunks have
    a vector of it."""
    return await _settings_out(session, subject)


@router.put(
    "/settings",
    response_model=KnowledgeSettingsOut,
    responses={422: {"description": "invalid embedding provider config"}},
)
async def put_settings(
    body: KnowledgeSettingsIn, subject: Admin, session: Session, services: ServicesDep
) -> KnowledgeSettingsOut | JSONResponse:
    """Set the embedding model (``null`` turns dense search off). A new model re-embeds
    every chunk in the background."""
    e = body.embedding
    extra: dict[str, Any] = {}
    if e is not None and "api_key" in e.model_fields_set:
        extra["api_key"] = e.api_key.get_secret_value() if e.api_key is not None else None
    try:
        await service.set_embedding(
            session,
            subject.scope,
            services.secret_box,
            kind=e.kind.value if e is not None else None,
            model=e.model if e is not None else None,
            config=e.config if e is not None else {},
            **extra,
        )
    except service.InvalidEmbedding as exc:
        return JSONResponse(
            error_body(exc.code, exc.message, fields=exc.fields), status_code=exc.status_code
        )
    await session.flush()
    return await _settings_out(session, subject)


class ChunkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ordinal: int
    heading_path: list[str]
    page: int | None
    text: str


@router.get("/documents/{document_id}/chunks", response_model=list[ChunkOut])
async def document_chunks(
    document_id: PathId,
    subject: Admin,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[ChunkOut]:
    """The chunks a document was split into (what the search and the AI see), in order."""
    rows = await chunks.of_document(session, subject.scope, document_id, limit)
    return [ChunkOut.model_validate(r) for r in rows]
