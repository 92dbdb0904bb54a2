"""Two processes' indexes on one database (an API server and a worker, or two servers):
each catches up with what the other committed - additions, replacements, deletions and a
new embedding epoch - before it answers."""

from __future__ import annotations

from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.repository import TenantScope
from frontline.knowledge import service
from frontline.knowledge.index import InProcessIndex
from frontline.knowledge.repository import StateRepository
from tests.conftest import Factory


async def ids(services: Services, index: InProcessIndex, scope: TenantScope, q: str) -> set[int]:
    async with services.db.transaction() as session:
        return {h.document_id for h in await index.search(session, scope, q, 10)}


async def test_an_index_in_another_process_catches_up(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t = await factory.tenant()
    scope = TenantScope(t.id)
    api, other = InProcessIndex(), InProcessIndex()  # as two processes would hold them
    assert await ids(services, other, scope, "байдарки") == set()  # loaded while empty

    async with services.db.transaction() as session:
        doc = await service.upload(
            session, scope, "Аренда байдарок: 500 ₽ в час.".encode(), filename="a.txt"
        )
        doc_id = doc.id
    await worker.run_until_idle()
    assert await ids(services, api, scope, "байдарки") == {doc_id}
    assert await ids(services, other, scope, "байдарки") == {doc_id}  # caught up: addition

    async with services.db.transaction() as session:
        await service.upload(
            session, scope, "Прокат велосипедов: 300 ₽ в час.".encode(), document_id=doc_id
        )
    await worker.run_until_idle()
    assert await ids(services, other, scope, "байдарки") == set()  # replaced chunks gone
    assert await ids(services, other, scope, "велосипед") == {doc_id}

    async with services.db.transaction() as session:
        await service.delete_document(session, scope, doc_id)
    assert await ids(services, other, scope, "велосипед") == set()
    assert await ids(services, api, scope, "велосипед") == set()

    async with services.db.transaction() as session:
        faq = await service.save_faq(session, scope, "Есть ли парковка?", "Да, бесплатная.")
        faq_id = faq.id
    await worker.run_until_idle()
    async with services.db.transaction() as session:  # a new epoch: rebuilt from scratch
        state = await StateRepository(session, scope).locked()
        state.epoch += 1
        state.version += 1
    assert await ids(services, other, scope, "парковка") == {faq_id}
