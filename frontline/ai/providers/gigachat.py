"""GigaChat (Sber) over plain HTTP: OAuth client-credentials token exchange, then
OpenAI-like chat completions and embeddings (``POST /embeddings``) with the access token.

The token is cached per process, keyed by a hash of the credentials (auth URL, scope and
authorization key), until :data:`TOKEN_MARGIN_SECONDS` before it expires; chat and embeddings
share it. A 401 on either drops it and the call is retried once with a fresh one. GigaChat's
servers use certificates of the Russian national CA: point ``ca_bundle`` at a PEM file that
contains it.

GigaChat has no JSON-schema mode: a schema is given as a system instruction and the caller
validates the answer.

The HTTP client (and its keep-alive connections) is shared per event loop and TLS settings
(:func:`frontline.ai.providers.common.http_client`); timeouts go with each request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
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
    ProviderKind,
    StreamChunk,
    Usage,
)
from frontline.ai.providers.common import (
    Deadline,
    EmbeddingBatches,
    as_int,
    batches,
    check_texts,
    embeddings_answer,
    http_client,
    json_body,
    ordered_vectors,
    raise_for_status,
    schema_instruction,
    ssl_verify,
    transport_error,
    with_system_instruction,
)

GIGACHAT_AUTH_URL = "https://ngw.devices.sberbank.ru:9443/api/v2/oauth"
GIGACHAT_BASE_URL = "https://gigachat.devices.sberbank.ru/api/v1"
# a cached token is replaced this long before it expires
TOKEN_MARGIN_SECONDS = 60.0
# when the token answer carries no expiry (GigaChat tokens live 30 minutes)
DEFAULT_TOKEN_TTL_SECONDS = 30 * 60.0
# texts per embeddings request (GigaChat's own clients send at most 90)
EMBEDDING_BATCH = 64


class GigaChatConfig(ProviderConfig):
    """``authorization_key`` is the Base64 ``client_id:client_secret`` GigaChat issues
    ("Authorization key" in its console); ``scope`` is ``GIGACHAT_API_PERS`` (individuals),
    ``GIGACHAT_API_B2B`` or ``GIGACHAT_API_CORP``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authorization_key: SecretStr
    scope: str = Field(default="GIGACHAT_API_PERS", min_length=1, max_length=100)
    auth_url: str = Field(default=GIGACHAT_AUTH_URL, min_length=1, max_length=2000)
    base_url: str = Field(default=GIGACHAT_BASE_URL, min_length=1, max_length=2000)
    ca_bundle: str | None = Field(default=None, max_length=4000)
    verify_ssl: bool = True


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # epoch seconds


class TokenCache:
    """Access tokens per credentials hash, shared by every adapter in the process.

    A thread lock guards the dict; an :class:`asyncio.Lock` per credentials and event loop
    makes concurrent calls wait for one exchange instead of each doing their own.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._guard = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def get(self, key: str) -> str | None:
        with self._guard:
            token = self._tokens.get(key)
        if token is None or token.expires_at - TOKEN_MARGIN_SECONDS <= time.time():
            return None
        return token.value

    def put(self, key: str, value: str, expires_at: float) -> None:
        with self._guard:
            self._tokens[key] = _Token(value, expires_at)

    def drop(self, key: str, value: str) -> None:
        """Forget ``value`` (unless another call already replaced it)."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            locks = self._locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())


TOKENS = TokenCache()


def _credentials_key(config: GigaChatConfig) -> str:
    raw = "\0".join((config.auth_url, config.scope, config.authorization_key.get_secret_value()))
    return hashlib.sha256(raw.encode()).hexdigest()


