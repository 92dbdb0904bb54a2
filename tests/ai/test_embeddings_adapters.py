"""Embeddings: each remote provider adapter's own wire details (OpenAI-compatible, GigaChat,
YandexGPT) against the local fake servers in :mod:`tests.ai.fakes`; the registry's
embedders; the optional local (sentence-transformers) adapter's missing-package error."""

from __future__ import annotations

import sys
import time

import pytest

from frontline.ai.base import (
    AuthFailed,
    BadRequest,
    ChatMessage,
    CompletionRequest,
    ProviderKind,
)
from frontline.ai.providers import local_embeddings
from frontline.ai.providers.gigachat import GigaChatProvider
from frontline.ai.providers.local_embeddings import LocalEmbedder, LocalEmbeddingsUnavailable
from frontline.ai.providers.offline import OfflineProvider
from frontline.ai.providers.registry import (
    EMBEDDERS,
    InvalidProviderConfig,
    UnknownEmbedder,
    UnknownProvider,
    build_embedder,
    build_provider,
    supports_embeddings,
    validate_embedder_config,
)
from frontline.ai.providers.yandexgpt import EMBEDDING_CONCURRENCY, embedding_model_uri
from tests.ai.embeddings_kit import (
    ALL,
    GIGACHAT,
    OPENAI,
    OPENROUTER,
    SELF_HOSTED,
    TEXTS,
    YANDEX,
    texts_request,
)
from tests.ai.fakes import (
    GIGA_AUTH_PATH,
    GIGA_CHAT_PATH,
    GIGA_EMBED_PATH,
    OPENAI_EMBED_PATH,
    YANDEX_EMBED_PATH,
    FakeLLMServer,
    Reply,
    error_body,
    fake_vector,
    giga_token,
)

# --- OpenAI-compatible specifics -----------------------------------------------------------


async def test_openai_sends_key_model_and_float_format(fake: FakeLLMServer) -> None:
    embeddings = await OPENAI.build(fake).embed(texts_request("text-embedding-3-small"))
    [received] = fake.requests_to(OPENAI_EMBED_PATH)
    assert received.headers["authorization"] == "Bearer sk-test-123"
    assert received.json() == {
        "model": "text-embedding-3-small",
        "input": ["Do you have rooms?"],
        "encoding_format": "float",  # not the SDK's base64 default: not every server has it
    }
    assert embeddings.model == "text-embedding-3-small"
    assert embeddings.usage.input_tokens == 4
    assert embeddings.cost == pytest.approx(4 * 0.02 / 1000)


async def test_openrouter_attribution_headers(fake: FakeLLMServer) -> None:
    await OPENROUTER.build(fake).embed(texts_request("openai/text-embedding-3-small"))
    [received] = fake.requests_to(OPENAI_EMBED_PATH)
    assert received.headers["http-referer"] == "https://frontline.example"
    assert received.headers["x-title"] == "Frontline"
    assert received.headers["authorization"] == "Bearer sk-or-v1-test"


async def test_self_hosted_without_key(fake: FakeLLMServer) -> None:
    embeddings = await SELF_HOSTED.build(fake).embed(texts_request("nomic-embed-text"))
    [received] = fake.requests_to(OPENAI_EMBED_PATH)
    assert received.headers["authorization"] == "Bearer not-needed"
    assert embeddings.vectors == [fake_vector("Do you have rooms?")]


async def test_openai_answer_without_usage_counts_zero(fake: FakeLLMServer) -> None:
    """Some self-hosted servers send no usage: no tokens, and a zero cost where priced."""
    data = [{"object": "embedding", "index": 0, "embedding": [0.5, -0.5]}]
    fake.script(OPENAI_EMBED_PATH, Reply(json={"object": "list", "data": data, "model": "x"}))
    embeddings = await SELF_HOSTED.build(fake).embed(texts_request("nomic-embed-text"))
    assert embeddings.vectors == [[0.5, -0.5]]
    assert embeddings.usage.input_tokens == 0
    assert embeddings.model == "x"


# --- GigaChat specifics --------------------------------------------------------------------


async def test_gigachat_embeddings_request(fake: FakeLLMServer) -> None:
    embeddings = await GIGACHAT.build(fake).embed(texts_request("Embeddings", ("Привет", "мир")))
    [auth] = fake.requests_to(GIGA_AUTH_PATH)
    assert auth.headers["authorization"] == "Basic Z2lnYS1jbGllbnQ6c2VjcmV0"
    assert auth.form() == {"scope": "GIGACHAT_API_PERS"}
    [received] = fake.requests_to(GIGA_EMBED_PATH)
    assert received.headers["authorization"].startswith("Bearer giga-token-")
    assert received.json() == {"model": "Embeddings", "input": ["Привет", "мир"]}
    assert embeddings.vectors == [fake_vector("Привет"), fake_vector("мир")]
    assert embeddings.model == "Embeddings"
    assert embeddings.usage.input_tokens == 2
    assert embeddings.cost == pytest.approx(2 * 0.04 / 1000)


