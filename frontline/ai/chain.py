"""The per-tenant fallback chain: an ordered list of provider + model, tried in order, with a
circuit breaker per provider endpoint and the offline engine as the last resort.

A closed :class:`~frontline.ai.base.ProviderError` from one link is recorded and the next
link answers. A breaker (keyed by provider kind, endpoint and model) opens after
``failure_threshold`` consecutive failures, or at once on :class:`AuthFailed` (a wrong key
does not fix itself), and the chain then skips that link without a network call until
``cooldown_seconds`` have passed; after that one half-open trial call goes through, and its
success closes the breaker while its failure opens it again for another cooldown.

The breakers live in a :class:`BreakerRegistry` that the caller owns (one per process, passed
in, so tests and processes never share hidden state). Other exceptions (programming errors)
are not caught: the job layer turns them into an escalation.

When every link fails or is skipped, the offline engine answers unless the tenant turned it
off; then :class:`AllProvidersFailed` carries the attempt log and the caller escalates the
conversation to a person. Either way the customer gets an answer or an operator.

This module imports no domain code: it works on provider configs, requests and completions.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from frontline.ai.base import (
    AuthFailed,
    Completion,
    CompletionRequest,
    LLMProvider,
    PriceTable,
    ProviderConfig,
    ProviderError,
    ProviderKind,
    StreamChunk,
    Usage,
)
from frontline.ai.offline import OfflineEngine, Passage
from frontline.ai.providers.offline import OFFLINE_MODEL, OfflineProvider
from frontline.ai.providers.registry import build_provider, validate_config
from frontline.kit.metrics import llm_call_latency, llm_cost, llm_tokens

Clock = Callable[[], float]
SKIPPED_OPEN = "skipped: circuit open"


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One provider + model of a tenant's chain; ``config`` is the decrypted provider config
    (a dict or a validated config model)."""

    kind: ProviderKind
    model: str
    config: Mapping[str, Any] | ProviderConfig = dataclasses.field(default_factory=dict)


class Attempt(NamedTuple):
    """One entry of the attempt log: ``error`` is ``None`` for the link that answered, else
    ``"<ErrorClass>: <message>"`` (or :data:`SKIPPED_OPEN` when the breaker skipped it)."""

    provider: ProviderKind
    model: str
    error: str | None
    latency_ms: float


@dataclass(frozen=True, slots=True)
class ChainResult:
    completion: Completion
    attempts: tuple[Attempt, ...]


class AllProvidersFailed(Exception):
    """No link answered and the offline engine is off: escalate to a person."""

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        summary = "; ".join(f"{a.provider.value}/{a.model}: {a.error}" for a in self.attempts)
        super().__init__(f"all LLM providers failed ({summary or 'no providers configured'})")


# --- circuit breakers ----------------------------------------------------------------------


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerKey(NamedTuple):
    provider: ProviderKind
    endpoint: str  # base URL (lower-cased, no trailing slash); "" when the kind has none
    model: str


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """A snapshot of one breaker, for the AI status endpoint. ``opened_at`` is on the
    registry's clock (monotonic by default); ``retry_in`` is the seconds left before a
    half-open trial is allowed (``None`` unless open)."""

    key: BreakerKey
    state: BreakerState
    consecutive_failures: int
    opened_at: float | None
    last_error: str | None
    retry_in: float | None


@dataclass(slots=True)
class _Breaker:
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None
    last_error: str | None = None
    trial_started_at: float | None = None


