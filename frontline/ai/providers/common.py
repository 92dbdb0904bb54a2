"""Helpers shared by the remote provider adapters: the shared HTTP client, HTTP status ->
closed error, Retry-After, deadlines, JSON-by-instruction, embedding answers. Imports only
the contract in :mod:`frontline.ai.base` (and :mod:`frontline.kit`)."""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from frontline.ai.base import (
    AuthFailed,
    BadRequest,
    ChatMessage,
    Embeddings,
    ProviderError,
    ProviderKind,
    RateLimited,
    Timeout,
    Unavailable,
    Usage,
)
from frontline.kit import tls
from frontline.kit.httpclients import ClientCache, no_cookies

# seconds a Retry-After may ask for before we treat it as nonsense and cap it
MAX_RETRY_AFTER = 3600.0

# httpx clients of the plain-HTTP adapters (GigaChat, YandexGPT), per event loop and TLS
# setting; nothing else is baked in (URLs, credentials and timeouts go with each request)
CLIENTS: ClientCache[httpx.AsyncClient] = ClientCache(httpx.AsyncClient.aclose)


def http_client(verify: ssl.SSLContext | bool) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The running loop's shared client for ``verify`` (from :func:`ssl_verify`; contexts
    are cached, so the same settings give the same object), leased for one call. Requests
    must pass their own ``timeout``."""

    def build() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            verify=verify,
            cookies=no_cookies(),
            # no cap across tenants and hosts (httpx's default is 100): the worker's
            # concurrency bounds the calls; idle connections kept for the next calls
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
        )

    return CLIENTS.lease(verify, build)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date) or the
    non-standard ``retry-after-ms``; ``None`` when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return min(max(float(millis) / 1000.0, 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)


def error_for_status(status: int, detail: str, headers: Mapping[str, str]) -> ProviderError:
    """The closed error for an HTTP error status."""
    message = f"HTTP {status}: {detail[:300]}"
    if status == 429:
        return RateLimited(message, retry_after=parse_retry_after(headers))
    if status in (401, 403):
        return AuthFailed(message)
    if status in (408, 504):
        return Timeout(message)
    if status >= 500:
        return Unavailable(message)
    return BadRequest(message)


def raise_for_status(response: httpx.Response) -> None:
    """Raise the closed error for a non-2xx answer (the body must already be read)."""
    if response.status_code < 300:
        return
    raise error_for_status(response.status_code, response.text, response.headers)


def transport_error(exc: httpx.TransportError, what: str) -> ProviderError:
    """The closed error for an httpx transport failure."""
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{what} timed out: {exc!r}")
    return Unavailable(f"{what} unreachable: {exc!r}")


def json_body(response: httpx.Response) -> dict[str, Any]:
    """A 2xx answer's JSON object, or :class:`BadRequest` when it is not one."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON answer: {response.text[:200]!r}") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"unexpected answer shape: {response.text[:200]!r}")
    return data


class Deadline:
    """An absolute point on the event loop's clock by which a whole call must be done."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = asyncio.get_running_loop().time() + seconds

    def remaining(self) -> float:
        return max(self.at - asyncio.get_running_loop().time(), 0.001)

    def timeout(self) -> asyncio.Timeout:
        """A context manager cancelling the awaited work at the deadline (raises
        :class:`TimeoutError`)."""
        return asyncio.timeout_at(self.at)

    def expired(self, what: str) -> Timeout:
        return Timeout(f"{what}: no answer within the {self.seconds:g} s deadline")


def schema_instruction(schema: Mapping[str, Any]) -> str:
    """The instruction that asks for JSON following ``schema`` (for providers without a
    native JSON-schema mode; the caller validates the answer)."""
    return (
        "Answer with one JSON object only, no prose and no Markdown code fences. "
        "It must validate against this JSON Schema:\n"
        + json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    )


def with_system_instruction(
    messages: tuple[ChatMessage, ...], instruction: str
) -> tuple[ChatMessage, ...]:
    """``messages`` with ``instruction`` appended to the first system message (or a new
    system message first; some providers accept only one, and only first)."""
    for index, message in enumerate(messages):
        if message.role == "system":
            merged = ChatMessage("system", f"{message.content}\n\n{instruction}")
            return (*messages[:index], merged, *messages[index + 1 :])
    return (ChatMessage("system", instruction), *messages)


def ssl_verify(verify_ssl: bool, ca_bundle: str | None) -> ssl.SSLContext | bool:
    """httpx ``verify``: a context trusting ``ca_bundle`` (plus nothing else) when given."""
    if not verify_ssl:
        return False
    if ca_bundle is None:
        return tls.default_context()
    try:
        return tls.context_for_bundle(ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise BadRequest(f"cannot load the CA bundle {ca_bundle!r}: {exc}") from exc


def as_int(value: object) -> int:
    """A token count that may arrive as a number or a string (YandexGPT); 0 when absent."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadRequest(f"bad token count {value!r}")
    if isinstance(value, int | str | float):
        try:
            return int(value)
        except ValueError as exc:
            raise BadRequest(f"bad token count {value!r}") from exc
    raise BadRequest(f"bad token count {value!r}")


