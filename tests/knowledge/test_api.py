"""The knowledge base through the API: upload -> ingestion job -> search, on SQLite and
PostgreSQL; replace, delete, FAQ entries, progress and the bad-input paths."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from frontline.deps import Services
from frontline.jobs.worker import Worker
from tests.conftest import Factory, TenantFixture

API = "/api/v1/knowledge"

TOURS_MD = """# Туры на Байкал

## Цены
Тур «Байкал за 7 дней» стоит 45 000 ₽ на человека. Детям до 12 лет скидка 20%.

## Бронирование
Чтобы забронировать тур, нужна предоплата 30%. Остаток оплачивается за 14 дней до начала.

## Отмена
Отмена бесплатна за 30 дней до начала тура. Позже удерживается предоплата.
"""

RULES_EN = """<html><head><title>Baggage rules</title><script>alert('x')</script>
<style>body{color:red}</style></head><body><h1>Baggage rules</h1>
<p>Each traveller may bring one suitcase up to 20 kg and one carry-on bag.</p>
<p>Bicycles travel for an extra fee of 3,000 rubles.</p></body></html>"""


async def upload(factory: Factory, t: TenantFixture, name: str, data: bytes, **form: str) -> Any:
    return await factory.client.post(
        f"{API}/documents", headers=t.owner, files={"file": (name, data)}, data=form
    )


async def search(factory: Factory, t: TenantFixture, q: str, k: int = 5) -> list[dict[str, Any]]:
    r = await factory.client.get(f"{API}/search", params={"q": q, "k": k}, headers=t.operator)
    assert r.status_code == 200, r.text
    passages: list[dict[str, Any]] = r.json()["passages"]
    return passages


async def document(factory: Factory, t: TenantFixture, doc_id: int) -> dict[str, Any]:
    r = await factory.client.get(f"{API}/documents/{doc_id}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_upload_ingest_and_search(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    r = await upload(factory, t, "tours.md", TOURS_MD.encode())
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["status"] == "processing" and doc["kind"] == "markdown"
    r = await upload(factory, t, "rules.html", RULES_EN.encode())
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    ready = await document(factory, t, doc["id"])
    assert ready["status"] == "ready" and ready["chunks_done"] >= 1, ready
    assert ready["title"] == "Туры на Байкал"
    # Russian morphology: "отменить" finds "Отмена", "бронировании" finds "забронировать"
    [best, *_] = await search(factory, t, "Можно ли отменить тур бесплатно?")
    assert "Отмена бесплатна" in best["text"]
    assert best["document_title"] == "Туры на Байкал" and best["heading_path"][-1] == "Отмена"
    assert best["score"] > 0 and best["document_id"] == doc["id"]
    [best, *_] = await search(factory, t, "how heavy can my suitcases be")
    assert "20 kg" in best["text"] and "alert" not in best["text"]
    assert best["document_title"] == "Baggage rules"


async def test_replace_and_delete_change_search_at_once(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    doc = (await upload(factory, t, "a.txt", "Парковка у офиса бесплатная.".encode())).json()
    await worker.run_until_idle()
    assert await search(factory, t, "парковка")
    r = await factory.client.put(
        f"{API}/documents/{doc['id']}",
        headers=t.owner,
        files={"file": ("a.txt", "Wi-Fi в автобусе бесплатный.".encode())},
    )
    assert r.status_code == 202 and r.json()["revision"] == 2
    await worker.run_until_idle()
    assert await search(factory, t, "парковка") == []
    [hit] = await search(factory, t, "wi-fi")
    assert hit["document_id"] == doc["id"]
    r = await factory.client.delete(f"{API}/documents/{doc['id']}", headers=t.owner)
    assert r.status_code == 204
    assert await search(factory, t, "wi-fi") == []
    r = await factory.client.get(f"{API}/documents/{doc['id']}", headers=t.owner)
    assert r.status_code == 404


async def test_faq_entries(factory: Factory, worker: Worker) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        f"{API}/faq",
        headers=t.owner,
        json={"question": "Можно ли с собакой?", "answer": "Да, маленькие собаки едут бесплатно."},
    )
    assert r.status_code == 202, r.text
    faq = r.json()
    await worker.run_until_idle()
    [hit] = await search(factory, t, "собака")
    assert hit["text"].startswith("Можно ли с собакой?") and "бесплатно" in hit["text"]
    r = await factory.client.put(
        f"{API}/faq/{faq['id']}",
        headers=t.owner,
        json={"question": "Можно ли с кошкой?", "answer": "Да, в переноске."},
    )
    assert r.status_code == 202
    await worker.run_until_idle()
    assert await search(factory, t, "собака") == []
    assert (await search(factory, t, "кошка"))[0]["document_id"] == faq["id"]
    r = await factory.client.post(
        f"{API}/faq", headers=t.owner, json={"question": "", "answer": "x"}
    )
    assert r.status_code == 422


async def test_search_is_tenant_scoped(factory: Factory, worker: Worker) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    await upload(factory, a, "a.txt", "Секретная скидка для партнёров 50%.".encode())
    await worker.run_until_idle()
    assert await search(factory, a, "скидка")
    assert await search(factory, b, "скидка") == []
    docs = (await factory.client.get(f"{API}/documents", headers=b.owner)).json()
    assert docs["items"] == []


async def test_list_is_paged(factory: Factory) -> None:
    t = await factory.tenant()
    for i in range(3):
        await upload(factory, t, f"{i}.txt", f"Документ номер {i}".encode())
    r = await factory.client.get(f"{API}/documents", params={"limit": 2}, headers=t.operator)
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    r = await factory.client.get(
        f"{API}/documents", params={"limit": 2, "cursor": page["next_cursor"]}, headers=t.operator
    )
    assert len(r.json()["items"]) == 1


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as f:
            block = b"\0" * (1024 * 1024)
            for _ in range(200):
                f.write(block)
    return buf.getvalue()


def _encrypted_pdf() -> bytes:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="Secret prices")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("bomb.docx", _zip_bomb, "zip bomb"),
        ("secret.pdf", _encrypted_pdf, "encrypted"),
        ("broken.pdf", lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n", "PDF"),
    ],
)
async def test_bad_files_end_failed_with_a_reason(
    factory: Factory, worker: Worker, name: str, make: Any, reason: str
) -> None:
    t = await factory.tenant()
    good = (await upload(factory, t, "ok.txt", "Трансфер из аэропорта включён.".encode())).json()
    r = await upload(factory, t, name, make())
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    bad = await document(factory, t, r.json()["id"])
    assert bad["status"] == "failed" and reason.lower() in bad["failure_reason"].lower(), bad
    assert (await document(factory, t, good["id"]))["status"] == "ready"
    assert await search(factory, t, "трансфер")


async def test_rejected_uploads(factory: Factory, services: Services) -> None:
    t = await factory.tenant()
    r = await upload(factory, t, "empty.txt", b"")
    assert r.status_code == 422 and "empty" in r.json()["error"]["message"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    r = await upload(factory, t, "image.txt", png)
    assert r.status_code == 415, r.text
    services.settings.knowledge_max_file_bytes = 2048
    r = await upload(factory, t, "big.txt", b"a " * 2000)
    assert r.status_code == 413 and "larger" in r.json()["error"]["message"]
    services.settings.knowledge_max_file_bytes = 20 * 1024 * 1024
    services.settings.knowledge_max_tenant_bytes = 3000
    assert (await upload(factory, t, "a.txt", b"word " * 500)).status_code == 202
    r = await upload(factory, t, "b.txt", b"word " * 500)
    assert r.status_code == 413 and "full" in r.json()["error"]["message"]
    r = await factory.client.post(
        f"{API}/documents", headers=t.operator, files={"file": ("a.txt", b"hello")}
    )
    assert r.status_code == 403


@pytest.mark.parametrize("q", ["", "   ", "x" * 1001])
async def test_bad_queries_are_422(factory: Factory, q: str) -> None:
    t = await factory.tenant()
    r = await factory.client.get(f"{API}/search", params={"q": q}, headers=t.operator)
    assert r.status_code == 422, r.text


async def test_progress_is_readable(factory: Factory, worker: Worker) -> None:
    from fpdf import FPDF

    t = await factory.tenant()
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    rivers = ["Katun", "Chuya", "Biya", "Shuya", "Msta", "Vuoksa"] * 2
    for page, river in enumerate(rivers):
        pdf.add_page()
        pdf.multi_cell(
            0,
            8,
            text=f"Rafting on the {river} river lasts {page + 2} days. The group meets at "
            f"the {river} base camp at nine in the morning; helmets and life jackets are "
            f"included. Day trips on the {river} cost {page + 5} thousand rubles.",
        )
    r = await upload(factory, t, "guide.pdf", bytes(pdf.output()))
    await worker.run_until_idle()
    doc = await document(factory, t, r.json()["id"])
    assert doc["kind"] == "pdf" and doc["status"] == "ready"
    assert doc["pages_total"] == doc["pages_done"] == 12 and doc["chunks_done"] >= 1