class BreakerRegistry:
    """Circuit breakers by :class:`BreakerKey`, shared by every chain of a process.

    ``allow`` is asked before a call; a caller allowed through must report ``success``,
    ``failure`` or (when the call was abandoned, e.g. cancelled) ``release``. A half-open
    trial that never reports back does not block the key forever: after another cooldown a
    new trial is allowed.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        cooldown_seconds: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self._breakers: dict[BreakerKey, _Breaker] = {}
        self._lock = threading.Lock()

    def _get(self, key: BreakerKey) -> _Breaker:
        return self._breakers.setdefault(key, _Breaker())

    def state(self, key: BreakerKey) -> BreakerState:
        """The state a call would see now (without starting a trial)."""
        with self._lock:
            breaker = self._breakers.get(key)
            if breaker is None:
                return BreakerState.CLOSED
            if breaker.state is BreakerState.OPEN and self._cooled(breaker.opened_at):
                return BreakerState.HALF_OPEN
            return breaker.state

    def _cooled(self, since: float | None) -> bool:
        return since is None or self.clock() - since >= self.cooldown_seconds

    def allow(self, key: BreakerKey) -> bool:
        with self._lock:
            breaker = self._get(key)
            if breaker.state is BreakerState.CLOSED:
                return True
            if breaker.state is BreakerState.OPEN:
                if not self._cooled(breaker.opened_at):
                    return False
                breaker.state = BreakerState.HALF_OPEN
                breaker.trial_started_at = self.clock()
                return True
            # half open: one trial at a time
            if breaker.trial_started_at is None or self._cooled(breaker.trial_started_at):
                breaker.trial_started_at = self.clock()
                return True
            return False

    def success(self, key: BreakerKey) -> None:
        with self._lock:
            breaker = self._get(key)
            breaker.state = BreakerState.CLOSED
            breaker.failures = 0
            breaker.opened_at = None
            breaker.trial_started_at = None

    def failure(self, key: BreakerKey, error: ProviderError) -> None:
        with self._lock:
            breaker = self._get(key)
            breaker.failures += 1
            breaker.last_error = _describe(error)
            breaker.trial_started_at = None
            if (
                breaker.state is BreakerState.HALF_OPEN
                or isinstance(error, AuthFailed)
                or breaker.failures >= self.failure_threshold
            ):
                breaker.state = BreakerState.OPEN
                breaker.opened_at = self.clock()

    def release(self, key: BreakerKey) -> None:
        """An allowed call ended without a verdict: free the half-open trial slot."""
        with self._lock:
            breaker = self._breakers.get(key)
            if breaker is not None:
                breaker.trial_started_at = None

    def health(self) -> list[ProviderHealth]:
        """Every breaker that has seen a call, for the AI status endpoint."""
        with self._lock:
            now = self.clock()
            snapshot = []
            for key, breaker in self._breakers.items():
                state = breaker.state
                retry_in: float | None = None
                if state is BreakerState.OPEN and breaker.opened_at is not None:
                    retry_in = max(breaker.opened_at + self.cooldown_seconds - now, 0.0)
                    if retry_in == 0.0:
                        state = BreakerState.HALF_OPEN
                        retry_in = None
                snapshot.append(
                    ProviderHealth(
                        key=key,
                        state=state,
                        consecutive_failures=breaker.failures,
                        opened_at=breaker.opened_at,
                        last_error=breaker.last_error,
                        retry_in=retry_in,
                    )
                )
            return snapshot


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# --- the chain -----------------------------------------------------------------------------

RequestBuilder = CompletionRequest | Callable[[ChainLink], CompletionRequest]
# receives (attempt number, text delta) while a remote link streams its answer; a new attempt
# number means the previous link failed mid-answer and its text is void
DeltaSink = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Ready:
    link: ChainLink
    provider: LLMProvider
    key: BreakerKey | None  # None for the offline engine (it has no breaker)


class FallbackChain:
    """One tenant's chain for one call (cheap to build; the breakers are shared).

    ``request`` for :meth:`complete` and :meth:`stream` is either a template
    :class:`CompletionRequest` (its ``model`` is replaced by each link's) or a callable
    building the request for a link (e.g. JSON-schema output for one provider, instructions
    for another). ``knowledge`` or ``offline_engine`` (an engine, or a function that builds
    one - called only if the chain reaches the offline link) feed the offline link.
    """

    def __init__(
        self,
        links: Sequence[ChainLink],
        breakers: BreakerRegistry,
        *,
        offline_fallback: bool = True,
        knowledge: Sequence[Passage] = (),
        offline_engine: OfflineEngine | Callable[[], OfflineEngine] | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.links: tuple[ChainLink, ...] = tuple(links)
        self.breakers = breakers
        self.prices = prices or PriceTable()
        self._knowledge = tuple(knowledge)
        self._offline_engine = offline_engine
        if offline_fallback and not any(link.kind is ProviderKind.OFFLINE for link in links):
            self.links += (ChainLink(ProviderKind.OFFLINE, OFFLINE_MODEL),)

    def breaker_key(self, link: ChainLink) -> BreakerKey | None:
        """The breaker of ``link`` (``None`` for the offline engine). Raises the registry's
        :class:`~frontline.ai.providers.registry.InvalidProviderConfig` for a bad config."""
        if link.kind is ProviderKind.OFFLINE:
            return None
        config = link.config
        if not isinstance(config, ProviderConfig):
            config = validate_config(link.kind, config)
        endpoint = str(getattr(config, "base_url", "") or "").strip().rstrip("/").lower()
        return BreakerKey(link.kind, endpoint, link.model)

    def _offline(self) -> OfflineProvider:
        if self._offline_engine is None:
            self._offline_engine = OfflineEngine(self._knowledge)
        elif not isinstance(self._offline_engine, OfflineEngine):
            self._offline_engine = self._offline_engine()
        return OfflineProvider(engine=self._offline_engine)

    def _prepare(self, link: ChainLink) -> _Ready:
        if link.kind is ProviderKind.OFFLINE:
            return _Ready(link, self._offline(), None)
        key = self.breaker_key(link)
        return _Ready(link, build_provider(link.kind, link.config, self.prices), key)

    @staticmethod
    def _request(request: RequestBuilder, link: ChainLink) -> CompletionRequest:
        if isinstance(request, CompletionRequest):
            return dataclasses.replace(request, model=link.model)
        return request(link)

    def status(self) -> list[tuple[ChainLink, BreakerState]]:
        """What each link's breaker says now (offline is always closed), in chain order:
        the first closed or half-open link is the one that would answer."""
        states = []
        for link in self.links:
            try:
                key = self.breaker_key(link)
            except ProviderError:
                states.append((link, BreakerState.OPEN))
                continue
            states.append((link, BreakerState.CLOSED if key is None else self.breakers.state(key)))
        return states

    async def complete(
        self, request: RequestBuilder, *, on_delta: DeltaSink | None = None
    ) -> ChainResult:
        """The first answer in chain order. With ``on_delta`` remote links stream and each
        text delta is passed on as it arrives (the offline engine answers at once); the
        result is the same :class:`Completion` either way, and a link that fails mid-stream
        is a failure like any other: the next link answers from the start."""
        attempts: list[Attempt] = []
        for link in self.links:
            started = time.perf_counter()
            try:
                ready = self._prepare(link)
            except ProviderError as exc:  # an invalid config: the next link answers
                attempts.append(Attempt(link.kind, link.model, _describe(exc), 0.0))
                continue
            if ready.key is not None and not self.breakers.allow(ready.key):
                attempts.append(Attempt(link.kind, link.model, SKIPPED_OPEN, 0.0))
                continue
            verdict = False
            try:
                built = self._request(request, link)
                if on_delta is not None and ready.key is not None:
                    completion = await self._streamed(ready, built, on_delta, len(attempts))
                else:
                    completion = await ready.provider.complete(built)
                verdict = True
            except ProviderError as exc:
                verdict = True
                if ready.key is not None:
                    self.breakers.failure(ready.key, exc)
                attempts.append(Attempt(link.kind, link.model, _describe(exc), _ms(started)))
                _observe(link.kind, started, None)
                continue
            finally:
                if not verdict and ready.key is not None:
                    self.breakers.release(ready.key)
            if ready.key is not None:
                self.breakers.success(ready.key)
            attempts.append(Attempt(link.kind, link.model, None, _ms(started)))
            _observe(link.kind, started, completion.usage, completion.cost)
            return ChainResult(completion, tuple(attempts))
        raise AllProvidersFailed(attempts)

    async def _streamed(
        self, ready: _Ready, request: CompletionRequest, on_delta: DeltaSink, attempt: int
    ) -> Completion:
        started = time.perf_counter()
        parts: list[str] = []
        usage = Usage()
        finish_reason: str | None = None
        async for chunk in ready.provider.stream(request):
            if chunk.delta:
                parts.append(chunk.delta)
                await on_delta(attempt, chunk.delta)
            usage = chunk.usage or usage
            finish_reason = chunk.finish_reason or finish_reason
        return Completion(
            text="".join(parts),
            model=request.model,
            provider=ready.link.kind,
            usage=usage,
            latency_ms=_ms(started),
            cost=self.prices.cost(request.model, usage),
            finish_reason=finish_reason,
        )

    def stream(self, request: RequestBuilder) -> ChainStream:
        """The answer as it is generated, from the first link that starts streaming. A link
        failing before its first chunk is skipped like in :meth:`complete`; a failure after
        it cannot be hidden from the reader (part of the answer is out) and is raised."""
        return ChainStream(self, request)


class ChainStream:
    """An async iterator of :class:`StreamChunk`; ``attempts`` fills as links are tried and
    ``link`` is the one streaming (``None`` until one starts)."""

    def __init__(self, chain: FallbackChain, request: RequestBuilder) -> None:
        self.attempts: list[Attempt] = []
        self.link: ChainLink | None = None
        self._iterator = self._run(chain, request)

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        return self._iterator

    async def _run(
        self, chain: FallbackChain, request: RequestBuilder
    ) -> AsyncIterator[StreamChunk]:
        breakers = chain.breakers
        for link in chain.links:
            started = time.perf_counter()
            try:
                ready = chain._prepare(link)
            except ProviderError as exc:
                self.attempts.append(Attempt(link.kind, link.model, _describe(exc), 0.0))
                continue
            if ready.key is not None and not breakers.allow(ready.key):
                self.attempts.append(Attempt(link.kind, link.model, SKIPPED_OPEN, 0.0))
                continue
            verdict = False
            started_streaming = False
            usage = Usage()
            try:
                built = chain._request(request, link)
                async for chunk in ready.provider.stream(built):
                    if not started_streaming:
                        started_streaming = True
                        self.link = link
                    usage = chunk.usage or usage
                    yield chunk
                verdict = True
            except ProviderError as exc:
                verdict = True
                if ready.key is not None:
                    breakers.failure(ready.key, exc)
                self.attempts.append(Attempt(link.kind, link.model, _describe(exc), _ms(started)))
                _observe(link.kind, started, None)
                if started_streaming:
                    raise
                continue
            finally:
                if not verdict and ready.key is not None:
                    breakers.release(ready.key)
            if ready.key is not None:
                breakers.success(ready.key)
            self.attempts.append(Attempt(link.kind, link.model, None, _ms(started)))
            _observe(link.kind, started, usage, chain.prices.cost(built.model, usage))
            return
        raise AllProvidersFailed(self.attempts)


def _observe(
    provider: ProviderKind, started: float, usage: Usage | None, cost: float | None = None
) -> None:
    """The call's latency (``usage`` None: it failed), tokens and cost, for the metrics."""
    outcome = "error" if usage is None else "ok"
    llm_call_latency.labels(provider.value, outcome).observe(time.perf_counter() - started)
    if usage is None:
        return
    llm_tokens.labels(provider.value, "input").inc(max(usage.input_tokens, 0))
    llm_tokens.labels(provider.value, "output").inc(max(usage.output_tokens, 0))
    # the series exists (at 0) for a provider that costs nothing, such as the offline engine
    llm_cost.labels(provider.value).inc(max(cost or 0.0, 0.0))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
