"""Dense search: a tenant's embedding model (OpenAI-compatible, against the fake server that
speaks the real protocol) gives chunks vectors, and search fuses them with the lexical
ranking; a failing embedding provider leaves search lexical."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from frontline.jobs.worker import Worker
from tests.ai.fakes import OPENAI_EMBED_PATH, FakeLLMServer, Reply, fake_vector, serve
from tests.conftest import Factory, TenantFixture

API = "/api/v1/knowledge"
KAYAK = "Аренда байдарок стоит 500 рублей в час."
TRANSFER = "Трансфер из аэропорта включён в стоимость."


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


def embedding_body(vector: list[float]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": vector}],
        "model": "emb-1",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


async def configure(factory: Factory, t: TenantFixture, fake: FakeLLMServer) -> Any:
    return await factory.client.put(
        f"{API}/settings",
        headers=t.owner,
        json={
            "embedding": {
                "kind": "openai_compatible",
                "model": "emb-1",
                "config": {"base_url": f"{fake.base}/openai/v1"},
                "api_key": "sk-embed-secret",
            }
        },
    )


async def search(factory: Factory, t: TenantFixture, q: str) -> list[dict[str, Any]]:
    r = await factory.client.get(f"{API}/search", params={"q": q}, headers=t.operator)
    assert r.status_code == 200, r.text
    passages: list[dict[str, Any]] = r.json()["passages"]
    return passages


async def test_dense_vectors_find_what_words_do_not(
    factory: Factory, worker: Worker, fake: FakeLLMServer
) -> None:
    fake.reset()
    t = await factory.tenant()
    r = await configure(factory, t, fake)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["embedding"]["has_api_key"] is True
    assert "sk-embed-secret" not in r.text and "api_key" not in out["embedding"]["config"]
    for name, text in (("kayak.txt", KAYAK), ("transfer.txt", TRANSFER)):
        r = await factory.client.post(
            f"{API}/documents", headers=t.owner, files={"file": (name, text.encode())}
        )
        assert r.status_code == 202, r.text
    await worker.run_until_idle()
    settings = (await factory.client.get(f"{API}/settings", headers=t.operator)).json()
    assert settings["chunks_embedded"] == settings["chunks_total"] == 2
    sent = [req for req in fake.requests_to(OPENAI_EMBED_PATH)]
    assert sent and sent[0].headers["authorization"] == "Bearer sk-embed-secret"
    [kayak] = [p for p in await search(factory, t, "байдарки") if "байдарок" in p["text"]]

    # English words share nothing with the Russian text: lexically nothing matches, but the
    # query's vector (scripted: the same as the kayak chunk's) finds it
    fake.script(OPENAI_EMBED_PATH, Reply(json=embedding_body(fake_vector(kayak["text"]))))
    hits = await search(factory, t, "canoe hire price")
    assert hits and hits[0]["chunk_id"] == kayak["chunk_id"]
    assert fake.requests_to(OPENAI_EMBED_PATH)[-1].json()["input"] == ["canoe hire price"]

    # the provider failing: search answers, lexically
    fake.script(OPENAI_EMBED_PATH, Reply(status=500, json={"error": {"message": "down"}}))
    hits = await search(factory, t, "трансфер из аэропорта")
    assert hits and "Трансфер" in hits[0]["text"]

    # dense search off: the English query finds nothing again
    r = await factory.client.put(f"{API}/settings", headers=t.owner, json={"embedding": None})
    assert r.status_code == 200 and r.json()["embedding"] is None
    before = len(fake.requests_to(OPENAI_EMBED_PATH))
    assert await search(factory, t, "canoe hire price") == []
    assert len(fake.requests_to(OPENAI_EMBED_PATH)) == before


async def test_a_new_model_reembeds_existing_chunks(
    factory: Factory, worker: Worker, fake: FakeLLMServer
) -> None:
    fake.reset()
    t = await factory.tenant()
    r = await factory.client.post(
        f"{API}/documents", headers=t.owner, files={"file": ("k.txt", KAYAK.encode())}
    )
    await worker.run_until_idle()
    settings = (await factory.client.get(f"{API}/settings", headers=t.operator)).json()
    assert settings == {"embedding": None, "chunks_embedded": 0, "chunks_total": 1}
    assert (await configure(factory, t, fake)).status_code == 200
    await worker.run_until_idle()
    settings = (await factory.client.get(f"{API}/settings", headers=t.operator)).json()
    assert settings["chunks_embedded"] == 1
    assert r.status_code == 202


@pytest.mark.parametrize(
    ("embedding", "fragment"),
    [
        ({"kind": "offline", "model": "x"}, "no embeddings"),
        ({"kind": "openai_compatible", "model": "x", "config": {"api_key": "k"}}, "api_key"),
        ({"kind": "openai_compatible", "model": "x", "config": {"base_url": 5}}, "config"),
        ({"kind": "nope", "model": "x"}, ""),
    ],
)
async def test_bad_embedding_settings_are_422(
    factory: Factory, embedding: dict[str, Any], fragment: str
) -> None:
    t = await factory.tenant()
    r = await factory.client.put(f"{API}/settings", headers=t.owner, json={"embedding": embedding})
    assert r.status_code == 422, r.text
    assert fragment in r.text
    r = await factory.client.put(f"{API}/settings", headers=t.operator, json={"embedding": None})
    assert r.status_code == 403