async def test_gigachat_token_is_reused_across_embed_and_chat(fake: FakeLLMServer) -> None:
    await GIGACHAT.build(fake).embed(texts_request("Embeddings"))
    await GIGACHAT.build(fake).embed(texts_request("Embeddings", TEXTS))  # new adapter, 3 batches
    chat = build_provider(ProviderKind.GIGACHAT, GIGACHAT.config(fake))
    await chat.complete(CompletionRequest(messages=(ChatMessage("user", "Hi"),), model="GigaChat"))
    assert len(fake.requests_to(GIGA_AUTH_PATH)) == 1
    tokens = {
        r.headers["authorization"]
        for r in fake.requests_to(GIGA_EMBED_PATH) + fake.requests_to(GIGA_CHAT_PATH)
    }
    assert len(fake.requests_to(GIGA_EMBED_PATH)) == 4
    assert len(tokens) == 1


async def test_gigachat_401_on_embeddings_refreshes_the_token_once(fake: FakeLLMServer) -> None:
    embedder = GIGACHAT.build(fake)
    await embedder.embed(texts_request("Embeddings"))
    fake.script(GIGA_EMBED_PATH, Reply(status=401, json=error_body(GIGACHAT, 401)))
    embeddings = await embedder.embed(texts_request("Embeddings"))
    assert embeddings.vectors == [fake_vector("Do you have rooms?")]
    assert len(fake.requests_to(GIGA_AUTH_PATH)) == 2
    sent = [r.headers["authorization"] for r in fake.requests_to(GIGA_EMBED_PATH)]
    assert len(sent) == 3
    assert sent[0] == sent[1] != sent[2]


async def test_gigachat_bad_credentials_fail_at_exchange(fake: FakeLLMServer) -> None:
    fake.script(GIGA_AUTH_PATH, Reply(status=401, json={"code": 6, "message": "bad creds"}))
    with pytest.raises(AuthFailed):
        await GIGACHAT.build(fake).embed(texts_request("Embeddings"))
    assert fake.requests_to(GIGA_EMBED_PATH) == []


async def test_gigachat_short_lived_token_is_replaced(fake: FakeLLMServer) -> None:
    fake.script(GIGA_AUTH_PATH, Reply(json=giga_token("short-lived", expires_in=30)))
    embedder = GIGACHAT.build(fake)
    await embedder.embed(texts_request("Embeddings"))
    await embedder.embed(texts_request("Embeddings"))
    sent = [r.headers["authorization"] for r in fake.requests_to(GIGA_EMBED_PATH)]
    assert sent[0] == "Bearer short-lived" != sent[1]


# --- YandexGPT specifics -------------------------------------------------------------------


async def test_yandex_one_request_per_text_with_document_uri(fake: FakeLLMServer) -> None:
    texts = ("Номер с видом на море", "Завтрак включён", "Парковка")
    embeddings = await YANDEX.build(fake).embed(texts_request("text-search", texts))
    received = fake.requests_to(YANDEX_EMBED_PATH)
    assert len(received) == 3
    for r in received:
        assert r.headers["authorization"] == "Api-Key AQVN-test-key"
        assert r.headers["x-folder-id"] == "b1gfolder42"
    bodies = [r.json() for r in received]
    assert sorted(b["text"] for b in bodies) == sorted(texts)
    assert {b["modelUri"] for b in bodies} == {"emb://b1gfolder42/text-search-doc/latest"}
    assert all(set(b) == {"modelUri", "text"} for b in bodies)
    assert embeddings.vectors == [fake_vector(text) for text in texts]
    assert embeddings.model == "text-search"
    assert embeddings.usage.input_tokens == 5 + 2 + 1  # numTokens arrive as strings
    assert embeddings.cost == pytest.approx(8 * 0.01 / 1000)


async def test_yandex_query_purpose_uses_the_query_model(fake: FakeLLMServer) -> None:
    embedder = YANDEX.build(fake)
    await embedder.embed(texts_request("text-search-doc", purpose="query"))
    await embedder.embed(texts_request("text-search-query", purpose="document"))
    query, document = (r.json()["modelUri"] for r in fake.requests_to(YANDEX_EMBED_PATH))
    assert query == "emb://b1gfolder42/text-search-query/latest"
    assert document == "emb://b1gfolder42/text-search-doc/latest"


