"""OpenAI-compatible chat completions and embeddings through the official ``openai`` SDK:
OpenAI itself, OpenRouter (attribution headers, ``vendor/model`` names) and self-hosted
servers (vLLM, Ollama, LM Studio) at a configurable base URL.

The SDK's own retries are off (``max_retries=0``): the fallback chain decides what to do
after a failure. The adapter holds no connections and can be thrown away after the call:
the SDK client (with its connection pool) is leased per call from a cache per event loop
(:mod:`frontline.kit.httpclients`), one per base URL, credentials and headers, so
consecutive calls reuse their connections instead of opening one each. Under the SDK runs
its documented ``aiohttp`` transport (``openai[aiohttp]``): a call costs about 0.84 ms of
CPU instead of 1.21 ms with the default ``httpx2`` one (a local server, same body).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar, Literal

import aiohttp
import openai
from httpx_aiohttp.httpx2 import AiohttpTransport
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import ConfigDict, Field, SecretStr

from frontline.ai.base import (
    AuthFailed,
    BadRequest,
    Completion,
    CompletionRequest,
    EmbeddingRequest,
    Embeddings,
    PriceTable,
    ProviderConfig,
    ProviderError,
    ProviderKind,
    RateLimited,
    StreamChunk,
    Timeout,
    Unavailable,
    Usage,
)
from frontline.ai.providers.common import (
    Deadline,
    EmbeddingBatches,
    batches,
    check_texts,
    embeddings_answer,
    ordered_vectors,
    parse_retry_after,
    schema_instruction,
    with_system_instruction,
)
from frontline.kit import tls
from frontline.kit.httpclients import ClientCache, aiohttp_session, no_cookies

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
# what the SDK insists on when a self-hosted server wants no key
NO_KEY = "not-needed"
# texts per embeddings request (OpenAI takes up to 2048 inputs, self-hosted servers fewer)
EMBEDDING_BATCH = 64

# SDK clients per event loop, by everything baked into one (see ``_client``)
CLIENTS: ClientCache[openai.AsyncOpenAI] = ClientCache(openai.AsyncOpenAI.close)


class OpenAICompatConfig(ProviderConfig):
    """Shared settings. ``json_mode`` ``json_object`` is for servers that do not accept
    ``response_format: json_schema`` (older vLLM/Ollama/LM Studio): they are asked for a JSON
    object and given the schema as an instruction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr | None = None
    base_url: str = Field(default=OPENAI_BASE_URL, min_length=1, max_length=2000)
    json_mode: Literal["json_schema", "json_object"] = "json_schema"
    extra_headers: dict[str, str] = Field(default_factory=dict)


class OpenAIConfig(OpenAICompatConfig):
    api_key: SecretStr
    base_url: str = Field(default=OPENAI_BASE_URL, min_length=1, max_length=2000)
    organization: str | None = None
    project: str | None = None


class OpenRouterConfig(OpenAICompatConfig):
    """``http_referer`` and ``app_title`` are OpenRouter's attribution headers
    (``HTTP-Referer``, ``X-Title``)."""

    api_key: SecretStr
    base_url: str = Field(default=OPENROUTER_BASE_URL, min_length=1, max_length=2000)
    http_referer: str | None = Field(default=None, max_length=2000)
    app_title: str | None = Field(default=None, max_length=200)


class OpenAICompatibleConfig(OpenAICompatConfig):
    """A self-hosted server: the base URL is required (e.g. ``http://localhost:11434/v1``
    for Ollama), the key optional."""

    base_url: str = Field(min_length=1, max_length=2000)


