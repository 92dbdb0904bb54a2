"""The fallback chain with the real provider adapters over HTTP against the local fake
servers, circuit breakers on a fake clock, and the offline engine as a provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from frontline.ai.base import (
    BadRequest,
    ChatMessage,
    CompletionRequest,
    ProviderKind,
    StreamChunk,
    Unavailable,
)
from frontline.ai.chain import (
    SKIPPED_OPEN,
    AllProvidersFailed,
    BreakerKey,
    BreakerRegistry,
    BreakerState,
    ChainLink,
    FallbackChain,
)
from frontline.ai.offline import Decision, OfflineEngine, Passage, TriageResult
from frontline.ai.providers.offline import OfflineConfig, OfflineProvider
from frontline.ai.providers.registry import build_provider
from tests.ai.fakes import (
    OPENAI_PATH,
    YANDEX_PATH,
    FakeLLMServer,
    Reply,
    openai_stream,
    serve,
)

KNOWLEDGE = [
    Passage(
        id="kb-checkin",
        title="Заезд и выезд",
        text="Заезд в гостевой дом с 14:00, выезд до 12:00. Ранний заезд возможен по "
        "договорённости за доплату 500 рублей.",
    ),
    Passage(
        id="kb-pets",
        title="Pets policy",
        text="Pets are welcome in the garden cottages. Dogs stay free of charge; please "
        "tell us about your pet when you book.",
    ),
]
OPENAI_ERROR = {"error": {"message": "nope", "type": "server_error", "code": "500"}}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeLLMServer]:
    with serve(FakeLLMServer()) as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breakers(clock: FakeClock) -> BreakerRegistry:
    return BreakerRegistry(clock=clock)


def openai(fake: FakeLLMServer, model: str = "gpt-4o", key: str = "sk-test-123") -> ChainLink:
    config = {"api_key": key, "base_url": f"{fake.base}/openai/v1"}
    return ChainLink(ProviderKind.OPENAI, model, config)


def openrouter(fake: FakeLLMServer, model: str = "meta-llama/llama-3.1-8b-instruct") -> ChainLink:
    config = {"api_key": "sk-or-v1-test", "base_url": f"{fake.base}/openai/v1"}
    return ChainLink(ProviderKind.OPENROUTER, model, config)


def yandex(fake: FakeLLMServer) -> ChainLink:
    config = {
        "api_key": "AQVN-test-key",
        "folder_id": "b1gfolder42",
        "base_url": f"{fake.base}/yandex/foundationModels/v1",
    }
    return ChainLink(ProviderKind.YANDEXGPT, "yandexgpt-lite", config)


def ask(text: str = "Hi, do you have rooms?") -> CompletionRequest:
    return CompletionRequest(
        messages=(ChatMessage("system", "You are a support agent."), ChatMessage("user", text)),
        model="template",
        deadline_seconds=2.0,
    )


def failing(status: int = 500, **headers: str) -> Reply:
    return Reply(status=status, json=OPENAI_ERROR, headers=headers)


def models_asked(fake: FakeLLMServer) -> list[str]:
    return [r.json()["model"] for r in fake.requests_to(OPENAI_PATH)]


# --- falling back ---------------------------------------------------------------------------


async def test_first_provider_500_then_second_answers(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(500))
    chain = FallbackChain([openai(fake), openrouter(fake)], breakers)
    result = await chain.complete(ask())
    assert result.completion.provider is ProviderKind.OPENROUTER
    assert result.completion.text == "Hello! How can I help?"
    assert models_asked(fake) == ["gpt-4o", "meta-llama/llama-3.1-8b-instruct"]
    (first, second) = result.attempts
    assert first.provider is ProviderKind.OPENAI and first.model == "gpt-4o"
    assert first.error is not None and first.error.startswith("Unavailable: HTTP 500")
    assert first.latency_ms > 0
    assert second[:3] == (ProviderKind.OPENROUTER, "meta-llama/llama-3.1-8b-instruct", None)


async def test_rate_limited_moves_to_the_next_provider(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(429, **{"Retry-After": "20"}))
    chain = FallbackChain([openai(fake), yandex(fake)], breakers)
    result = await chain.complete(ask())
    assert result.completion.provider is ProviderKind.YANDEXGPT
    assert result.completion.text == "Добрый день!"
    assert [a.error is None for a in result.attempts] == [False, True]
    assert result.attempts[0].error is not None
    assert result.attempts[0].error.startswith("RateLimited: HTTP 429")
    assert len(fake.requests_to(YANDEX_PATH)) == 1
    # one failure does not open the breaker
    key = chain.breaker_key(chain.links[0])
    assert key is not None and breakers.state(key) is BreakerState.CLOSED


async def test_request_builder_per_link(fake: FakeLLMServer, breakers: BreakerRegistry) -> None:
    fake.script(OPENAI_PATH, failing(503))
    seen: list[str] = []

    def build(link: ChainLink) -> CompletionRequest:
        seen.append(link.model)
        return CompletionRequest(messages=ask().messages, model=link.model, max_tokens=50)

    result = await FallbackChain([openai(fake), openrouter(fake)], breakers).complete(build)
    assert seen == ["gpt-4o", "meta-llama/llama-3.1-8b-instruct"]
    assert [r.json()["max_tokens"] for r in fake.requests_to(OPENAI_PATH)] == [50, 50]
    assert result.completion.provider is ProviderKind.OPENROUTER


async def test_invalid_config_is_logged_and_skipped(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    broken = ChainLink(ProviderKind.OPENAI, "gpt-4o", {"base_url": "http://x"})  # no api_key
    result = await FallbackChain([broken, openrouter(fake)], breakers).complete(ask())
    assert result.completion.provider is ProviderKind.OPENROUTER
    assert result.attempts[0].error is not None
    assert result.attempts[0].error.startswith("InvalidProviderConfig")
    assert models_asked(fake) == ["meta-llama/llama-3.1-8b-instruct"]


# --- circuit breakers -----------------------------------------------------------------------


async def test_auth_failure_opens_the_breaker_at_once(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(401))
    chain = FallbackChain([openai(fake, key="sk-wrong"), openrouter(fake)], breakers)
    first = await chain.complete(ask())
    assert first.attempts[0].error is not None
    assert first.attempts[0].error.startswith("AuthFailed")
    key = chain.breaker_key(chain.links[0])
    assert key is not None and breakers.state(key) is BreakerState.OPEN

    fake.reset()
    second = await chain.complete(ask())
    assert models_asked(fake) == ["meta-llama/llama-3.1-8b-instruct"]
    assert second.attempts[0] == (ProviderKind.OPENAI, "gpt-4o", SKIPPED_OPEN, 0.0)


async def test_three_failures_open_then_skip_without_a_request(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    chain = FallbackChain([openai(fake), yandex(fake)], breakers)
    for _ in range(3):
        fake.script(OPENAI_PATH, failing(500))
        result = await chain.complete(ask())
        assert result.completion.provider is ProviderKind.YANDEXGPT
    key = chain.breaker_key(chain.links[0])
    assert key == BreakerKey(ProviderKind.OPENAI, f"{fake.base}/openai/v1", "gpt-4o")
    assert breakers.state(key) is BreakerState.OPEN

    fake.reset()
    fourth = await chain.complete(ask())
    assert fake.requests_to(OPENAI_PATH) == []  # skipped without an HTTP request
    assert len(fake.requests_to(YANDEX_PATH)) == 1
    assert fourth.attempts[0].error == SKIPPED_OPEN
    assert fourth.completion.provider is ProviderKind.YANDEXGPT


async def test_breaker_is_per_model_and_endpoint(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(401))
    await FallbackChain([openai(fake, model="gpt-4o")], breakers).complete(ask())
    # the same provider with another model still gets called
    result = await FallbackChain([openai(fake, model="gpt-4o-mini")], breakers).complete(ask())
    assert result.completion.provider is ProviderKind.OPENAI
    assert models_asked(fake) == ["gpt-4o", "gpt-4o-mini"]


async def test_half_open_trial_after_cooldown_closes_on_success(
    fake: FakeLLMServer, breakers: BreakerRegistry, clock: FakeClock
) -> None:
    chain = FallbackChain([openai(fake), openrouter(fake)], breakers)
    for _ in range(3):
        fake.script(OPENAI_PATH, failing(502))
        await chain.complete(ask())
    key = chain.breaker_key(chain.links[0])
    assert key is not None
    clock.now += 29.0
    fake.reset()
    still_open = await chain.complete(ask())
    assert still_open.attempts[0].error == SKIPPED_OPEN
    assert models_asked(fake) == ["meta-llama/llama-3.1-8b-instruct"]

    clock.now += 1.0
    assert breakers.state(key) is BreakerState.HALF_OPEN
    fake.reset()
    trial = await chain.complete(ask())
    assert trial.completion.provider is ProviderKind.OPENAI
    assert models_asked(fake) == ["gpt-4o"]
    assert breakers.state(key) is BreakerState.CLOSED
    (health,) = [h for h in breakers.health() if h.key == key]
    assert health.consecutive_failures == 0 and health.state is BreakerState.CLOSED


async def test_half_open_trial_failure_reopens(
    fake: FakeLLMServer, breakers: BreakerRegistry, clock: FakeClock
) -> None:
    chain = FallbackChain([openai(fake), openrouter(fake)], breakers)
    for _ in range(3):
        fake.script(OPENAI_PATH, failing(500))
        await chain.complete(ask())
    clock.now += 30.0
    fake.script(OPENAI_PATH, failing(500))
    await chain.complete(ask())  # the trial fails: open again, for a new cooldown
    key = chain.breaker_key(chain.links[0])
    assert key is not None and breakers.state(key) is BreakerState.OPEN
    fake.reset()
    clock.now += 10.0
    result = await chain.complete(ask())
    assert result.attempts[0].error == SKIPPED_OPEN
    assert models_asked(fake) == ["meta-llama/llama-3.1-8b-instruct"]


def test_half_open_lets_one_trial_through(clock: FakeClock) -> None:
    registry = BreakerRegistry(failure_threshold=1, cooldown_seconds=5.0, clock=clock)
    key = BreakerKey(ProviderKind.OPENAI, "https://api.openai.com/v1", "gpt-4o")
    assert registry.allow(key)
    registry.failure(key, Unavailable("HTTP 500"))
    assert not registry.allow(key)
    clock.now += 5.0
    assert registry.allow(key)  # the trial
    assert not registry.allow(key)  # a concurrent call is still skipped
    registry.release(key)  # the trial was abandoned (cancelled)
    assert registry.allow(key)
    registry.success(key)
    assert registry.state(key) is BreakerState.CLOSED


def test_provider_health_snapshot(clock: FakeClock) -> None:
    registry = BreakerRegistry(clock=clock)
    key = BreakerKey(ProviderKind.OPENROUTER, "https://openrouter.ai/api/v1", "openai/gpt-4o")
    other = BreakerKey(ProviderKind.OPENAI, "https://api.openai.com/v1", "gpt-4o-mini")
    for _ in range(3):
        registry.failure(key, Unavailable("HTTP 503: overloaded"))
    registry.failure(other, Unavailable("HTTP 500"))
    clock.now += 10.0
    health = {h.key: h for h in registry.health()}
    assert health[key].state is BreakerState.OPEN
    assert health[key].consecutive_failures == 3
    assert health[key].opened_at == 1000.0
    assert health[key].retry_in == 20.0
    assert health[key].last_error == "Unavailable: HTTP 503: overloaded"
    assert health[other].state is BreakerState.CLOSED
    assert health[other].consecutive_failures == 1 and health[other].retry_in is None
    clock.now += 20.0
    assert {h.key: h.state for h in registry.health()}[key] is BreakerState.HALF_OPEN


# --- the offline last resort and total failure ----------------------------------------------


async def test_all_remote_fail_then_offline_answers(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(500), failing(429))
    chain = FallbackChain([openai(fake), openrouter(fake)], breakers, knowledge=KNOWLEDGE)
    result = await chain.complete(ask("Во сколько заезд и выезд из гостевого дома?"))
    assert result.completion.provider is ProviderKind.OFFLINE
    assert result.completion.cost == 0.0
    triage = TriageResult.model_validate_json(result.completion.text)
    assert triage.decision is Decision.FULL_ANSWER
    assert triage.citations == ["kb-checkin"] and triage.language == "ru"
    assert [a.provider for a in result.attempts] == [
        ProviderKind.OPENAI,
        ProviderKind.OPENROUTER,
        ProviderKind.OFFLINE,
    ]
    assert result.attempts[-1].error is None


async def test_all_open_then_offline_answers_without_requests(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(401))
    chain = FallbackChain([openai(fake)], breakers, knowledge=KNOWLEDGE)
    await chain.complete(ask())
    fake.reset()
    result = await chain.complete(ask("Do you allow pets? Are dogs welcome in the cottages?"))
    assert fake.received == []
    triage = json.loads(result.completion.text)
    assert triage["decision"] == "full_answer"
    assert triage["citations"] == ["kb-pets"]
    assert chain.status()[0][1] is BreakerState.OPEN
    assert chain.status()[-1] == (chain.links[-1], BreakerState.CLOSED)


async def test_all_fail_with_offline_disabled_raises_with_the_log(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(500), failing(500))
    chain = FallbackChain([openai(fake), openrouter(fake)], breakers, offline_fallback=False)
    assert all(link.kind is not ProviderKind.OFFLINE for link in chain.links)
    with pytest.raises(AllProvidersFailed) as caught:
        await chain.complete(ask())
    attempts = caught.value.attempts
    assert [(a.provider, a.model) for a in attempts] == [
        (ProviderKind.OPENAI, "gpt-4o"),
        (ProviderKind.OPENROUTER, "meta-llama/llama-3.1-8b-instruct"),
    ]
    assert all(a.error and a.error.startswith("Unavailable") for a in attempts)
    assert "openai/gpt-4o" in str(caught.value)


async def test_empty_chain_without_offline_raises(breakers: BreakerRegistry) -> None:
    with pytest.raises(AllProvidersFailed) as caught:
        await FallbackChain([], breakers, offline_fallback=False).complete(ask())
    assert caught.value.attempts == ()


# --- streaming ------------------------------------------------------------------------------


async def test_stream_falls_back_when_the_first_fails_before_a_chunk(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(500))
    stream = FallbackChain([openai(fake), openrouter(fake)], breakers).stream(ask())
    chunks: list[StreamChunk] = [chunk async for chunk in stream]
    assert "".join(c.delta for c in chunks) == "Hello!"
    assert stream.link is not None and stream.link.kind is ProviderKind.OPENROUTER
    assert [a.error is None for a in stream.attempts] == [False, True]
    assert models_asked(fake) == ["gpt-4o", "meta-llama/llama-3.1-8b-instruct"]


async def test_stream_falls_back_to_offline(fake: FakeLLMServer, breakers: BreakerRegistry) -> None:
    fake.script(OPENAI_PATH, failing(503))
    chain = FallbackChain([openai(fake)], breakers, knowledge=KNOWLEDGE)
    stream = chain.stream(ask("Позовите, пожалуйста, живого оператора"))
    text = "".join([chunk.delta async for chunk in stream])
    assert "сотрудник" in text
    assert stream.link is not None and stream.link.kind is ProviderKind.OFFLINE


async def test_stream_failure_after_the_first_chunk_is_raised(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    broken = [*openai_stream(["Hel", "lo"])[:2], "data: {not json}\n\n"]
    fake.script(OPENAI_PATH, Reply(lines=broken, content_type="text/event-stream"))
    stream = FallbackChain([openai(fake), openrouter(fake)], breakers).stream(ask())
    received: list[str] = []
    with pytest.raises(BadRequest):
        async for chunk in stream:
            received.append(chunk.delta)
    assert received == ["Hel"]
    assert models_asked(fake) == ["gpt-4o"]
    assert stream.attempts[0].error is not None


async def test_stream_all_fail_without_offline(
    fake: FakeLLMServer, breakers: BreakerRegistry
) -> None:
    fake.script(OPENAI_PATH, failing(500))
    stream = FallbackChain([openai(fake)], breakers, offline_fallback=False).stream(ask())
    with pytest.raises(AllProvidersFailed) as caught:
        _ = [chunk async for chunk in stream]
    assert len(caught.value.attempts) == 1


# --- the offline provider alone -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "decision", "citation"),
    [
        ("Do you allow pets? Are dogs welcome in the cottages?", "en", "full_answer", "kb-pets"),
        ("Во сколько заезд и выезд из гостевого дома?", "ru", "full_answer", "kb-checkin"),
        ("I want to talk to a human, please", "en", "escalate_to_human", None),
        ("Соедините меня с оператором", "ru", "escalate_to_human", None),
    ],
)
async def test_offline_provider_complete_is_triage_json(
    text: str, language: str, decision: str, citation: str | None
) -> None:
    provider = build_provider(ProviderKind.OFFLINE, OfflineConfig(knowledge=tuple(KNOWLEDGE)))
    completion = await provider.complete(
        CompletionRequest(messages=ask(text).messages, model="offline")
    )
    data: dict[str, Any] = json.loads(completion.text)
    assert data["decision"] == decision
    assert data["language"] == language
    assert data["citations"] == ([citation] if citation else [])
    assert completion.provider is ProviderKind.OFFLINE
    assert completion.cost == 0.0
    assert completion.usage.input_tokens == len(
        " ".join(m.content for m in ask(text).messages).split()
    )
    assert completion.usage.output_tokens == len(completion.text.split())


async def test_offline_provider_uses_history_and_streams_the_reply() -> None:
    provider = OfflineProvider(engine=OfflineEngine(KNOWLEDGE))
    request = CompletionRequest(
        messages=(
            ChatMessage("system", "ignored"),
            ChatMessage("user", "Можно ли приехать с собакой?"),
            ChatMessage("assistant", "Уточните, пожалуйста."),
            ChatMessage("user", "???"),
        ),
        model="offline",
    )
    triage = provider.triage(request)
    assert triage.language == "ru"  # from the earlier turn: "???" alone says nothing
    chunks = [chunk async for chunk in provider.stream(request)]
    assert "".join(c.delta for c in chunks) == triage.draft_reply
    assert len([c for c in chunks if c.delta]) > 1
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None


def test_offline_config_has_no_secrets_and_keeps_knowledge_out_of_dumps() -> None:
    config = OfflineConfig(default_language="ru", knowledge=tuple(KNOWLEDGE))
    assert config.model_dump() == {"default_language": "ru"}
    built = build_provider(ProviderKind.OFFLINE, {"default_language": "ru"})
    assert isinstance(built, OfflineProvider)
