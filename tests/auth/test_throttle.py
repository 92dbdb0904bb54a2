"""Sign-in throttling: exponential back-off per account and per address, shared through
Redis across API processes, lifted by an admin."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from frontline.app import create_app
from frontline.auth.throttle import LoginThrottle, ThrottlePolicy
from frontline.deps import Services
from frontline.kit.counters import MemoryCounters, RedisCounters
from frontline.settings import Settings
from tests.conftest import Factory

REDIS_URL = os.environ.get("FRONTLINE_TEST_REDIS_URL")
LOGIN = "/api/v1/auth/login"
# The default policy's first back-off is 1 s: a test that expects a lock to still hold a few
# requests later fails whenever those requests take longer than that (a loaded CI machine
# takes several seconds). Such tests use a first back-off far longer than any test runs.
HELD = ThrottlePolicy(base_seconds=120.0)


@pytest.fixture
def held_back_off(services: Services) -> None:
    """The app's back-off outlasts the test: a lock taken stays until it is lifted."""
    services.login_throttle.policy = HELD


async def _attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


@pytest.mark.usefixtures("held_back_off")
async def test_wrong_passwords_back_off_then_refuse_even_the_right_one(factory: Factory) -> None:
    t = await factory.tenant()
    statuses = [
        (await _attempt(factory.client, t.owner_email, "guess")).status_code for _ in range(8)
    ]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    r = await _attempt(factory.client, t.owner_email, t.owner_password)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "too_many_requests"
    assert "try again" in r.json()["error"]["message"]


async def test_success_clears_the_account_count(factory: Factory) -> None:
    t = await factory.tenant()
    for _ in range(4):
        assert (await _attempt(factory.client, t.owner_email, "guess")).status_code == 401
    await factory.login(t.owner_email, t.owner_password)
    for _ in range(4):  # a fresh allowance: no back-off yet
        assert (await _attempt(factory.client, t.owner_email, "guess")).status_code == 401


@pytest.mark.usefixtures("held_back_off")
async def test_one_address_guessing_many_accounts_is_slowed(factory: Factory) -> None:
    t = await factory.tenant()
    for i in range(20):
        r = await _attempt(factory.client, f"nobody-{i}@example.com", "guess")
        assert r.status_code == 401
    r = await _attempt(factory.client, t.owner_email, t.owner_password)
    assert r.status_code == 429  # the address is backing off, whatever account it tries


@pytest.mark.usefixtures("held_back_off")
async def test_admin_unlocks_a_member_and_operators_cannot(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    email = t.owner_email
    for _ in range(6):
        await _attempt(factory.client, email, "guess")
    assert (await _attempt(factory.client, email, t.owner_password)).status_code == 429
    unlock = "/api/v1/auth/unlock"
    r = await factory.client.post(unlock, json={"email": email}, headers=t.operator)
    assert r.status_code == 403
    r = await factory.client.post(unlock, json={"email": email}, headers=other.owner)
    assert r.status_code == 404  # not a member of the other workspace: not theirs to unlock
    r = await factory.client.post(unlock, json={"email": email}, headers=t.owner)
    assert r.status_code == 204, r.text
    # the address still has most of its allowance; the account's lock is gone
    assert (await _attempt(factory.client, email, t.owner_password)).status_code == 200


async def test_back_off_doubles_and_is_capped() -> None:
    throttle = LoginThrottle(
        MemoryCounters(),
        ThrottlePolicy(account_allowance=3, address_allowance=1000, base_seconds=2, max_seconds=30),
    )
    delays = [await throttle.failed("a@example.com", "10.0.0.1") for _ in range(9)]
    assert delays == [0, 0, 2, 4, 8, 16, 30, 30, 30]


@pytest.mark.skipif(not REDIS_URL, reason="FRONTLINE_TEST_REDIS_URL not set")
async def test_two_api_processes_share_the_back_off(settings: Settings, factory: Factory) -> None:
    """A guesser spreading attempts over two API processes meets one count (Redis)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    stale = [key async for key in redis.scan_iter("frontline:counter:*login:*")]
    if stale:  # earlier runs' counts for the test client's address
        await redis.delete(*stale)
    await redis.aclose()
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    apps = [create_app(shared, run_worker=False) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://testserver")
        for a in apps
    ]
    for a in apps:
        a.state.services.login_throttle.policy = HELD
    try:
        services: Services = apps[0].state.services
        assert isinstance(services.login_throttle.store, RedisCounters)
        t = await factory.tenant()
        statuses = []
        for i in range(7):
            r = await _attempt(clients[i % 2], t.owner_email, f"guess-{uuid.uuid4().hex[:4]}")
            statuses.append(r.status_code)
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    finally:
        for c, a in zip(clients, apps, strict=True):
            await c.aclose()
            await a.state.services.aclose()


async def _audit(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, object]]:
    r = await client.get("/api/v1/audit-log", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


async def test_lockouts_and_unlocks_are_in_the_account_s_workspace_audit_log(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    for _ in range(6):  # 5 free tries, then a 1 s and a 2 s... back-off
        await _attempt(factory.client, t.operator_email, "guess")
    entries = [
        e for e in await _audit(factory.client, t.owner) if e["action"] == "auth.login_locked"
    ]
    assert entries, "a lockout must be audited"
    entry = entries[0]
    assert entry["actor"] == "system:login-throttle"
    assert entry["target"] == f"user:{t.operator_id}"
    data = entry["data"]
    assert isinstance(data, dict)
    assert data["email"] == t.operator_email and float(data["seconds"]) >= 1
    assert data["address"]
    # another workspace's log shows nothing of it
    assert not [
        e for e in await _audit(factory.client, other.owner) if str(e["action"]).startswith("auth.")
    ]
    r = await factory.client.post(
        "/api/v1/auth/unlock", json={"email": t.operator_email}, headers=t.owner
    )
    assert r.status_code == 204
    unlocked = [e for e in await _audit(factory.client, t.owner) if e["action"] == "auth.unlocked"]
    assert len(unlocked) == 1 and unlocked[0]["target"] == f"user:{t.operator_id}"


async def test_an_unknown_account_s_lockout_writes_no_workspace_log(factory: Factory) -> None:
    t = await factory.tenant()
    for _ in range(7):
        await _attempt(factory.client, "nobody@example.com", "guess")
    assert not [
        e for e in await _audit(factory.client, t.owner) if e["action"] == "auth.login_locked"
    ]


@pytest.mark.usefixtures("held_back_off")
async def test_the_console_sign_in_backs_off_too(factory: Factory) -> None:
    """The console's login form shares the API's counters: a guesser cannot switch to it."""
    t = await factory.tenant()
    for _ in range(6):
        await _attempt(factory.client, t.owner_email, "guess")
    page = await factory.client.get("/console/login")
    assert page.status_code == 200
    csrf = next(iter(page.cookies.values()))
    r = await factory.client.post(
        "/console/login",
        data={"email": t.owner_email, "password": t.owner_password, "csrf_token": csrf},
    )
    assert r.status_code == 429, r.text[:300]
    assert int(r.headers["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts" in r.text or "Слишком много" in r.text