class GigaChatProvider:
    kind: ClassVar[ProviderKind] = ProviderKind.GIGACHAT

    def __init__(self, config: GigaChatConfig, prices: PriceTable | None = None) -> None:
        self._config = config
        self._prices = prices or PriceTable()
        self._key = _credentials_key(config)

    def _http(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return http_client(ssl_verify(self._config.verify_ssl, self._config.ca_bundle))

    async def _token(self, client: httpx.AsyncClient, deadline: Deadline) -> str:
        cached = TOKENS.get(self._key)
        if cached is not None:
            return cached
        async with TOKENS.lock(self._key):
            cached = TOKENS.get(self._key)  # another call may have fetched it meanwhile
            if cached is not None:
                return cached
            value, expires_at = await self._exchange(client, deadline)
            TOKENS.put(self._key, value, expires_at)
            return value

    async def _exchange(self, client: httpx.AsyncClient, deadline: Deadline) -> tuple[str, float]:
        headers = {
            "Authorization": f"Basic {self._config.authorization_key.get_secret_value()}",
            "RqUID": str(uuid.uuid4()),
            "Accept": "application/json",
        }
        try:
            response = await client.post(
                self._config.auth_url,
                headers=headers,
                data={"scope": self._config.scope},
                timeout=deadline.remaining(),
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, "GigaChat auth") from exc
        raise_for_status(response)
        body = json_body(response)
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise BadRequest("GigaChat auth answer without access_token")
        if isinstance(body.get("expires_at"), int | float):
            expires_at = float(body["expires_at"]) / 1000.0  # milliseconds since the epoch
        elif isinstance(body.get("expires_in"), int | float):
            expires_at = time.time() + float(body["expires_in"])
        else:
            expires_at = time.time() + DEFAULT_TOKEN_TTL_SECONDS
        return value, expires_at

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        messages = request.messages
        if request.json_schema is not None:
            messages = with_system_instruction(messages, schema_instruction(request.json_schema))
        return {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": stream,
        }

    def _api_request(
        self,
        client: httpx.AsyncClient,
        deadline: Deadline,
        token: str,
        path: str,
        body: dict[str, Any],
    ) -> httpx.Request:
        return client.build_request(
            "POST",
            f"{self._config.base_url.rstrip('/')}/{path}",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "text/event-stream" if body.get("stream") else "application/json",
            },
            timeout=deadline.remaining(),
        )

    async def _send(
        self,
        client: httpx.AsyncClient,
        deadline: Deadline,
        body: dict[str, Any],
        path: str = "chat/completions",
    ) -> httpx.Response:
        """The answer with the body not yet read (status checked); a 401 drops the cached
        token and tries once more with a new one."""
        for attempt in (1, 2):
            token = await self._token(client, deadline)
            request = self._api_request(client, deadline, token, path, body)
            try:
                response = await client.send(request, stream=True)
            except httpx.TransportError as exc:
                raise transport_error(exc, "GigaChat") from exc
            if response.status_code == 401 and attempt == 1:
                await response.aclose()
                TOKENS.drop(self._key, token)
                continue
            if response.status_code >= 300:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                raise_for_status(response)
            return response
        raise AuthFailed("GigaChat rejected a fresh token")  # pragma: no cover - loop returns

    def _usage(self, data: object) -> Usage:
        if not isinstance(data, dict):
            return Usage()
        return Usage(
            input_tokens=as_int(data.get("prompt_tokens")),
            output_tokens=as_int(data.get("completion_tokens")),
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        deadline = Deadline(request.deadline_seconds)
        try:
            async with deadline.timeout(), self._http() as client:
                response = await self._send(client, deadline, self._body(request, stream=False))
                try:
                    await response.aread()
                except httpx.TransportError as exc:
                    raise transport_error(exc, "GigaChat") from exc
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise deadline.expired("GigaChat") from exc
        data = json_body(response)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BadRequest(f"GigaChat answer without choices: {response.text[:200]!r}") from exc
        if not isinstance(text, str):
            raise BadRequest("GigaChat answer content is not text")
        usage = self._usage(data.get("usage"))
        model = data.get("model") if isinstance(data.get("model"), str) else request.model
        assert isinstance(model, str)
        return Completion(
            text=text,
            model=model,
            provider=self.kind,
            usage=usage,
            latency_ms=(time.perf_counter() - started) * 1000.0,
            cost=self._prices.first_cost((model, request.model), usage),
            finish_reason=choice.get("finish_reason") if isinstance(choice, dict) else None,
        )

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """``POST /embeddings`` ``{"model", "input": [...]}`` in batches of
        :data:`EMBEDDING_BATCH` under one deadline. The answer is ``{"data": [{"embedding",
        "index", "usage": {"prompt_tokens"}}], "model"}``, put back in input order by index."""
        started = time.perf_counter()
        check_texts(request.texts)
        deadline = Deadline(request.deadline_seconds)
        answered = EmbeddingBatches()
        if request.texts:
            try:
                async with deadline.timeout(), self._http() as client:
                    for batch in batches(request.texts, EMBEDDING_BATCH):
                        body = {"model": request.model, "input": list(batch)}
                        response = await self._send(client, deadline, body, path="embeddings")
                        try:
                            await response.aread()
                        except httpx.TransportError as exc:
                            raise transport_error(exc, "GigaChat") from exc
                        finally:
                            await response.aclose()
                        answered.add(_embedding_batch(json_body(response), len(batch)))
            except TimeoutError as exc:
                raise deadline.expired("GigaChat") from exc
        model = answered.model or request.model
        return embeddings_answer(
            answered.vectors,
            model=model,
            provider=self.kind,
            input_tokens=answered.input_tokens,
            started=started,
            cost=lambda usage: self._prices.first_cost((model, request.model), usage),
            what="GigaChat",
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamChunk]:
        """Server-sent events ``data: {...}`` with ``choices[0].delta.content``, ending with
        ``data: [DONE]``; usage comes with the last event."""
        deadline = Deadline(request.deadline_seconds)
        usage: Usage | None = None
        finish_reason: str | None = None
        done = False
        try:
            async with self._http() as client:
                async with deadline.timeout():
                    response = await self._send(client, deadline, self._body(request, stream=True))
                try:
                    lines = aiter(response.aiter_lines())
                    while not done:
                        try:
                            async with deadline.timeout():
                                line = await anext(lines)
                        except StopAsyncIteration:
                            break
                        if not line.startswith("data:"):
                            continue  # blank separators, comments, "event:" lines
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            done = True
                            break
                        event = _event(payload)
                        if "usage" in event:
                            usage = self._usage(event["usage"])
                        delta, reason = _delta(event)
                        finish_reason = reason or finish_reason
                        if delta:
                            yield StreamChunk(delta=delta)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise deadline.expired("GigaChat") from exc
        except httpx.TransportError as exc:
            raise transport_error(exc, "GigaChat") from exc
        if not done and finish_reason is None:
            raise BadRequest("GigaChat stream ended without [DONE]")
        yield StreamChunk(delta="", usage=usage, finish_reason=finish_reason)


def _embedding_batch(data: dict[str, Any], count: int) -> tuple[list[list[float]], int, str | None]:
    """(vectors in input order, prompt tokens, the model named) of one embeddings answer.
    Tokens are counted per item (``data[i].usage``), or from a top-level ``usage``."""
    items = data.get("data")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadRequest(f"GigaChat embeddings answer without data: {str(data)[:200]!r}")
    vectors = ordered_vectors(
        ((item.get("index"), item.get("embedding")) for item in items),
        count,
        "GigaChat embeddings answer",
    )
    tokens = sum(
        as_int(item["usage"].get("prompt_tokens"))
        for item in items
        if isinstance(item.get("usage"), dict)
    )
    if not tokens and isinstance(data.get("usage"), dict):
        tokens = as_int(data["usage"].get("prompt_tokens"))
    model = data.get("model")
    return vectors, tokens, model if isinstance(model, str) and model else None


def _event(payload: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise BadRequest(f"malformed GigaChat stream event: {payload[:200]!r}") from exc
    if not isinstance(event, dict):
        raise BadRequest(f"unexpected GigaChat stream event: {payload[:200]!r}")
    return event


def _delta(event: dict[str, Any]) -> tuple[str, str | None]:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices:
        return "", None
    choice = choices[0]
    if not isinstance(choice, dict):
        raise BadRequest("unexpected GigaChat stream choice")
    delta = choice.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    reason = choice.get("finish_reason")
    return (
        content if isinstance(content, str) else "",
        reason if isinstance(reason, str) else None,
    )
