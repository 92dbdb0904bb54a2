"""The remote LLM adapters are built per call, but their HTTP clients (and so their keep-alive
connections) are shared within an event loop - the OpenAI SDK's per base URL and
credentials, the plain httpx one of GigaChat and YandexGPT per TLS settings - never across
loops, keys or tenants' cookies."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from frontline.ai.base import ChatMessage, CompletionRequest, EmbeddingRequest, ProviderKind
from frontline.ai.providers import common
from frontline.ai.providers.gigachat import TOKENS
from frontline.ai.providers.openai_compat import CLIENTS
from frontline.ai.providers.registry import build_provider
from tests.ai.fakes import giga_completion, giga_token, openai_completion, yandex_result
from tests.kit.keepalive import Answer, Request, keepalive_server


def openai_answer(request: Request) -> Answer:
    if request.path.endswith("/embeddings"):
        count = len(request.json()["input"])
        data = [{"object": "embedding", "index": i, "embedding": [0.1, 0.2]} for i in range(count)]
        body: Any = {"object": "list", "data": data, "model": "emb", "usage": {"prompt_tokens": 3}}
    else:
        body = openai_completion("Hi!", model="llama3.1")
    return Answer(body=body, headers={"Set-Cookie": "__cf_bm=tenant-secret; Path=/"})


def ask() -> CompletionRequest:
    return CompletionRequest(
        messages=(ChatMessage("user", "Hello"),), model="llama3.1", deadline_seconds=5.0
    )


def provider(base: str, api_key: str | None = None) -> Any:
    config: dict[str, Any] = {"base_url": f"{base}/v1"}
    if api_key:
        config["api_key"] = api_key
    return build_provider(ProviderKind.OPENAI_COMPATIBLE, config)


async def test_calls_in_one_loop_share_one_connection() -> None:
    async with keepalive_server(openai_answer) as server:
        for _ in range(3):
            answer = await provider(server.base).complete(ask())  # a new adapter each call
            assert answer.text == "Hi!"
        chunks = await provider(server.base).embed(EmbeddingRequest(("a", "b"), "emb"))
        assert len(chunks.vectors) == 2
        assert CLIENTS.size() == 1
    assert server.connections == 1
    assert len(server.requests) == 4
    # the cookie the first answer set is never sent back
    assert all("cookie" not in request.headers for request in server.requests)


async def test_each_key_has_its_own_client() -> None:
    async with keepalive_server(openai_answer) as server:
        for key in ("key-a", "key-b", "key-a", "key-b"):
            await provider(server.base, key).complete(ask())
        assert CLIENTS.size() == 2
    assert server.connections == 2
    by_connection = {(r.connection, r.headers["authorization"]) for r in server.requests}
    assert by_connection == {(1, "Bearer key-a"), (2, "Bearer key-b")}


async def test_concurrent_calls_spread_over_clients_then_reuse_them() -> None:
    shards = CLIENTS.shards  # clients a key may have at most
    async with keepalive_server(openai_answer) as server:
        for _ in range(3):
            await asyncio.gather(*(provider(server.base).complete(ask()) for _ in range(shards)))
        assert CLIENTS.size() == shards
    assert len(server.requests) == 3 * shards
    assert server.connections == shards  # one each, reused by the next rounds


def test_a_new_loop_does_not_reuse_a_closed_loops_client() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def one_loop() -> int:
        async with keepalive_server(openai_answer, port=port) as server:
            await provider(server.base).complete(ask())
            await provider(server.base).complete(ask())
        return server.connections

    # the same base URL (so the same cache key) in two loops, one after the other: the
    # first loop's client, closed when that loop ended, would fail if handed out again
    assert asyncio.run(one_loop()) == 1
    assert asyncio.run(one_loop()) == 1


def plain_http_answer(request: Request) -> Answer:
    cookie = {"Set-Cookie": "session=tenant-secret; Path=/"}
    if request.path.endswith("/oauth"):
        return Answer(body=giga_token("giga-token"), headers=cookie)
    if request.path.startswith("/gigachat/"):
        return Answer(body=giga_completion("Привет!"), headers=cookie)
    return Answer(body=yandex_result("Привет!"), headers=cookie)


async def test_gigachat_and_yandexgpt_share_the_plain_http_client() -> None:
    TOKENS.clear()
    try:
        async with keepalive_server(plain_http_answer) as server:
            giga = {
                "authorization_key": "Z2lnYS1jbGllbnQ6c2VjcmV0",
                "auth_url": f"{server.base}/gigachat/api/v2/oauth",
                "base_url": f"{server.base}/gigachat/api/v1",
            }
            yandex = {
                "api_key": "AQVN-test-key",
                "folder_id": "b1gfolder42",
                "base_url": f"{server.base}/yandex/foundationModels/v1",
            }
            for _ in range(2):
                answer = await build_provider(ProviderKind.GIGACHAT, giga).complete(ask())
                assert answer.text == "Привет!"
                answer = await build_provider(ProviderKind.YANDEXGPT, yandex).complete(ask())
                assert answer.text == "Привет!"
            assert common.CLIENTS.size() == 1  # the same TLS settings: one client for both
    finally:
        TOKENS.clear()
    assert len(server.requests) == 5  # one token exchange, four answers
    assert server.connections == 1
    assert all("cookie" not in request.headers for request in server.requests)