# --- embeddings ----------------------------------------------------------------------------


def check_texts(texts: Sequence[str]) -> None:
    """:class:`BadRequest` for a text the providers would refuse or embed as noise (empty or
    blank): the caller has a bug, and one such text would fail a whole batch."""
    for index, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise BadRequest(f"text {index} to embed is empty")


def batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def as_vector(value: object, what: str) -> list[float]:
    """An embedding as floats: a non-empty list of finite numbers (or numeric strings, which
    proto3 JSON may send for doubles); :class:`BadRequest` otherwise."""
    if not isinstance(value, list) or not value:
        raise BadRequest(f"{what}: an embedding is not a list of numbers: {str(value)[:100]!r}")
    vector: list[float] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise BadRequest(f"{what}: an embedding holds {item!r}")
        try:
            number = float(item)
        except ValueError as exc:
            raise BadRequest(f"{what}: an embedding holds {item!r}") from exc
        if not math.isfinite(number):
            raise BadRequest(f"{what}: an embedding holds {item!r}")
        vector.append(number)
    return vector


def ordered_vectors(
    items: Iterable[tuple[object, object]], count: int, what: str
) -> list[list[float]]:
    """``(index, embedding)`` pairs of one batch answer as vectors in index order; the indices
    must be exactly ``0 .. count - 1`` (answers may come in any order)."""
    by_index: dict[int, list[float]] = {}
    for index, embedding in items:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            raise BadRequest(f"{what}: an embedding has the index {index!r} (of {count})")
        if index in by_index:
            raise BadRequest(f"{what}: two embeddings have the index {index}")
        by_index[index] = as_vector(embedding, what)
    if len(by_index) != count:
        raise BadRequest(f"{what}: {len(by_index)} embeddings for {count} texts")
    return [by_index[index] for index in range(count)]


def check_dimensions(vectors: Sequence[Sequence[float]], what: str) -> None:
    """:class:`BadRequest` unless every vector has the same dimension."""
    dimensions = {len(vector) for vector in vectors}
    if len(dimensions) > 1:
        raise BadRequest(f"{what}: embeddings of different dimensions {sorted(dimensions)}")


@dataclass(slots=True)
class EmbeddingBatches:
    """What the batches of one ``embed`` call answered, summed in order: the vectors, the
    input tokens and the first model an answer named."""

    vectors: list[list[float]] = field(default_factory=list)
    input_tokens: int = 0
    model: str | None = None

    def add(self, answer: tuple[list[list[float]], int, str | None]) -> None:
        """One batch's ``(vectors in input order, input tokens, the model it named)``."""
        vectors, tokens, model = answer
        self.vectors.extend(vectors)
        self.input_tokens += tokens
        self.model = self.model or model


def embeddings_answer(
    vectors: list[list[float]],
    *,
    model: str,
    provider: ProviderKind,
    input_tokens: int,
    started: float,
    cost: Callable[[Usage], float | None],
    what: str,
) -> Embeddings:
    """The result of one ``embed`` call that started at ``started`` (``time.perf_counter``):
    :class:`BadRequest` unless every vector has the same dimension."""
    check_dimensions(vectors, what)
    usage = Usage(input_tokens=input_tokens)
    return Embeddings(
        vectors=vectors,
        model=model,
        provider=provider,
        usage=usage,
        latency_ms=(time.perf_counter() - started) * 1000.0,
        cost=cost(usage),
    )
