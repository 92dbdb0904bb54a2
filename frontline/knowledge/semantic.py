"""The semantic re-rank in the knowledge base's workflows: chunk vectors at ingestion, the
``knowledge.rerank`` job that embeds chunks still without one (after an upgrade, or when the
models failed during ingestion), and the query's vector at search time.

Model work (:mod:`frontline.knowledge.rerank`) runs in a worker thread, never on the event
loop and never in a request: chunks are embedded by background jobs only, and a chunk
without a vector is searched lexically meanwhile. Without the model packages every function
here is a no-op (``None``), so search stays lexical.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from frontline import events
from frontline.jobs.queue import enqueue
from frontline.kit.db import Database
from frontline.kit.repository import TenantScope
from frontline.knowledge import rerank
from frontline.knowledge.chunking import Chunk
from frontline.knowledge.repository import ChunkRepository, StateRepository

log = logging.getLogger(__name__)

# chunks per transaction of the ``knowledge.rerank`` job
JOB_BATCH = 64
# what a query's re-rank vector is made of, at most (a customer's question is far shorter)
MAX_QUERY_CHARS = 400
# progress is written at most this often while a document's chunks are embedded
PROGRESS_SECONDS = 0.5


async def chunk_vectors(
    chunks: Sequence[Chunk],
    title: str,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> list[bytes | None] | None:
    """The re-rank vectors of a document's chunks ("heading. chunk"), or ``None`` when the
    models are not installed or fail (logged; the chunks are then stored without vectors
    and the ``knowledge.rerank`` job embeds them). ``progress(chunks embedded)`` is awaited
    every ``PROGRESS_SECONDS`` while they are embedded (in a worker thread)."""
    encoder = rerank.encoder()
    if encoder is None or not chunks:
        return None
    texts = [rerank.passage_text(title, c.heading_path, c.text) for c in chunks]
    count = [0]

    def on_batch(n: int) -> None:  # runs in the worker thread
        count[0] = n

    work = asyncio.create_task(asyncio.to_thread(encoder.passages, texts, on_batch))
    try:
        while True:
            finished, _ = await asyncio.wait({work}, timeout=PROGRESS_SECONDS)
            if finished:
                break
            if progress is not None:
                await progress(count[0])
        matrix = work.result()
    except Exception:  # a broken wheel, out of memory: ingestion goes on without vectors
        log.warning("semantic re-rank: embedding the chunks failed", exc_info=True)
        return None
    out: list[bytes | None] = [rerank.vector_bytes(row) for row in matrix]
    return out


async def query_vector(query: str) -> rerank.Vector | None:
    """The query's re-rank vector (``None``: search lexically), of its first
    ``MAX_QUERY_CHARS`` characters (the models' cost grows with the length)."""
    encoder = rerank.encoder()
    if encoder is None or not query.strip():
        return None
    try:
        text = query[:MAX_QUERY_CHARS]
        vectors: rerank.Vector = await asyncio.to_thread(encoder.queries, [text])
        first: rerank.Vector = vectors[0]
        return first
    except Exception:
        log.warning("semantic re-rank: embedding the query failed", exc_info=True)
        return None


def request_backfill(session: AsyncSession, scope: TenantScope) -> None:
    """Queue the ``knowledge.rerank`` job for the tenant (with the caller's transaction)."""
    enqueue(session, events.JOB_KNOWLEDGE_RERANK, {}, tenant_id=scope.tenant_id)


async def embed_pending(
    db: Database, scope: TenantScope, on_done: Callable[[int], None] | None = None
) -> int:
    """The ``knowledge.rerank`` job: give every chunk of the tenant a re-rank vector of the
    current models, batch by batch, then make every process rebuild its index with the new
    vectors (until then they search those chunks lexically). Returns how many chunks were
    embedded; ``on_done(total so far)`` after each batch."""
    encoder = rerank.encoder()
    if encoder is None:
        return 0
    done = 0
    while True:
        async with db.transaction() as session:
            pending = await ChunkRepository(session, scope).rerank_pending(rerank.MODEL, JOB_BATCH)
        if not pending:
            break
        texts = [
            rerank.passage_text(row.title or "", row.heading_path or (), row.text)
            for row in pending
        ]
        matrix = await asyncio.to_thread(encoder.passages, texts)
        async with db.transaction() as session:
            chunks = ChunkRepository(session, scope)
            for row, vector in zip(pending, matrix, strict=True):
                await chunks.set_rerank_vector(
                    int(row.id), rerank.vector_bytes(vector), rerank.MODEL
                )
        done += len(pending)
        if on_done is not None:
            on_done(done)
    if done:
        async with db.transaction() as session:
            state = await StateRepository(session, scope).locked()
            state.epoch += 1
            state.version += 1
    return done
