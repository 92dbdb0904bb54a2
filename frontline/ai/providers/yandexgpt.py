"""YandexGPT through the Yandex Cloud Foundation Models completion and text-embedding APIs.

Auth is an API key (``Authorization: Api-Key ...``) or an IAM token (``Bearer``), with the
folder in ``x-folder-id``. Models are URIs ``gpt://<folder>/<model>/<version>``; a short name
(``yandexgpt-lite``, ``yandexgpt/rc``) is expanded with the configured folder. Token counts
arrive as strings. A streamed answer is newline-delimited JSON whose every object carries the
whole text so far; the adapter yields only the new suffix.

Embeddings (``POST .../textEmbedding``) take one text per call; the model is asymmetric,
``text-search-doc`` for the knowledge base's passages and ``text-search-query`` for the
questions, chosen from the request's ``purpose`` (:func:`embedding_model_uri`). The calls run a
few at a time (:data:`EMBEDDING_CONCURRENCY`) under one deadline.

The HTTP client (and its keep-alive connections) is shared per event loop
(:func:`frontline.ai.providers.common.http_client`); timeouts go with each request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar, Self, TypeVar

import httpx
from pydantic import ConfigDict, Field, SecretStr, model_validator

from frontline.ai.base import (
    BadRequest,
    Completion,
    CompletionRequest,
    EmbeddingPurpose,
    EmbeddingRequest,
    Embeddings,
    PriceTable,
    ProviderConfig,
    ProviderError,
    ProviderKind,
    StreamChunk,
    Usage,
)
from frontline.ai.providers.common import (
    Deadline,
    as_int,
    as_vector,
    check_texts,
    embeddings_answer,
    error_for_status,
    http_client,
    json_body,
    raise_for_status,
    schema_instruction,
    transport_error,
    with_system_instruction,
)
from frontline.kit import tls

YANDEX_BASE_URL = "https://llm.api.cloud.yandex.net/foundationModels/v1"
FINAL_STATUSES = {"ALTERNATIVE_STATUS_FINAL", "ALTERNATIVE_STATUS_TRUNCATED_FINAL"}
# the asymmetric text-search embedding pair: passages and questions
EMBEDDING_MODELS: dict[EmbeddingPurpose, str] = {
    "document": "text-search-doc",
    "query": "text-search-query",
}
# names that stand for the pair (the purpose picks the member)
_EMBEDDING_PAIR = {"text-search", *EMBEDDING_MODELS.values()}
# textEmbedding calls in flight at once (the default quota is 10 requests a second)
EMBEDDING_CONCURRENCY = 3

_T = TypeVar("_T")


class YandexGPTConfig(ProviderConfig):
    """Exactly one of ``api_key`` and ``iam_token``. ``native_json_schema`` sends the schema
    in the request's ``jsonSchema`` field (structured output); off, the schema goes into the
    system instruction instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    api_key: SecretStr | None = None
    iam_token: SecretStr | None = None
    base_url: str = Field(default=YANDEX_BASE_URL, min_length=1, max_length=2000)
    native_json_schema: bool = True

    @model_validator(mode="after")
    def _one_credential(self) -> Self:
        if (self.api_key is None) == (self.iam_token is None):
            raise ValueError("give exactly one of api_key and iam_token")
        return self


def model_uri(model: str, folder_id: str) -> str:
    """``yandexgpt-lite`` -> ``gpt://<folder>/yandexgpt-lite/latest``; ``yandexgpt/rc`` ->
    ``gpt://<folder>/yandexgpt/rc``; a full ``gpt://`` (or tuned ``ds://``) URI as is."""
    model = model.strip()
    if "://" in model:
        return model
    if not model:
        raise BadRequest("empty YandexGPT model name")
    name, _, version = model.partition("/")
    return f"gpt://{folder_id}/{name}/{version or 'latest'}"


