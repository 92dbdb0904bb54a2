"""Re-indexing the whole knowledge base: every document and FAQ entry of the tenant (and
no other tenant's) is parsed and indexed again from what is stored; its state goes through
``processing`` back to ``ready`` and search finds the same passages; operators may not
start it."""

from __future__ import annotations

from frontline.jobs.worker import Worker
from tests.conftest import Factory
from tests.knowledge.test_api import API, TOURS_MD, document, search, upload


async def test_reindex_every_document_of_the_tenant(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    doc = (await upload(factory, t, "tours.md", TOURS_MD.encode())).json()
    r = await factory.client.post(
        f"{API}/faq",
        headers=t.owner,
        json={"question": "Можно ли с собакой?", "answer": "Да, собаку до 15 кг можно."},
    )
    faq = r.json()
    theirs = (await upload(factory, other, "tours.md", TOURS_MD.encode())).json()
    await worker.run_until_idle()
    before = [h["text"] for h in await search(factory, t, "отменить тур бесплатно")]
    assert before

    r = await factory.client.post(f"{API}/reindex", headers=t.operator)
    assert r.status_code == 403
    r = await factory.client.post(f"{API}/reindex", headers=t.owner)
    assert r.status_code == 202, r.text
    assert r.json() == {"documents": 2}
    for d in (doc, faq):
        fresh = await document(factory, t, d["id"])
        assert fresh["status"] == "processing" and fresh["revision"] == d["revision"] + 1
    assert (await document(factory, other, theirs["id"]))["revision"] == theirs["revision"]

    await worker.run_until_idle()
    assert (await document(factory, t, doc["id"]))["status"] == "ready"
    assert (await document(factory, t, faq["id"]))["status"] == "ready"
    after = [h["text"] for h in await search(factory, t, "отменить тур бесплатно")]
    assert after == before
    [dog, *_] = await search(factory, t, "собака")
    assert "15 кг" in dog["text"]


async def test_reindex_of_an_empty_knowledge_base(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(f"{API}/reindex", headers=t.owner)
    assert r.status_code == 202 and r.json() == {"documents": 0}
