"""The knowledge benchmark's data: services on a database, tenants, and synthetic chunks
(``knowledge_index.Corpus`` words as ~900-character chunks, 25 per document) inserted in
bulk as ingested documents. Shared with ``benchmarks/offline_turn.py``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.ingest import SECRET
from benchmarks.knowledge_index import EN_STOP, RU_ENDINGS, RU_STOP, Corpus

CHUNK_WORDS = 100  # content words per synthetic chunk: ~900 characters with stop words
PER_DOCUMENT = 25  # synthetic chunks per document
INSERT_BATCH = 5000


def build(url: str) -> Any:
    from frontline.app import build_services
    from frontline.settings import Settings

    return build_services(Settings(database_url=url, secret_key=SECRET, env="test"))  # type: ignore[arg-type]


async def make_tenants(services: Any, names: Sequence[str]) -> dict[str, Any]:
    from frontline.kit.repository import TenantScope
    from frontline.tenants import service as tenants

    scopes: dict[str, Any] = {}
    async with services.db.transaction() as s:
        for name in names:
            tenant = await tenants.create_tenant(
                s, name=name, slug=f"{name}-{uuid.uuid4().hex[:6]}", locale="en"
            )
            scopes[name] = TenantScope(tenant.id)
    return scopes


# --- the synthetic corpus ----------------------------------------------------------------


class ChunkCorpus(Corpus):
    """``knowledge_index.Corpus`` words as ~900-character chunks of sentences, vectorised."""

    def passage(self, lang: str, words: int = CHUNK_WORDS) -> str:
        rng = self.rng
        lemmas = self.lemmas[lang]
        picked = np.searchsorted(self.cdf, rng.random(words)).tolist()
        stops = RU_STOP if lang == "ru" else EN_STOP
        with_stop = (rng.random(words) < 0.3).tolist()
        stop_pick = rng.integers(0, len(stops), words).tolist()
        endings = rng.integers(0, len(RU_ENDINGS), words).tolist()
        sentence_len = rng.integers(6, 15, words).tolist()
        out: list[str] = []
        left = 0
        for i in range(words):
            start = left == 0
            if start:
                left = sentence_len[i]
                if out:
                    out[-1] += "."
            if with_stop[i]:
                stop = stops[stop_pick[i]]
                out.append(stop.capitalize() if start else stop)
                start = False
            word = lemmas[picked[i]]
            if lang == "ru":
                word += RU_ENDINGS[endings[i]]
            out.append(word.capitalize() if start else word)
            left -= 1
        return " ".join(out) + "."

    def title(self, lang: str, words: int) -> str:
        lemmas = self.lemmas[lang]
        picked = np.searchsorted(self.cdf, self.rng.random(words) * 0.3).tolist()
        return " ".join(lemmas[i] for i in picked).capitalize()


@dataclass
class Tenant:
    """One tenant's synthetic documents: per document (title, chunks, index terms)."""

    documents: list[tuple[str, list[Any], list[str]]]
    texts: list[str]
    langs: list[str]


def make_tenant_corpus(corpus: ChunkCorpus, chunks: int) -> Tenant:
    from frontline.knowledge.chunking import Chunk
    from frontline.knowledge.service import index_terms

    documents: list[tuple[str, list[Any], list[str]]] = []
    texts: list[str] = []
    langs: list[str] = []
    for start in range(0, chunks, PER_DOCUMENT):
        lang = "ru" if (start // PER_DOCUMENT) % 2 == 0 else "en"
        title = corpus.title(lang, 3)
        count = min(PER_DOCUMENT, chunks - start)
        section = (corpus.title(lang, 2),)
        items: list[Any] = []
        for ordinal in range(count):
            if ordinal % 5 == 0:
                section = (corpus.title(lang, 2),)
            text = corpus.passage(lang)
            path = (title, *section) if ordinal % 2 else section
            items.append(
                Chunk(ordinal=ordinal, text=text, heading_path=path, page=ordinal // 3 + 1)
            )
            texts.append(text)
            langs.append(lang)
        documents.append((title, items, index_terms(items, title)))
    return Tenant(documents, texts, langs)


async def insert_documents(
    services: Any,
    scope: Any,
    documents: Sequence[tuple[str, list[Any], list[str]]],
    random_rerank_vectors: bool = False,
) -> list[int]:
    """Store ``documents`` as ingested ones and bump the tenant's version (one transaction);
    returns their ids. ``random_rerank_vectors``: each chunk gets a random semantic re-rank
    vector (the layout and norms of real ones; embedding 5,000 synthetic ~900-character
    chunks for real takes ~20 CPU minutes, and search costs the same whatever the values)."""
    from sqlalchemy import insert

    from frontline.kit.time import utcnow
    from frontline.knowledge import rerank
    from frontline.knowledge.repository import StateRepository
    from frontline.models import KnowledgeChunk, KnowledgeDocument

    now = utcnow()
    ids: list[int] = []
    rng = np.random.default_rng(len(documents))
    async with services.db.transaction() as s:
        state = await StateRepository(s, scope).locked()
        for start in range(0, len(documents), INSERT_BATCH // PER_DOCUMENT):
            batch = documents[start : start + INSERT_BATCH // PER_DOCUMENT]
            doc_rows = [
                {
                    "tenant_id": scope.tenant_id,
                    "title": title,
                    "filename": f"doc-{start + i}.pdf",
                    "kind": "pdf",
                    "size_bytes": 1000 * len(chunks),
                    "status": "ready",
                    "revision": 1,
                    "pages_total": chunks[-1].page,
                    "pages_done": chunks[-1].page,
                    "chunks_done": len(chunks),
                    "created_at": now,
                    "updated_at": now,
                }
                for i, (title, chunks, _) in enumerate(batch)
            ]
            result = await s.execute(
                insert(KnowledgeDocument).returning(
                    KnowledgeDocument.id, sort_by_parameter_order=True
                ),
                doc_rows,
            )
            doc_ids = list(result.scalars())
            ids += doc_ids
            chunk_rows = [
                {
                    "tenant_id": scope.tenant_id,
                    "document_id": doc_id,
                    "ordinal": chunk.ordinal,
                    "text": chunk.text,
                    "heading_path": list(chunk.heading_path),
                    "page": chunk.page,
                    "terms": chunk_terms,
                    "embedding": None,
                    "embedding_model": None,
                    "rerank_vector": _random_rerank(rng) if random_rerank_vectors else None,
                    "rerank_model": rerank.MODEL if random_rerank_vectors else None,
                    "meta": {},
                }
                for doc_id, (_, chunks, terms) in zip(doc_ids, batch, strict=True)
                for chunk, chunk_terms in zip(chunks, terms, strict=True)
            ]
            await s.execute(insert(KnowledgeChunk), chunk_rows)
        state.version += 1
    return ids


def _random_rerank(rng: np.random.Generator) -> bytes:
    """A random vector laid out as the semantic re-rank's (each model's part of norm
    sqrt(its weight))."""
    from frontline.knowledge import rerank

    e5 = rng.standard_normal(rerank.E5_DIM)
    use = rng.standard_normal(rerank.USE_DIM)
    return rerank.vector_bytes(
        np.concatenate(
            [
                e5 / np.linalg.norm(e5) * np.sqrt(rerank.WEIGHT_E5),
                use / np.linalg.norm(use) * np.sqrt(rerank.WEIGHT_USE),
            ]
        )
    )