def embedding_model_uri(model: str, folder_id: str, purpose: EmbeddingPurpose) -> str:
    """The ``emb://`` URI for ``purpose``. ``text-search`` (or either member of the pair,
    ``text-search-doc``/``text-search-query``, optionally ``/<version>``) becomes
    ``emb://<folder>/text-search-doc/latest`` for documents and ``.../text-search-query/...``
    for queries, so one configured name serves both sides; a full ``emb://`` URI naming a
    member of the pair is switched the same way; any other name or URI is used as is."""
    model = model.strip()
    if not model:
        raise BadRequest("empty YandexGPT embedding model name")
    wanted = EMBEDDING_MODELS[purpose]
    if "://" in model:
        scheme, _, path = model.partition("://")
        parts = path.split("/")
        if len(parts) >= 2 and parts[1] in _EMBEDDING_PAIR:
            parts[1] = wanted
        return f"{scheme}://{'/'.join(parts)}"
    name, _, version = model.partition("/")
    if name in _EMBEDDING_PAIR:
        name = wanted
    return f"emb://{folder_id}/{name}/{version or 'latest'}"


async def _map_limited(
    items: Sequence[_T], call: Callable[[_T], Awaitable[list[float]]], limit: int
) -> list[list[float]]:
    """``call`` on every item, at most ``limit`` at once, answers in the items' order. The
    first failure cancels the rest and is raised as itself (not an exception group)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(item: _T) -> list[float]:
        async with semaphore:
            return await call(item)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
    except* ProviderError as errors:
        raise errors.exceptions[0] from None
    return [task.result() for task in tasks]


class YandexGPTProvider:
    kind: ClassVar[ProviderKind] = ProviderKind.YANDEXGPT

    def __init__(self, config: YandexGPTConfig, prices: PriceTable | None = None) -> None:
        self._config = config
        self._prices = prices or PriceTable()

    def _headers(self) -> dict[str, str]:
        config = self._config
        if config.api_key is not None:
            auth = f"Api-Key {config.api_key.get_secret_value()}"
        else:
            assert config.iam_token is not None
            auth = f"Bearer {config.iam_token.get_secret_value()}"
        return {"Authorization": auth, "x-folder-id": config.folder_id}

    def _url(self) -> str:
        return f"{self._config.base_url.rstrip('/')}/completion"

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        messages = request.messages
        body: dict[str, Any] = {
            "modelUri": model_uri(request.model, self._config.folder_id),
            "completionOptions": {
                "stream": stream,
                "temperature": request.temperature,
                "maxTokens": str(request.max_tokens),
            },
        }
        if request.json_schema is not None:
            if self._config.native_json_schema:
                body["jsonSchema"] = {"schema": request.json_schema}
            else:
                messages = with_system_instruction(
                    messages, schema_instruction(request.json_schema)
                )
        body["messages"] = [{"role": m.role, "text": m.content} for m in messages]
        return body

    def _cost(self, uri: str, request: CompletionRequest, usage: Usage) -> float | None:
        """Priced by the short name (``yandexgpt-lite``) or the full URI."""
        short = uri.split("/")[3] if uri.startswith("gpt://") and uri.count("/") >= 3 else uri
        return self._prices.first_cost((request.model, short, uri), usage)

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        deadline = Deadline(request.deadline_seconds)
        body = self._body(request, stream=False)
        try:
            async with deadline.timeout(), http_client(tls.default_context()) as client:
                response = await client.post(
                    self._url(), json=body, headers=self._headers(), timeout=deadline.remaining()
                )
        except TimeoutError as exc:
            raise deadline.expired("YandexGPT") from exc
        except httpx.TransportError as exc:
            raise transport_error(exc, "YandexGPT") from exc
        raise_for_status(response)
        data = json_body(response)
        text, status, usage = _parse_result(data)
        uri = body["modelUri"]
        return Completion(
            text=text,
            model=request.model,
            provider=self.kind,
            usage=usage or Usage(),
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cost=self._cost(uri, request, usage or Usage()),
            finish_reason=status,
        )

    def _embedding_cost(self, request: EmbeddingRequest, uri: str, usage: Usage) -> float | None:
        """Priced by the configured name, the model's short name or the full URI."""
        parts = uri.split("/")
        short = parts[3] if uri.startswith("emb://") and len(parts) >= 4 else uri
        return self._prices.first_cost((request.model, short, uri), usage)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """One ``textEmbedding`` call per text ``{"modelUri", "text"}`` -> ``{"embedding",
        "numTokens"}``, :data:`EMBEDDING_CONCURRENCY` at a time, under one deadline."""
        started = time.perf_counter()
        check_texts(request.texts)
        deadline = Deadline(request.deadline_seconds)
        uri = embedding_model_uri(request.model, self._config.folder_id, request.purpose)
        url = f"{self._config.base_url.rstrip('/')}/textEmbedding"
        headers = self._headers()
        tokens: list[int] = []

        async def one(client: httpx.AsyncClient, text: str) -> list[float]:
            try:
                response = await client.post(
                    url,
                    json={"modelUri": uri, "text": text},
                    headers=headers,
                    timeout=deadline.remaining(),
                )
            except httpx.TransportError as exc:
                raise transport_error(exc, "YandexGPT") from exc
            raise_for_status(response)
            data = json_body(response)
            vector = as_vector(data.get("embedding"), "YandexGPT embedding answer")
            tokens.append(as_int(data.get("numTokens")))
            return vector

        vectors: list[list[float]] = []
        if request.texts:
            try:
                async with deadline.timeout(), http_client(tls.default_context()) as client:
                    vectors = await _map_limited(
                        request.texts, lambda text: one(client, text), EMBEDDING_CONCURRENCY
                    )
            except TimeoutError as exc:
                raise deadline.expired("YandexGPT") from exc
        return embeddings_answer(
            vectors,
            model=request.model,
            provider=self.kind,
            input_tokens=sum(tokens),
            started=started,
            cost=lambda usage: self._embedding_cost(request, uri, usage),
            what="YandexGPT",
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]:
        deadline = Deadline(request.deadline_seconds)
        body = self._body(request, stream=True)
        sent = ""
        usage: Usage | None = None
        status: str | None = None
        try:
            async with http_client(tls.default_context()) as client:
                http_request = client.build_request(
                    "POST",
                    self._url(),
                    json=body,
                    headers=self._headers(),
                    timeout=deadline.remaining(),
                )
                async with deadline.timeout():
                    response = await client.send(http_request, stream=True)
                try:
                    if response.status_code >= 300:
                        async with deadline.timeout():
                            await response.aread()
                        raise_for_status(response)
                    lines = aiter(response.aiter_lines())
                    while True:
                        try:
                            async with deadline.timeout():
                                line = await anext(lines)
                        except StopAsyncIteration:
                            break
                        if not line.strip():
                            continue
                        text, status, line_usage = _parse_result(_line(line))
                        usage = line_usage or usage
                        if not text.startswith(sent):
                            raise BadRequest("YandexGPT stream text is not cumulative")
                        delta, sent = text[len(sent) :], text
                        if delta:
                            yield StreamChunk(delta=delta)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise deadline.expired("YandexGPT") from exc
        except httpx.TransportError as exc:
            raise transport_error(exc, "YandexGPT") from exc
        if status is None:
            raise BadRequest("YandexGPT stream carried no answer")
        yield StreamChunk(delta="", usage=usage, finish_reason=status)


def _line(line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise BadRequest(f"malformed YandexGPT stream line: {line[:200]!r}") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"unexpected YandexGPT stream line: {line[:200]!r}")
    return data


def _parse_result(data: dict[str, Any]) -> tuple[str, str | None, Usage | None]:
    """(text, alternative status, usage) of one answer object; an ``error`` object (sent
    inside a stream) becomes the closed error its ``httpCode`` means."""
    error = data.get("error")
    if isinstance(error, dict):
        code = as_int(error.get("httpCode")) or 500
        raise error_for_status(code, str(error.get("message", error)), {})
    try:
        result = data["result"]
        alternative = result["alternatives"][0]
        text = alternative["message"]["text"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BadRequest(f"YandexGPT answer without alternatives: {str(data)[:200]!r}") from exc
    if not isinstance(text, str):
        raise BadRequest("YandexGPT answer text is not text")
    raw_usage = result.get("usage")
    usage = (
        Usage(
            input_tokens=as_int(raw_usage.get("inputTextTokens")),
            output_tokens=as_int(raw_usage.get("completionTokens")),
        )
        if isinstance(raw_usage, dict)
        else None
    )
    status = alternative.get("status")
    return text, status if isinstance(status, str) else None, usage
