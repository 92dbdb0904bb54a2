"""Long-lived outbound HTTP clients, shared per event loop.

Building an HTTP client per call (an ``httpx`` client, an ``openai.AsyncOpenAI`` around one)
costs little by itself, but every call then opens a new TCP connection (and TLS session),
and throws it away afterwards; the SDKs are made to be kept. Adapters stay built per call
from the tenant's config and never mutated: what they share is only the client, taken from
a :class:`ClientCache` for the duration of one call with :meth:`ClientCache.lease`.

Clients are bound to the event loop they were used in (their connections are that loop's
transports), so each running loop has its own clients, and a loop never sees another's.

A key may have several clients (up to ``shards``): a call takes the least busy one, and
another is built only when every one is in use. httpcore's pool probes each idle connection
it holds (a socket poll) whenever a request starts or ends, so one pool serving ~100
concurrent calls spends ~0.4 ms of CPU per request on that alone (8% of the server's CPU at
saturation in ``benchmarks/ai_path.py``); eight pools of ~12 connections cost an eighth of
that. A quiet key keeps using its first client, and so one connection.

Lifetime (nothing is left open):

- Each loop keeps the clients of at most ``maxsize`` keys, the least recently leased key's
  out first. An evicted client is closed as soon as no call holds it (at once when idle,
  else when its last lease ends), so a call in flight is never cut off.
- When the loop shuts down, its clients are closed: the cache registers an async generator
  with the loop, and ``loop.shutdown_asyncgens()`` - which ``asyncio.run``, ``asyncio.Runner``
  (pytest-asyncio), uvicorn and the CLI all call before closing their loop - finalizes it,
  closing every client that is not in use (one in use is closed when its lease ends). A
  loop closed without ``shutdown_asyncgens()`` leaves its clients to the garbage collector
  (the sockets then warn about being unclosed); asyncio has no other hook on loop close.

Clients handed out here must not keep state between calls beyond their connections: use
:func:`no_cookies` so a cookie one answer sets is never sent on a later call (it may be
another tenant's). :func:`aiohttp_session` builds the ``aiohttp`` sessions the hot paths use
(API channel callbacks directly, the OpenAI-compatible providers under the SDK): a request
costs about 0.2 ms of CPU there against 0.8 ms through ``httpx``, whose HTTP/1.1 parser (h11)
is pure Python.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import ssl
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

import aiohttp

log = logging.getLogger(__name__)

T = TypeVar("T")

# keys kept per event loop (per cache): more distinct keys than this in use by one process
# (e.g. tenants with their own LLM keys) means some clients are rebuilt - as they all were
# before the cache
DEFAULT_MAXSIZE = 64
# clients per key at most (see the module docstring)
DEFAULT_SHARDS = 8


def no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that stores nothing (for ``httpx``'s ``cookies=``): a shared client must
    not carry one tenant's cookies into another tenant's call."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


# seconds an idle keep-alive connection is kept: below the 5 s after which common servers
# (uvicorn, nginx's default is 75 s) close theirs, so a request is not sent on a connection
# the server is closing at that moment
KEEPALIVE_SECONDS = 4.0


def aiohttp_session(ssl_context: ssl.SSLContext, limit: int = 100) -> aiohttp.ClientSession:
    """An ``aiohttp`` session for outbound calls (its C HTTP parser costs a fifth of the CPU
    of ``httpx``'s pure-Python one per request): no cookies kept (see :func:`no_cookies`),
    at most ``limit`` connections (0: no limit), idle ones kept :data:`KEEPALIVE_SECONDS`.
    Build it inside the event loop that will use it."""
    connector = aiohttp.TCPConnector(
        ssl=ssl_context, limit=limit, keepalive_timeout=KEEPALIVE_SECONDS
    )
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


@dataclass(eq=False)
class _Entry(Generic[T]):
    client: T
    users: int = 0
    # out of the cache: closed when the last user is done
    retired: bool = False


class _LoopClients(Generic[T]):
    """One loop's clients, touched only from that loop's thread: up to ``shards`` per key,
    for at most ``maxsize`` keys, least recently leased first out."""

    def __init__(self, close: Callable[[T], Awaitable[object]], maxsize: int, shards: int) -> None:
        self._close = close
        self._maxsize = maxsize
        self._shards = shards
        self.entries: OrderedDict[Hashable, list[_Entry[T]]] = OrderedDict()
        self.shut = False
        # strong reference: the loop itself holds its async generators only weakly
        self.watcher: AsyncGenerator[None, None] | None = None

    def checkout(self, key: Hashable, build: Callable[[], T]) -> tuple[_Entry[T], list[_Entry[T]]]:
        """The least busy entry of ``key`` (a new one if it has none, or all are busy and
        there is room for one more), leased; and the idle entries evicted to make room, for
        the caller to close. Synchronous, so two calls cannot both build the same one."""
        if self.shut:  # the loop is shutting down: a one-off client, closed after the call
            return _Entry(build(), users=1, retired=True), []
        shards = self.entries.get(key, [])
        entry = min(shards, key=lambda e: e.users, default=None)
        if entry is None or (entry.users and len(shards) < self._shards):
            entry = _Entry(build())  # before any change: a failing build leaves no trace
            shards.append(entry)
            self.entries[key] = shards
        self.entries.move_to_end(key)
        entry.users += 1
        evicted: list[_Entry[T]] = []
        while len(self.entries) > self._maxsize:
            _, old_shards = self.entries.popitem(last=False)
            for old in old_shards:
                old.retired = True
                if old.users == 0:
                    evicted.append(old)
        return entry, evicted

    def size(self) -> int:
        return sum(len(shards) for shards in self.entries.values())

    async def release(self, entry: _Entry[T]) -> None:
        entry.users -= 1
        if entry.retired and entry.users == 0:
            await self.close(entry)

    async def close(self, entry: _Entry[T]) -> None:
        try:
            await self._close(entry.client)
        except Exception:  # a client that fails to close must not fail the call that used it
            log.warning("closing a shared HTTP client failed", exc_info=True)

    async def shutdown(self) -> None:
        """Close every idle client; one still leased is closed when its lease ends."""
        self.shut = True
        idle = []
        for shards in self.entries.values():
            for entry in shards:
                entry.retired = True
                if entry.users == 0:
                    idle.append(entry)
        self.entries.clear()
        await asyncio.gather(*(self.close(entry) for entry in idle))


async def _watch(clients: _LoopClients[T]) -> AsyncGenerator[None, None]:
    """Suspended for the loop's life; ``loop.shutdown_asyncgens()`` resumes it at the end."""
    try:
        yield
    finally:
        await clients.shutdown()


class _Lease(Generic[T]):
    """One call's hold on a client (a plain class, not ``asynccontextmanager``: that would
    be an async generator, which a loop refuses once it shuts them down)."""

    __slots__ = ("_build", "_cache", "_clients", "_entry", "_evicted", "_key")

    def __init__(self, cache: ClientCache[T], key: Hashable, build: Callable[[], T]) -> None:
        self._cache = cache
        self._key = key
        self._build = build

    async def __aenter__(self) -> T:
        self._clients = await self._cache._clients()
        self._entry, self._evicted = self._clients.checkout(self._key, self._build)
        return self._entry.client

    async def __aexit__(self, *_exc: object) -> None:
        # after the call, not before it: closing others is no part of its latency
        await self._clients.release(self._entry)
        for old in self._evicted:
            await self._clients.close(old)


class ClientCache(Generic[T]):
    """Clients of one kind by key, per event loop (see the module docstring for their
    lifetime). ``close`` closes one client (``httpx.AsyncClient.aclose``,
    ``openai.AsyncOpenAI.close``).

    The key must capture everything ``build`` bakes into the client (base URL, credentials
    as a hash, headers, TLS settings); per-call things (timeouts, bodies) go with each
    request instead. Each key has up to ``shards`` clients; at most ``maxsize`` keys'
    clients are kept per loop.
    """

    def __init__(
        self,
        close: Callable[[T], Awaitable[object]],
        maxsize: int = DEFAULT_MAXSIZE,
        shards: int = DEFAULT_SHARDS,
    ) -> None:
        if maxsize < 1 or shards < 1:
            raise ValueError("maxsize and shards must be at least 1")
        self._close = close
        self._maxsize = maxsize
        self._shards = shards
        self._guard = threading.Lock()  # loops of other threads share the mapping
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients[T]] = (
            weakref.WeakKeyDictionary()
        )

    async def _clients(self) -> _LoopClients[T]:
        loop = asyncio.get_running_loop()
        with self._guard:
            clients = self._loops.get(loop)
            if clients is None:
                clients = self._loops[loop] = _LoopClients(self._close, self._maxsize, self._shards)
        if clients.watcher is None:
            watcher = clients.watcher = _watch(clients)
            await anext(watcher)  # first iteration: the loop now knows the generator
        return clients

    def lease(self, key: Hashable, build: Callable[[], T]) -> AbstractAsyncContextManager[T]:
        """The running loop's client for ``key`` (built by ``build`` on first use), held
        for the ``async with`` block. Do not keep it beyond the block."""
        return _Lease(self, key, build)

    @property
    def shards(self) -> int:
        return self._shards

    def size(self) -> int:
        """Clients cached for the running loop (for tests and diagnostics)."""
        with self._guard:
            clients = self._loops.get(asyncio.get_running_loop())
        return clients.size() if clients is not None else 0