def _aiohttp_cause(exc: BaseException) -> aiohttp.ClientError | None:
    """The ``aiohttp`` error behind an SDK error, if one is in its chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, aiohttp.ClientError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def map_sdk_error(exc: Exception) -> ProviderError:
    """The closed error for an ``openai`` SDK exception."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError, its base
        # the aiohttp transport reports every failed connection (refused, reset) as a
        # connect timeout: what aiohttp itself raised tells them apart
        cause = _aiohttp_cause(exc)
        if cause is not None and not isinstance(cause, TimeoutError):
            return Unavailable(f"provider unreachable: {cause!r}")
        return Timeout(f"request timed out: {exc}")
    if isinstance(exc, openai.APIConnectionError):
        return Unavailable(f"provider unreachable: {exc}")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return AuthFailed(f"HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, openai.RateLimitError):
        return RateLimited(
            f"HTTP 429: {exc.message}", retry_after=parse_retry_after(exc.response.headers)
        )
    if isinstance(exc, openai.APIStatusError):
        message = f"HTTP {exc.status_code}: {exc.message}"
        if exc.status_code in (408, 504):
            return Timeout(message)
        if exc.status_code >= 500:
            return Unavailable(message)
        return BadRequest(message)
    # APIResponseValidationError, an error event inside a stream, or a body that is not JSON
    return BadRequest(f"unusable answer: {exc!r}")


class OpenAICompatProvider:
    """One adapter for every OpenAI-compatible API; the subclasses only fix ``kind``."""

    kind: ClassVar[ProviderKind] = ProviderKind.OPENAI_COMPATIBLE

    def __init__(self, config: OpenAICompatConfig, prices: PriceTable | None = None) -> None:
        self._config = config
        self._prices = prices or PriceTable()

    def _client(self) -> AbstractAsyncContextManager[openai.AsyncOpenAI]:
        """The SDK client for this config, leased for one call from :data:`CLIENTS`. Its key
        is a hash of all it is built from (the secrets included, so none is kept as a key);
        timeouts go with each request, so they are not part of it."""
        config = self._config
        headers = dict(config.extra_headers)
        if isinstance(config, OpenRouterConfig):
            if config.http_referer:
                headers["HTTP-Referer"] = config.http_referer
            if config.app_title:
                headers["X-Title"] = config.app_title
        api_key = (config.api_key.get_secret_value() if config.api_key else NO_KEY) or NO_KEY
        organization = config.organization if isinstance(config, OpenAIConfig) else None
        project = config.project if isinstance(config, OpenAIConfig) else None
        identity = [config.base_url, api_key, organization, project, sorted(headers.items())]
        key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()

        def build() -> openai.AsyncOpenAI:
            return openai.AsyncOpenAI(
                api_key=api_key,
                base_url=config.base_url,
                organization=organization,
                project=project,
                default_headers=headers or None,
                max_retries=0,
                http_client=openai.DefaultAioHttpClient(
                    # aiohttp under the SDK (its documented alternative transport): a third
                    # less CPU per call than httpx2's; a shared TLS context (building one
                    # per client costs ~25 ms of CPU); no cookie carried to the next call
                    transport=AiohttpTransport(
                        client=functools.partial(aiohttp_session, tls.default_context())
                    ),
                    cookies=no_cookies(),
                ),
            )

        return CLIENTS.lease(key, build)

    def _arguments(self, request: CompletionRequest) -> dict[str, Any]:
        messages = request.messages
        arguments: dict[str, Any] = {
            "model": request.model,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "timeout": request.deadline_seconds,
        }
        if request.json_schema is not None:
            if self._config.json_mode == "json_schema":
                arguments["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {
                        "name": request.json_schema_name,
                        "schema": request.json_schema,
                        "strict": True,
                    },
                }
            else:
                arguments["response_format"] = {"type": "json_object"}
                messages = with_system_instruction(
                    messages, schema_instruction(request.json_schema)
                )
        arguments["messages"] = [{"role": m.role, "content": m.content} for m in messages]
        return arguments

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        deadline = Deadline(request.deadline_seconds)
        try:
            async with deadline.timeout(), self._client() as client:
                arguments = self._arguments(request)
                timeout = arguments.pop("timeout")
                # the client's generic POST with our already-JSON body: the typed
                # ``chat.completions.create`` re-walks every message and the JSON schema
                # through the SDK's TypedDict transforms, a third of a turn's CPU
                answer = await client.post(
                    "/chat/completions",
                    body=arguments,
                    cast_to=ChatCompletion,
                    options={"timeout": timeout},
                )
        except TimeoutError as exc:
            raise deadline.expired(self.kind.value) from exc
        except Exception as exc:  # the SDK's errors, and JSON errors from a malformed body
            raise map_sdk_error(exc) from exc
        return self._completion(request, answer, started)

    def _completion(self, request: CompletionRequest, answer: object, started: float) -> Completion:
        if not isinstance(answer, ChatCompletion) or not answer.choices:
            raise BadRequest(f"answer without choices: {str(answer)[:200]!r}")
        choice = answer.choices[0]
        text = choice.message.content
        if text is None:
            refusal = getattr(choice.message, "refusal", None)
            raise BadRequest(f"answer without content (refusal: {refusal!r})")
        usage = Usage(
            input_tokens=answer.usage.prompt_tokens if answer.usage else 0,
            output_tokens=answer.usage.completion_tokens if answer.usage else 0,
        )
        model = answer.model or request.model
        return Completion(
            text=text,
            model=model,
            provider=self.kind,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cost=self._prices.first_cost((model, request.model), usage),
            finish_reason=choice.finish_reason,
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]:
        """Deltas as they come; the last chunk carries usage (``include_usage``) and the
        finish reason. The deadline covers the whole stream."""
        deadline = Deadline(request.deadline_seconds)
        arguments = self._arguments(request)
        finish_reason: str | None = None
        usage: Usage | None = None
        try:
            async with self._client() as client:
                async with deadline.timeout():
                    chunks = await client.chat.completions.create(
                        **arguments, stream=True, stream_options={"include_usage": True}
                    )
                async with chunks:
                    iterator = aiter(chunks)
                    while True:
                        try:
                            async with deadline.timeout():
                                chunk = await anext(iterator)
                        except StopAsyncIteration:
                            break
                        if not isinstance(chunk, ChatCompletionChunk):
                            raise BadRequest(f"unexpected stream event {str(chunk)[:200]!r}")
                        if chunk.usage is not None:
                            usage = Usage(
                                input_tokens=chunk.usage.prompt_tokens,
                                output_tokens=chunk.usage.completion_tokens,
                            )
                        for choice in chunk.choices[:1]:
                            finish_reason = choice.finish_reason or finish_reason
                            if choice.delta.content:
                                yield StreamChunk(delta=choice.delta.content)
        except TimeoutError as exc:
            raise deadline.expired(self.kind.value) from exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise map_sdk_error(exc) from exc
        yield StreamChunk(delta="", usage=usage, finish_reason=finish_reason)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """``POST /embeddings`` in batches of :data:`EMBEDDING_BATCH`, one after another under
        one deadline; each answer is put back in input order by its ``index``. Floats are
        asked for explicitly (the SDK would ask for base64, which not every self-hosted
        server speaks)."""
        started = time.perf_counter()
        check_texts(request.texts)
        deadline = Deadline(request.deadline_seconds)
        answered = EmbeddingBatches()
        if request.texts:
            try:
                async with deadline.timeout(), self._client() as client:
                    for batch in batches(request.texts, EMBEDDING_BATCH):
                        answer = await client.embeddings.create(
                            model=request.model,
                            input=list(batch),
                            encoding_format="float",
                            timeout=deadline.remaining(),
                        )
                        answered.add(_embedding_batch(answer, len(batch)))
            except TimeoutError as exc:
                raise deadline.expired(self.kind.value) from exc
            except Exception as exc:  # the SDK's errors, and JSON errors from a malformed body
                raise map_sdk_error(exc) from exc
        model = answered.model or request.model
        return embeddings_answer(
            answered.vectors,
            model=model,
            provider=self.kind,
            input_tokens=answered.input_tokens,
            started=started,
            cost=lambda usage: self._prices.first_cost((model, request.model), usage),
            what=self.kind.value,
        )