async def test_yandex_iam_token(fake: FakeLLMServer) -> None:
    config = YANDEX.config(fake)
    del config["api_key"]
    embedder = build_embedder(ProviderKind.YANDEXGPT, config | {"iam_token": "t1.9euelZq"})
    await embedder.embed(texts_request("text-search", purpose="query"))
    [received] = fake.requests_to(YANDEX_EMBED_PATH)
    assert received.headers["authorization"] == "Bearer t1.9euelZq"
    assert received.headers["x-folder-id"] == "b1gfolder42"


async def test_yandex_numeric_strings_are_accepted(fake: FakeLLMServer) -> None:
    """proto3 JSON may send doubles as strings."""
    fake.script(YANDEX_EMBED_PATH, Reply(json={"embedding": ["0.25", -0.5, 1], "numTokens": "3"}))
    embeddings = await YANDEX.build(fake).embed(texts_request("text-search"))
    assert embeddings.vectors == [[0.25, -0.5, 1.0]]


async def test_yandex_calls_run_a_few_at_a_time(fake: FakeLLMServer) -> None:
    texts = TEXTS[: EMBEDDING_CONCURRENCY * 2]
    fake.script(
        YANDEX_EMBED_PATH,
        *(Reply(json={"embedding": [0.5], "numTokens": "1"}, delay=0.15) for _ in texts),
    )
    started = time.perf_counter()
    embeddings = await YANDEX.build(fake).embed(texts_request("text-search", texts))
    elapsed = time.perf_counter() - started
    assert len(embeddings.vectors) == len(texts)
    assert 0.3 <= elapsed < 0.15 * len(texts)  # two waves: neither all at once nor one by one


def test_yandex_embedding_model_uri() -> None:
    for purpose, name in (("document", "text-search-doc"), ("query", "text-search-query")):
        for model in ("text-search", "text-search-doc", "text-search-query"):
            assert embedding_model_uri(model, "f1", purpose) == f"emb://f1/{name}/latest"
        assert embedding_model_uri("text-search/rc", "f1", purpose) == f"emb://f1/{name}/rc"
        assert (
            embedding_model_uri("emb://f2/text-search-doc/latest", "f1", purpose)
            == f"emb://f2/{name}/latest"
        )
        assert embedding_model_uri("emb://f2/custom/1", "f1", purpose) == "emb://f2/custom/1"
        assert embedding_model_uri("custom-emb", "f1", purpose) == "emb://f1/custom-emb/latest"
    with pytest.raises(BadRequest):
        embedding_model_uri(" ", "f1", "query")


# --- the registry, offline and local -------------------------------------------------------


def test_registry_builds_each_remote_kind_as_its_chat_adapter(fake_server: FakeLLMServer) -> None:
    for case in ALL:
        embedder = case.build(fake_server)
        assert embedder.kind is case.kind
        provider = build_provider(case.kind, case.config(fake_server))
        # one adapter class, one config, both jobs
        assert type(embedder) is type(provider)
        assert callable(getattr(provider, "embed", None))
        assert supports_embeddings(case.kind)


def test_registry_embedder_configs_are_validated() -> None:
    with pytest.raises(InvalidProviderConfig):
        validate_embedder_config("yandexgpt", {"folder_id": "f"})  # no credential
    with pytest.raises(InvalidProviderConfig) as caught:
        build_embedder("openai", {"api_key": "sk-secret", "unknown": 1})
    assert "sk-secret" not in str(caught.value.fields)
    parsed = validate_embedder_config("gigachat", {"authorization_key": "abc"})
    assert isinstance(build_embedder("gigachat", parsed), GigaChatProvider)


def test_offline_has_no_embeddings() -> None:
    assert not supports_embeddings(ProviderKind.OFFLINE)
    assert not supports_embeddings("nonsense")
    with pytest.raises(UnknownEmbedder, match="lexically") as caught:
        build_embedder(ProviderKind.OFFLINE, {})
    assert isinstance(caught.value, UnknownProvider | BadRequest)
    with pytest.raises(UnknownEmbedder):
        build_embedder("nonsense", {})
    assert not hasattr(OfflineProvider(), "embed")
    assert ProviderKind.OFFLINE not in EMBEDDERS


def test_local_embeddings_without_the_package_fail_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as if not installed, whatever this environment has
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    assert not local_embeddings.available()
    assert supports_embeddings(ProviderKind.LOCAL)  # listed; building says what is missing
    for build in (lambda: LocalEmbedder(), lambda: build_embedder(ProviderKind.LOCAL, {})):
        with pytest.raises(LocalEmbeddingsUnavailable) as caught:
            build()
        assert isinstance(caught.value, BadRequest)
        assert "sentence-transformers" in str(caught.value)
        assert "frontline[local-embeddings]" in str(caught.value)
    with pytest.raises(InvalidProviderConfig):
        build_embedder(ProviderKind.LOCAL, {"batch_size": 0})
    with pytest.raises(UnknownProvider):
        build_provider(ProviderKind.LOCAL, {})  # embeddings only, not a chat provider
