"""Remote LLM provider adapters, each with its real client code over HTTP against the local
fake servers in :mod:`tests.ai.fakes`."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import certifi
import pytest

from frontline.ai.base import (
    AuthFailed,
    BadRequest,
    ChatMessage,
    Completion,
    CompletionRequest,
    LLMProvider,
    ModelPrice,
    PriceTable,
    ProviderError,
    ProviderKind,
    RateLimited,
    StreamChunk,
    Timeout,
    Unavailable,
)
from frontline.ai.providers.registry import (
    InvalidProviderConfig,
    UnknownProvider,
    build_provider,
    validate_config,
)
from frontline.ai.providers.yandexgpt import model_uri
from tests.ai.fakes import (
    GIGA_AUTH_PATH,
    GIGA_CHAT_PATH,
    OPENAI_PATH,
    YANDEX_PATH,
    FakeLLMServer,
    Reply,
    error_body,
    giga_stream,
    giga_token,
    openai_completion,
    openai_stream,
    serve,
    yandex_stream,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"decision": {"type": "string"}, "draft_reply": {"type": "string"}},
    "required": ["decision", "draft_reply"],
    "additionalProperties": False,
}
PRICES = PriceTable(
    models={
        "gpt-4o-mini": ModelPrice(input_per_1k=0.15, output_per_1k=0.6),
        "meta-llama/": ModelPrice(input_per_1k=0.02, output_per_1k=0.03),
        "GigaChat": ModelPrice(input_per_1k=0.2, output_per_1k=0.2),
        "llama3.1": ModelPrice(input_per_1k=0.001, output_per_1k=0.001),
        "yandexgpt-lite": ModelPrice(input_per_1k=0.2, output_per_1k=0.2),
    }
)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


def ask(model: str, *, deadline: float = 2.0, **extra: Any) -> CompletionRequest:
    return CompletionRequest(
        messages=(
            ChatMessage("system", "You are a support agent."),
            ChatMessage("user", "Hi, do you have rooms?"),
        ),
        model=model,
        deadline_seconds=deadline,
        **extra,
    )


async def collect(provider: LLMProvider, request: CompletionRequest) -> list[StreamChunk]:
    return [chunk async for chunk in provider.stream(request)]


# --- the providers, built through the registry ---------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: ProviderKind
    path: str
    model: str
    config: Callable[[FakeLLMServer], dict[str, Any]]

    def build(self, fake: FakeLLMServer, **overrides: Any) -> LLMProvider:
        return build_provider(self.kind, self.config(fake) | overrides, PRICES)

    def __str__(self) -> str:
        return self.kind.value


OPENAI = Case(
    ProviderKind.OPENAI,
    OPENAI_PATH,
    "gpt-4o-mini",
    lambda f: {"api_key": "sk-test-123", "base_url": f"{f.base}/openai/v1"},
)
OPENROUTER = Case(
    ProviderKind.OPENROUTER,
    OPENAI_PATH,
    "meta-llama/llama-3.1-8b-instruct",
    lambda f: {
        "api_key": "sk-or-v1-test",
        "base_url": f"{f.base}/openai/v1",
        "http_referer": "https://frontline.example",
        "app_title": "Frontline",
    },
)
SELF_HOSTED = Case(
    ProviderKind.OPENAI_COMPATIBLE,
    OPENAI_PATH,
    "llama3.1:8b",
    lambda f: {"base_url": f"{f.base}/openai/v1"},
)
GIGACHAT = Case(
    ProviderKind.GIGACHAT,
    GIGA_CHAT_PATH,
    "GigaChat",
    lambda f: {
        "authorization_key": "Z2lnYS1jbGllbnQ6c2VjcmV0",
        "auth_url": f"{f.base}{GIGA_AUTH_PATH}",
        "base_url": f"{f.base}/gigachat/api/v1",
    },
)
YANDEX = Case(
    ProviderKind.YANDEXGPT,
    YANDEX_PATH,
    "yandexgpt-lite",
    lambda f: {
        "api_key": "AQVN-test-key",
        "folder_id": "b1gfolder42",
        "base_url": f"{f.base}/yandex/foundationModels/v1",
    },
)
ALL = [OPENAI, OPENROUTER, SELF_HOSTED, GIGACHAT, YANDEX]


# --- success, streaming, errors for every provider -----------------------------------------


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_complete_succeeds(fake: FakeLLMServer, case: Case) -> None:
    completion = await case.build(fake).complete(ask(case.model))
    assert isinstance(completion, Completion)
    assert completion.provider is case.kind
    assert completion.text
    assert completion.usage.input_tokens > 0 and completion.usage.output_tokens > 0
    assert completion.finish_reason
    assert completion.latency_ms > 0
    assert completion.cost is not None and completion.cost > 0
    assert len(fake.requests_to(case.path)) == 1


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_stream_yields_deltas_then_usage(fake: FakeLLMServer, case: Case) -> None:
    chunks = await collect(case.build(fake), ask(case.model))
    text = "".join(c.delta for c in chunks)
    assert text in {"Hello!", "Здравствуйте!", "Добрый день!"}
    assert len([c for c in chunks if c.delta]) == 3  # each piece as it came, no duplicates
    last = chunks[-1]
    assert last.usage is not None and last.usage.input_tokens > 0
    assert last.finish_reason
    assert all(c.usage is None for c in chunks[:-1])


ERRORS = [
    (401, {}, AuthFailed),
    (403, {}, AuthFailed),
    (429, {"Retry-After": "7"}, RateLimited),
    (500, {}, Unavailable),
    (503, {}, Unavailable),
    (400, {}, BadRequest),
    (404, {}, BadRequest),
]


@pytest.mark.parametrize("case", ALL, ids=str)
@pytest.mark.parametrize(("status", "headers", "error"), ERRORS)
async def test_http_errors_map_to_the_closed_set(
    fake: FakeLLMServer,
    case: Case,
    status: int,
    headers: dict[str, str],
    error: type[ProviderError],
) -> None:
    reply = Reply(status=status, json=error_body(case, status), headers=headers)
    fake.script(case.path, reply, reply)  # twice: GigaChat retries a 401 once
    with pytest.raises(error) as caught:
        await case.build(fake).complete(ask(case.model))
    if status == 429:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.retry_after == 7.0
    # no SDK-level retries: the fallback chain decides
    expected = 2 if (case.kind is ProviderKind.GIGACHAT and status == 401) else 1
    assert len(fake.requests_to(case.path)) == expected


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_stream_errors_map_to_the_closed_set(fake: FakeLLMServer, case: Case) -> None:
    fake.script(
        case.path, Reply(status=429, json=error_body(case, 429), headers={"Retry-After": "2"})
    )
    with pytest.raises(RateLimited) as caught:
        await collect(case.build(fake), ask(case.model))
    assert caught.value.retry_after == 2.0
    fake.script(case.path, Reply(status=502, json=error_body(case, 502)))
    with pytest.raises(Unavailable):
        await collect(case.build(fake), ask(case.model))


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_retry_after_as_http_date(fake: FakeLLMServer, case: Case) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    fake.script(
        case.path, Reply(status=429, json=error_body(case, 429), headers={"Retry-After": when})
    )
    with pytest.raises(RateLimited) as caught:
        await case.build(fake).complete(ask(case.model))
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 31


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_deadline_passes_as_timeout(fake: FakeLLMServer, case: Case) -> None:
    fake.script(case.path, Reply(delay=3.0, json={}))
    started = time.perf_counter()
    with pytest.raises(Timeout):
        await case.build(fake).complete(ask(case.model, deadline=0.15))
    assert time.perf_counter() - started < 1.5  # not the 3 s answer (slack for a stalled VM)


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_stream_deadline_covers_the_whole_stream(fake: FakeLLMServer, case: Case) -> None:
    lines = {
        OPENAI_PATH: openai_stream(["a"] * 25),
        GIGA_CHAT_PATH: giga_stream(["a"] * 25),
        YANDEX_PATH: yandex_stream(["a"] * 25),
    }[case.path]
    # each piece well within the deadline, the whole stream (2.5 s) far past it
    fake.script(case.path, Reply(lines=lines, line_delay=0.1, content_type="text/event-stream"))
    started = time.perf_counter()
    with pytest.raises(Timeout):
        await collect(case.build(fake), ask(case.model, deadline=0.25))
    assert time.perf_counter() - started < 1.5  # slack for a stalled VM


MALFORMED = [
    Reply(raw=b'{"id": "chatcmpl-1", "choices": [{"mess'),
    Reply(raw=b"<html>502 Bad Gateway</html>", content_type="text/html"),
    Reply(json={"unexpected": True}),
    Reply(json={"choices": [], "result": {"alternatives": []}}),
]


@pytest.mark.parametrize("case", ALL, ids=str)
@pytest.mark.parametrize("reply", MALFORMED, ids=["truncated", "html", "shape", "empty"])
async def test_malformed_body_is_bad_request(fake: FakeLLMServer, case: Case, reply: Reply) -> None:
    fake.script(case.path, reply)
    with pytest.raises(BadRequest):
        await case.build(fake).complete(ask(case.model))


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_malformed_stream_is_bad_request(fake: FakeLLMServer, case: Case) -> None:
    prefix = "" if case.kind is ProviderKind.YANDEXGPT else "data: "
    fake.script(
        case.path,
        Reply(lines=[f"{prefix}{{not json\n\n"], content_type="text/event-stream"),
    )
    with pytest.raises(BadRequest):
        await collect(case.build(fake), ask(case.model))


@pytest.mark.parametrize("case", ALL, ids=str)
async def test_unreachable_server_is_unavailable(fake: FakeLLMServer, case: Case) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = case.config(fake)
    for key in ("base_url", "auth_url"):
        if key in config:
            config[key] = config[key].replace(str(fake.port), str(port))
    provider = build_provider(case.kind, config, PRICES)
    with pytest.raises(Unavailable):
        await provider.complete(ask(case.model))
    with pytest.raises(Unavailable):
        await collect(provider, ask(case.model))


# --- OpenAI-compatible specifics -----------------------------------------------------------


async def test_openai_sends_model_key_and_options(fake: FakeLLMServer) -> None:
    completion = await OPENAI.build(fake).complete(ask("gpt-4o-mini", temperature=0.3))
    [received] = fake.requests_to(OPENAI_PATH)
    assert received.headers["authorization"] == "Bearer sk-test-123"
    body = received.json()
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.3
    assert body["max_tokens"] == 800
    assert body["messages"][0] == {"role": "system", "content": "You are a support agent."}
    assert "response_format" not in body
    assert completion.text == "Hello! How can I help?"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    # priced by prefix: 21 in at 0.15/1k, 9 out at 0.6/1k
    assert completion.cost == pytest.approx((21 * 0.15 + 9 * 0.6) / 1000)


async def test_openai_stream_asks_for_usage(fake: FakeLLMServer) -> None:
    chunks = await collect(OPENAI.build(fake), ask("gpt-4o-mini"))
    body = fake.requests_to(OPENAI_PATH)[0].json()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert [c.delta for c in chunks] == ["Hel", "lo", "!", ""]
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 3
    assert chunks[-1].finish_reason == "stop"


async def test_openai_json_schema_is_response_format(fake: FakeLLMServer) -> None:
    answer = '{"decision": "full_answer", "draft_reply": "Yes, we do."}'
    fake.script(OPENAI_PATH, Reply(json=openai_completion(answer)))
    completion = await OPENAI.build(fake).complete(
        ask("gpt-4o-mini", json_schema=SCHEMA, json_schema_name="triage")
    )
    body = fake.requests_to(OPENAI_PATH)[0].json()
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "triage", "schema": SCHEMA, "strict": True},
    }
    assert body["messages"][0]["content"] == "You are a support agent."  # no instruction needed
    assert completion.text == answer


async def test_self_hosted_json_object_fallback_and_no_key(fake: FakeLLMServer) -> None:
    provider = SELF_HOSTED.build(fake, json_mode="json_object")
    await provider.complete(ask("llama3.1:8b", json_schema=SCHEMA))
    received = fake.requests_to(OPENAI_PATH)[0]
    body = received.json()
    assert body["response_format"] == {"type": "json_object"}
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are a support agent.")
    assert '"draft_reply"' in system["content"] and "JSON" in system["content"]
    assert len([m for m in body["messages"] if m["role"] == "system"]) == 1
    assert received.headers["authorization"] == "Bearer not-needed"


async def test_openrouter_attribution_headers_and_model_names(fake: FakeLLMServer) -> None:
    provider = OPENROUTER.build(fake)
    for model in ("openai/gpt-4o-mini", "meta-llama/llama-3.1-8b-instruct"):
        await provider.complete(ask(model))
    first, second = fake.requests_to(OPENAI_PATH)
    for received in (first, second):
        assert received.headers["http-referer"] == "https://frontline.example"
        assert received.headers["x-title"] == "Frontline"
        assert received.headers["authorization"] == "Bearer sk-or-v1-test"
    assert first.json()["model"] == "openai/gpt-4o-mini"
    assert second.json()["model"] == "meta-llama/llama-3.1-8b-instruct"


async def test_openrouter_cost_from_price_table(fake: FakeLLMServer) -> None:
    completion = await OPENROUTER.build(fake).complete(ask("meta-llama/llama-3.1-8b-instruct"))
    assert completion.model == "meta-llama/llama-3.1-8b-instruct"
    assert completion.cost == pytest.approx((21 * 0.02 + 9 * 0.03) / 1000)
    unpriced = build_provider(ProviderKind.OPENROUTER, OPENROUTER.config(fake), PriceTable())
    assert (await unpriced.complete(ask("meta-llama/llama-3.1-8b-instruct"))).cost is None


async def test_openai_refusal_without_content_is_bad_request(fake: FakeLLMServer) -> None:
    payload = openai_completion()
    payload["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "no"}
    fake.script(OPENAI_PATH, Reply(json=payload))
    with pytest.raises(BadRequest):
        await OPENAI.build(fake).complete(ask("gpt-4o-mini"))


# --- GigaChat specifics --------------------------------------------------------------------


async def test_gigachat_token_exchange_and_cache(fake: FakeLLMServer) -> None:
    provider = GIGACHAT.build(fake)
    first = await provider.complete(ask("GigaChat"))
    second = await GIGACHAT.build(fake).complete(ask("GigaChat"))  # a new adapter, same key
    assert first.text == second.text == "Здравствуйте! Чем могу помочь?"
    [auth] = fake.requests_to(GIGA_AUTH_PATH)
    assert auth.headers["authorization"] == "Basic Z2lnYS1jbGllbnQ6c2VjcmV0"
    assert uuid.UUID(auth.headers["rquid"]).version == 4
    assert auth.headers["content-type"] == "application/x-www-form-urlencoded"
    assert auth.form() == {"scope": "GIGACHAT_API_PERS"}
    chats = fake.requests_to(GIGA_CHAT_PATH)
    assert len(chats) == 2
    assert chats[0].headers["authorization"] == chats[1].headers["authorization"]
    assert chats[0].headers["authorization"].startswith("Bearer giga-token-")
    body = chats[0].json()
    assert body["model"] == "GigaChat"
    assert body["messages"][1] == {"role": "user", "content": "Hi, do you have rooms?"}
    assert first.model == "GigaChat:1.0.26.20"
    assert first.cost == pytest.approx((18 + 7) * 0.2 / 1000)


async def test_gigachat_scope_is_configurable(fake: FakeLLMServer) -> None:
    await GIGACHAT.build(fake, scope="GIGACHAT_API_CORP").complete(ask("GigaChat-Pro"))
    [auth] = fake.requests_to(GIGA_AUTH_PATH)
    assert auth.form() == {"scope": "GIGACHAT_API_CORP"}


async def test_gigachat_token_near_expiry_is_replaced(fake: FakeLLMServer) -> None:
    # expires in 30 s: inside the 60 s margin, so it is not reused
    fake.script(GIGA_AUTH_PATH, Reply(json=giga_token("short-lived", expires_in=30)))
    provider = GIGACHAT.build(fake)
    await provider.complete(ask("GigaChat"))
    await provider.complete(ask("GigaChat"))
    assert len(fake.requests_to(GIGA_AUTH_PATH)) == 2
    tokens = [r.headers["authorization"] for r in fake.requests_to(GIGA_CHAT_PATH)]
    assert tokens[0] == "Bearer short-lived"
    assert tokens[1] != tokens[0]


async def test_gigachat_401_refreshes_the_token_once(fake: FakeLLMServer) -> None:
    provider = GIGACHAT.build(fake)
    await provider.complete(ask("GigaChat"))
    fake.script(GIGA_CHAT_PATH, Reply(status=401, json=error_body(GIGACHAT, 401)))
    completion = await provider.complete(ask("GigaChat"))
    assert completion.text
    assert len(fake.requests_to(GIGA_AUTH_PATH)) == 2
    chats = [r.headers["authorization"] for r in fake.requests_to(GIGA_CHAT_PATH)]
    assert len(chats) == 3
    assert chats[0] == chats[1] != chats[2]


async def test_gigachat_concurrent_calls_share_one_exchange(fake: FakeLLMServer) -> None:
    fake.script(GIGA_AUTH_PATH, Reply(json=giga_token("slow-token"), delay=0.1))
    provider = GIGACHAT.build(fake)
    await asyncio.gather(*(provider.complete(ask("GigaChat")) for _ in range(5)))
    assert len(fake.requests_to(GIGA_AUTH_PATH)) == 1


async def test_gigachat_bad_credentials_fail_at_exchange(fake: FakeLLMServer) -> None:
    fake.script(GIGA_AUTH_PATH, Reply(status=401, json={"code": 6, "message": "bad creds"}))
    with pytest.raises(AuthFailed):
        await GIGACHAT.build(fake).complete(ask("GigaChat"))
    assert fake.requests_to(GIGA_CHAT_PATH) == []


async def test_gigachat_json_by_instruction(fake: FakeLLMServer) -> None:
    await GIGACHAT.build(fake).complete(ask("GigaChat", json_schema=SCHEMA))
    body = fake.requests_to(GIGA_CHAT_PATH)[0].json()
    assert "response_format" not in body
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are a support")
    assert '"decision"' in system["content"]


async def test_gigachat_ca_bundle(fake: FakeLLMServer) -> None:
    ok = GIGACHAT.build(fake, ca_bundle=certifi.where())
    assert (await ok.complete(ask("GigaChat"))).text
    missing = GIGACHAT.build(fake, ca_bundle="/nonexistent/russian_trusted_root_ca.pem")
    with pytest.raises(BadRequest):
        await missing.complete(ask("GigaChat"))
    insecure = GIGACHAT.build(fake, verify_ssl=False)
    assert (await insecure.complete(ask("GigaChat"))).text


# --- YandexGPT specifics -------------------------------------------------------------------


async def test_yandex_api_key_folder_and_body(fake: FakeLLMServer) -> None:
    completion = await YANDEX.build(fake).complete(ask("yandexgpt-lite", max_tokens=500))
    [received] = fake.requests_to(YANDEX_PATH)
    assert received.headers["authorization"] == "Api-Key AQVN-test-key"
    assert received.headers["x-folder-id"] == "b1gfolder42"
    body = received.json()
    assert body["modelUri"] == "gpt://b1gfolder42/yandexgpt-lite/latest"
    assert body["completionOptions"] == {"stream": False, "temperature": 0.2, "maxTokens": "500"}
    assert body["messages"] == [
        {"role": "system", "text": "You are a support agent."},
        {"role": "user", "text": "Hi, do you have rooms?"},
    ]
    assert completion.text == "Добрый день!"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (19, 6)
    assert completion.finish_reason == "ALTERNATIVE_STATUS_FINAL"
    assert completion.cost == pytest.approx(25 * 0.2 / 1000)


async def test_yandex_iam_token(fake: FakeLLMServer) -> None:
    config = YANDEX.config(fake)
    del config["api_key"]
    provider = build_provider(ProviderKind.YANDEXGPT, config | {"iam_token": "t1.9euelZq"})
    await provider.complete(ask("yandexgpt/rc"))
    [received] = fake.requests_to(YANDEX_PATH)
    assert received.headers["authorization"] == "Bearer t1.9euelZq"
    assert received.headers["x-folder-id"] == "b1gfolder42"
    assert received.json()["modelUri"] == "gpt://b1gfolder42/yandexgpt/rc"


def test_yandex_model_uri_expansion() -> None:
    assert model_uri("yandexgpt-lite", "f1") == "gpt://f1/yandexgpt-lite/latest"
    assert model_uri("yandexgpt/latest", "f1") == "gpt://f1/yandexgpt/latest"
    assert model_uri("gpt://other/yandexgpt-32k/rc", "f1") == "gpt://other/yandexgpt-32k/rc"
    assert model_uri("ds://bt1abc", "f1") == "ds://bt1abc"
    with pytest.raises(BadRequest):
        model_uri(" ", "f1")


async def test_yandex_stream_sends_only_new_text(fake: FakeLLMServer) -> None:
    chunks = await collect(YANDEX.build(fake), ask("yandexgpt-lite"))
    assert fake.requests_to(YANDEX_PATH)[0].json()["completionOptions"]["stream"] is True
    assert [c.delta for c in chunks] == ["Добрый ", "день", "!", ""]
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 6


async def test_yandex_error_inside_stream(fake: FakeLLMServer) -> None:
    error = {"error": {"grpcCode": 8, "httpCode": 429, "message": "quota", "details": []}}
    fake.script(YANDEX_PATH, Reply(lines=[json.dumps(error) + "\n"]))
    with pytest.raises(RateLimited):
        await collect(YANDEX.build(fake), ask("yandexgpt-lite"))


async def test_yandex_json_schema(fake: FakeLLMServer) -> None:
    await YANDEX.build(fake).complete(ask("yandexgpt-lite", json_schema=SCHEMA))
    body = fake.requests_to(YANDEX_PATH)[0].json()
    assert body["jsonSchema"] == {"schema": SCHEMA}
    fake.reset()
    await YANDEX.build(fake, native_json_schema=False).complete(
        ask("yandexgpt-lite", json_schema=SCHEMA)
    )
    body = fake.requests_to(YANDEX_PATH)[0].json()
    assert "jsonSchema" not in body
    assert '"draft_reply"' in body["messages"][0]["text"]


# --- registry ------------------------------------------------------------------------------


def test_registry_validates_configs_without_echoing_secrets() -> None:
    with pytest.raises(InvalidProviderConfig) as caught:
        validate_config("yandexgpt", {"folder_id": "f", "api_key": "k1", "iam_token": "k2"})
    assert "k1" not in str(caught.value.fields) and "k2" not in str(caught.value.fields)
    with pytest.raises(InvalidProviderConfig) as caught:
        validate_config("openai", {"api_key": "sk-secret", "unknown": 1})
    assert caught.value.fields[0]["loc"] == ["unknown"]
    assert "sk-secret" not in str(caught.value.fields)
    with pytest.raises(InvalidProviderConfig):
        validate_config("openrouter", {})  # the key is required
    with pytest.raises(InvalidProviderConfig):
        validate_config("openai_compatible", {})  # the base URL is required
    parsed = validate_config("gigachat", {"authorization_key": "abc"})
    assert "abc" not in repr(parsed)


def test_registry_unknown_kinds() -> None:
    with pytest.raises(UnknownProvider):
        build_provider("nonsense", {})


def test_registry_builds_each_kind_with_its_kind(fake_server: FakeLLMServer) -> None:
    for case in ALL:
        assert case.build(fake_server).kind is case.kind