def _attribute(item: object, name: str) -> object:
    """A field of an SDK object the SDK built without validation (a malformed answer may leave
    it missing, or a plain dict)."""
    if isinstance(item, dict):
        return item.get(name)
    return getattr(item, name, None)


def _embedding_batch(answer: object, count: int) -> tuple[list[list[float]], int, str | None]:
    """(vectors in input order, prompt tokens, the model the server names) of one answer."""
    data = _attribute(answer, "data")
    if not isinstance(data, list):
        raise BadRequest(f"embeddings answer without data: {str(answer)[:200]!r}")
    vectors = ordered_vectors(
        ((_attribute(item, "index"), _attribute(item, "embedding")) for item in data),
        count,
        "embeddings answer",
    )
    tokens = _attribute(_attribute(answer, "usage"), "prompt_tokens")
    model = _attribute(answer, "model")
    return (
        vectors,
        tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else 0,
        model if isinstance(model, str) and model else None,
    )


class OpenAIProvider(OpenAICompatProvider):
    kind: ClassVar[ProviderKind] = ProviderKind.OPENAI


class OpenRouterProvider(OpenAICompatProvider):
    kind: ClassVar[ProviderKind] = ProviderKind.OPENROUTER


class OpenAICompatibleProvider(OpenAICompatProvider):
    kind: ClassVar[ProviderKind] = ProviderKind.OPENAI_COMPATIBLE
