"""Search over a tenant's chunks: the backend Protocol and the embedded default, an
in-process index per tenant kept in step with the database.

Every call names the tenant (:class:`~frontline.kit.repository.TenantScope`): there is no
search without one. The in-process backend keeps, per tenant, a lexical index over the
chunks' stored analysed ``terms`` and, when chunks have embeddings, a matrix of their
vectors. Before answering it compares the tenant's ``kb_state.version`` (one indexed read)
with the version it last saw and catches up: new chunks (ids above the highest it has) are
added, chunks no longer in the table are removed. Each process (API servers, workers) does
this on its own, so they all answer from what is committed, however many there are. The
hits are then read back from the database with the tenant filter, so a chunk deleted a
moment ago is never returned, even by an index that has not caught up yet.

The lexical ranking's best 50 are re-scored by the semantic re-rank when the packages are
installed and the caller passes the query's re-rank vector (:mod:`frontline.knowledge.rerank`;
chunks not embedded yet keep their lexical score). With a tenant's own embedding model, that
ranking and the dense one are then fused with reciprocal rank fusion (RRF, k = 60).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantScope
from frontline.knowledge.analysis import analyze
from frontline.knowledge.lexical import IndexDoc, LexicalIndex
from frontline.knowledge.repository import ChunkRepository, StateRepository
from frontline.knowledge.rerank import Vector, rerank, vector_of

RRF_K = 60
# candidates each ranking contributes to the fusion
CANDIDATES = 50
LOAD_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: int
    document_id: int
    title: str
    heading_path: tuple[str, ...]
    page: int | None
    text: str
    score: float
    meta: dict[str, Any] = field(default_factory=dict)


class IndexBackend(Protocol):
    """A search backend. ``scope`` is required: results only ever come from its tenant."""

    async def search(
        self,
        session: AsyncSession,
        scope: TenantScope,
        query: str,
        k: int,
        *,
        query_vector: Sequence[float] | None = None,
        state: tuple[int, int, int] | None = None,
        rerank_vector: Vector | None = None,
    ) -> list[Hit]:
        """``rerank_vector``: the query's semantic re-rank vector (``None``: no re-rank).
        ``state``: the tenant's ``(version, removals, epoch)`` when the caller has just
        read it in this session (saves the backend reading it again)."""
        ...


class TenantIndex:
    """One tenant's chunks in memory: the lexical index, the vectors of its embedding model
    and the semantic re-rank vectors."""

    def __init__(self) -> None:
        self.version = -1
        self.removals = 0
        self.epoch = 0
        self.max_id = 0
        self.lexical = LexicalIndex()
        self.vectors: dict[int, np.ndarray] = {}
        self.rerank_vectors: dict[int, Vector] = {}
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, rows: Sequence[Any]) -> None:
        """Index stored chunk rows (CPU work: the caller runs it in a thread)."""
        self.lexical.add([index_doc(int(r.id), r.terms) for r in rows])
        for r in rows:
            if r.embedding:
                self.vectors[int(r.id)] = np.frombuffer(r.embedding, dtype=np.float32)
            rerank_vector = vector_of(r.rerank_vector, r.rerank_model)
            if rerank_vector is not None:
                self.rerank_vectors[int(r.id)] = rerank_vector
            self.max_id = max(self.max_id, int(r.id))
        self._matrix = None

    def remove(self, ids: Sequence[int]) -> None:
        self.lexical.remove(ids)
        for i in ids:
            self.vectors.pop(i, None)
            self.rerank_vectors.pop(i, None)
        self._matrix = None

    def rank(
        self,
        query: str,
        k: int,
        query_vector: Sequence[float] | None = None,
        rerank_vector: Vector | None = None,
    ) -> list[tuple[int, float]]:
        """Chunk ids and scores, best first (at least ``k`` when there are so many): the
        lexical ranking, re-ranked semantically with ``rerank_vector``, then fused with the
        dense ranking when ``query_vector`` is given (see the module doc)."""
        reranked = query_vector is not None or rerank_vector is not None
        want = max(k, CANDIDATES) if reranked else k * 2
        ranked = self.lexical.search(analyze(query), want)
        if rerank_vector is not None and self.rerank_vectors:
            ranked = rerank(ranked, self.rerank_vectors.get, rerank_vector)
        if query_vector is not None:
            q = np.asarray(query_vector, dtype=np.float32)
            norm = float(np.linalg.norm(q))
            dense = self.dense(q / norm if norm > 0 else q, want)
            ranked = rrf([ranked, dense])
        return ranked

    def dense(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.vectors:
            return []
        if self._matrix is None:
            ids = np.fromiter(self.vectors, dtype=np.int64)
            dims = {v.shape[0] for v in self.vectors.values()}
            if len(dims) != 1:  # a model change half-way: use the newest vectors' size
                size = self.vectors[int(ids.max())].shape[0]
                ids = np.array([i for i in ids if self.vectors[int(i)].shape[0] == size])
            self._matrix = (ids, np.vstack([self.vectors[int(i)] for i in ids]))
        ids, matrix = self._matrix
        if matrix.shape[1] != query.shape[0]:
            return []
        scores = matrix @ query
        top = min(k, len(ids))
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best])]
        return [(int(ids[i]), float(scores[i])) for i in best]


class InProcessIndex:
    """The embedded default backend (see the module docstring)."""

    def __init__(self) -> None:
        self._tenants: dict[uuid.UUID, TenantIndex] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def sync(
        self,
        session: AsyncSession,
        scope: TenantScope,
        state: tuple[int, int, int] | None = None,
    ) -> TenantIndex:
        """The tenant's index, caught up with the committed chunks (see the module doc).
        Indexing runs in a thread so the event loop keeps serving other requests."""
        version, removals, epoch = state or await StateRepository(session, scope).version()
        index = self._tenants.get(scope.tenant_id)
        if index is not None and index.version == version:
            return index
        lock = self._locks.setdefault(scope.tenant_id, asyncio.Lock())
        async with lock:
            index = self._tenants.get(scope.tenant_id)
            if index is not None and index.version == version:
                return index
            if index is not None and index.epoch != epoch:
                index = None  # rebuilt from scratch (e.g. every chunk has a new vector)
            current = index or TenantIndex()
            chunks = ChunkRepository(session, scope)
            if index is not None and removals != index.removals:
                present = set(await chunks.all_ids())
                gone = [i for i in current.lexical.ids() if i not in present]
                if gone:
                    await asyncio.to_thread(current.remove, gone)
            # batch by batch: holding every row of a large tenant at once cost ~7x the
            # memory (measured: 2.6 GB RSS growth against 0.36 GB at 100k chunks)
            while batch := await chunks.index_rows(current.max_id, LOAD_BATCH):
                await asyncio.to_thread(current.add, batch)
            current.version, current.removals, current.epoch = version, removals, epoch
            self._tenants[scope.tenant_id] = current
            return current

    async def search(
        self,
        session: AsyncSession,
        scope: TenantScope,
        query: str,
        k: int,
        *,
        query_vector: Sequence[float] | None = None,
        state: tuple[int, int, int] | None = None,
        rerank_vector: Vector | None = None,
    ) -> list[Hit]:
        index = await self.sync(session, scope, state)
        ranked = index.rank(query, k, query_vector, rerank_vector)
        if not ranked:
            return []
        rows = await ChunkRepository(session, scope).passages([i for i, _ in ranked])
        by_id = {int(r.id): r for r in rows}
        hits: list[Hit] = []
        for chunk_id, score in ranked:
            row = by_id.get(chunk_id)
            if row is None:
                continue  # deleted after the index last caught up
            hits.append(
                Hit(
                    chunk_id=chunk_id,
                    document_id=int(row.document_id),
                    title=row.title or "",
                    heading_path=tuple(row.heading_path or ()),
                    page=row.page,
                    text=row.text,
                    score=score,
                    meta=dict(row.meta or {}),
                )
            )
            if len(hits) == k:
                break
        return hits


def index_doc(chunk_id: int, terms: str) -> IndexDoc:
    """A chunk's stored ``terms`` (body, heading and context lines) as an index document."""
    body, _, rest = terms.partition("\n")
    heading, _, context = rest.partition("\n")
    return IndexDoc(chunk_id, body.split(), heading.split(), context.split())


def rrf(rankings: Sequence[Sequence[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of rankings (best first): score = sum of 1 / (k + rank)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, _score) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
