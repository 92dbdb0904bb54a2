"""Re-indexing the whole knowledge base: every document and FAQ entry of the tenant (and
no other tenant's) is parsed and indexed again from what is stored; its state goes through
``processing`` back to ``ready`` and search finds the same passages; operators may not
start it. One document is re-indexed on its own the same way; a failed one keeps the code of
its failure (``failure_code``) for the console to explain."""

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


async def test_reindex_one_document(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    doc = (await upload(factory, t, "tours.md", TOURS_MD.encode())).json()
    keep = (await upload(factory, t, "more.md", b"# More\n\nAnother page.")).json()
    await worker.run_until_idle()
    url = f"{API}/documents/{doc['id']}/reindex"
    assert (await factory.client.post(url, headers=t.operator)).status_code == 403
    assert (await factory.client.post(url, headers=other.owner)).status_code == 404
    r = await factory.client.post(url, headers=t.owner)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "processing" and r.json()["revision"] == doc["revision"] + 1
    # only that one: the other document is left as it was
    assert (await document(factory, t, keep["id"]))["revision"] == keep["revision"]
    # search keeps answering from the old chunks until the new ones are ready
    assert await search(factory, t, "отменить тур бесплатно")
    await worker.run_until_idle()
    fresh = await document(factory, t, doc["id"])
    assert fresh["status"] == "ready" and fresh["failure_code"] is None
    assert await search(factory, t, "отменить тур бесплатно")


async def test_a_failed_document_says_why_by_code(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    r = await upload(factory, t, "empty.pdf", _empty_pdf())
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    failed = await document(factory, t, r.json()["id"])
    assert failed["status"] == "failed" and failed["failure_code"] == "no_text"
    assert failed["failure_reason"]
    # the upload's own refusals carry codes of their own
    r = await upload(factory, t, "empty.txt", b"")
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file"
    r = await upload(factory, t, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_type"
    r = await upload(factory, t, "broken.docx", b"PK\x03\x04 this is not really a docx")
    assert r.status_code == 415 and r.json()["error"]["code"] == "corrupt_file"


def _empty_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    return bytes(pdf.output())
