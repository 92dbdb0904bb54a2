"""The per-event-loop client cache: one client per key and loop, reused across calls, closed
on eviction once idle and when its loop shuts down; never handed to another loop."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from frontline.kit.httpclients import ClientCache, no_cookies
from tests.kit.keepalive import Answer, keepalive_server

_numbers = itertools.count(1)


class FakeClient:
    def __init__(self, key: str) -> None:
        self.key = key
        self.number = next(_numbers)
        self.closed = False

    async def close(self) -> None:
        assert not self.closed, "closed twice"
        self.closed = True


def cache(maxsize: int = 64) -> ClientCache[FakeClient]:
    return ClientCache(FakeClient.close, maxsize=maxsize, shards=1)


async def test_one_client_per_key_within_a_loop() -> None:
    clients = cache()
    async with clients.lease("a", lambda: FakeClient("a")) as first:
        pass
    async with (
        clients.lease("a", lambda: FakeClient("a")) as again,
        clients.lease("a", lambda: FakeClient("a")) as concurrent,
    ):
        pass
    async with clients.lease("b", lambda: FakeClient("b")) as other:
        pass
    assert first is again is concurrent
    assert other is not first
    assert not first.closed and not other.closed
    assert clients.size() == 2


def test_a_closed_loops_client_is_closed_and_not_reused() -> None:
    clients = cache()

    async def lease() -> FakeClient:
        async with clients.lease("a", lambda: FakeClient("a")) as client:
            return client

    first = asyncio.run(lease())
    assert first.closed  # closed by the loop's shutdown_asyncgens(), inside asyncio.run
    second = asyncio.run(lease())
    assert second is not first
    assert second.closed


async def test_each_running_loop_has_its_own_clients() -> None:
    clients = cache()

    async def lease() -> FakeClient:
        async with clients.lease("a", lambda: FakeClient("a")) as client:
            return client

    here = await lease()
    elsewhere = await asyncio.to_thread(asyncio.run, lease())  # another loop, another thread
    assert elsewhere is not here
    assert elsewhere.closed and not here.closed
    assert await lease() is here


async def test_eviction_closes_the_least_recently_used_idle_client() -> None:
    clients = cache(maxsize=2)
    async with clients.lease("a", lambda: FakeClient("a")) as a:
        pass
    async with clients.lease("b", lambda: FakeClient("b")) as b:
        pass
    async with clients.lease("a", lambda: FakeClient("a")):
        pass  # "a" is now the most recently used
    async with clients.lease("c", lambda: FakeClient("c")) as c:
        pass
    assert b.closed and not a.closed and not c.closed
    assert clients.size() == 2
    async with clients.lease("b", lambda: FakeClient("b")) as b_again:
        pass
    assert b_again is not b


async def test_a_client_in_use_is_closed_only_when_its_call_ends() -> None:
    clients = cache(maxsize=1)
    async with clients.lease("a", lambda: FakeClient("a")) as a:
        async with clients.lease("b", lambda: FakeClient("b")) as b:
            assert not a.closed  # evicted, but still in use
        assert not b.closed
        assert not a.closed
    assert a.closed
    async with clients.lease("b", lambda: FakeClient("b")) as b_again:
        assert b_again is b


def test_shutdown_waits_for_calls_in_flight() -> None:
    clients = cache()
    seen: dict[str, FakeClient] = {}

    async def main() -> None:
        async with clients.lease("idle", lambda: FakeClient("idle")) as idle:
            pass
        async with clients.lease("busy", lambda: FakeClient("busy")) as busy:
            await asyncio.get_running_loop().shutdown_asyncgens()
            assert idle.closed
            assert not busy.closed
            # a call that starts while the loop shuts down gets a client of its own
            async with clients.lease("busy", lambda: FakeClient("busy")) as late:
                assert late is not busy
            assert late.closed
        assert busy.closed
        seen.update(idle=idle, busy=busy, late=late)

    asyncio.run(main())
    assert all(client.closed for client in seen.values())


async def test_a_client_that_fails_to_close_does_not_fail_the_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fail(_client: FakeClient) -> None:
        raise RuntimeError("boom")

    clients: ClientCache[FakeClient] = ClientCache(fail, maxsize=1, shards=1)
    async with clients.lease("a", lambda: FakeClient("a")):
        pass
    async with clients.lease("b", lambda: FakeClient("b")) as b:
        pass
    assert b.key == "b"
    assert "closing a shared HTTP client failed" in caplog.text


async def test_a_key_gets_another_client_only_when_all_are_busy() -> None:
    clients = ClientCache(FakeClient.close, maxsize=1, shards=2)
    async with clients.lease("a", lambda: FakeClient("a")) as first:
        pass
    async with clients.lease("a", lambda: FakeClient("a")) as again:
        pass
    assert again is first  # a quiet key keeps its one client
    async with (
        clients.lease("a", lambda: FakeClient("a")) as one,
        clients.lease("a", lambda: FakeClient("a")) as two,
        clients.lease("a", lambda: FakeClient("a")) as three,
    ):
        assert one is first
        assert two is not one  # the first is busy: a second
        assert three is one  # no room for a third: the least busy (the first of equals)
    assert clients.size() == 2
    async with clients.lease("a", lambda: FakeClient("a")) as idle:
        assert idle is one
    # maxsize counts keys: a second key evicts both of the first key's clients
    async with clients.lease("b", lambda: FakeClient("b")):
        pass
    assert one.closed and two.closed
    assert clients.size() == 1


async def test_a_failing_build_leaves_nothing_behind() -> None:
    clients = cache()

    def broken() -> FakeClient:
        raise RuntimeError("bad config")

    with pytest.raises(RuntimeError):
        async with clients.lease("a", broken):
            pass
    assert clients.size() == 0
    async with clients.lease("a", lambda: FakeClient("a")) as client:
        assert not client.closed
    assert clients.size() == 1


def test_maxsize_and_shards_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ClientCache(FakeClient.close, maxsize=0)
    with pytest.raises(ValueError):
        ClientCache(FakeClient.close, shards=0)


async def test_no_cookies_keeps_no_cookie() -> None:
    async with (
        keepalive_server(
            lambda _request: Answer(headers={"Set-Cookie": "session=tenant-a; Path=/"})
        ) as server,
        httpx.AsyncClient(cookies=no_cookies()) as client,
    ):
        for _ in range(2):
            response = await client.get(f"{server.base}/x")
            assert response.status_code == 200
    assert [r.headers.get("cookie") for r in server.requests] == [None, None]
    assert server.connections == 1
