"""Bad input gets a clear 4xx and writes nothing; operations endpoints; request ids."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from frontline.app import create_app
from frontline.kit.crypto import sign
from frontline.models import Category, Contact, Conversation, Job, Message
from frontline.settings import Settings
from tests.conftest import TEST_SECRET, Factory, TenantFixture

API = "/api/v1"
JSON = {"Content-Type": "application/json"}
OVER_LIMIT = int(1.1 * 1024 * 1024)


async def row_counts(factory: Factory) -> tuple[int, ...]:
    async with factory.services.db.transaction() as s:
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (Message, Conversation, Contact, Job, Category)
            ]
        )


def fields(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    found: list[dict[str, Any]] = error["fields"]
    assert found
    return found


def locs(response: httpx.Response) -> list[str]:
    return [".".join(str(p) for p in f["loc"]) for f in fields(response)]


def inbound_url(t: TenantFixture) -> str:
    return f"{API}/channels/{t.api_channel_id}/messages"


def email_url(t: TenantFixture) -> str:
    return f"{API}/webhooks/email/{t.email_channel_id}"


def a_message(**over: Any) -> dict[str, Any]:
    return {
        "external_id": uuid.uuid4().hex,
        "contact": {"external_id": "c-1"},
        "text": "Hi",
        **over,
    }


# --- validation ------------------------------------------------------------------------


async def test_inbound_malformed_json_and_wrong_fields_are_422(factory: Factory) -> None:
    t = await factory.tenant()
    counts = await row_counts(factory)
    c = factory.client
    r = await c.post(
        inbound_url(t), content=b'{"external_id": "x", "text": ', headers={**t.api_channel, **JSON}
    )
    assert fields(r)[0]["type"] == "json_invalid"
    r = await c.post(
        inbound_url(t), content=b"\xff\xfe not utf-8", headers={**t.api_channel, **JSON}
    )
    assert fields(r)
    r = await c.post(inbound_url(t), json=[1, 2, 3], headers=t.api_channel)
    assert fields(r)

    r = await c.post(
        inbound_url(t),
        json={"external_id": "", "contact": {"name": "no id"}, "txt": "typo", "text": ""},
        headers=t.api_channel,
    )
    found = locs(r)
    assert "external_id" in found
    assert "contact.external_id" in found
    assert "text" in found
    assert "txt" in found  # unknown fields are refused, not ignored

    r = await c.post(inbound_url(t), json=a_message(text="x" * 20_001), headers=t.api_channel)
    assert "text" in locs(r)
    assert await row_counts(factory) == counts


async def test_email_webhook_invalid_body_is_422(factory: Factory) -> None:
    t = await factory.tenant()
    counts = await row_counts(factory)
    raw = json.dumps({"from": "not an address", "text": "hi"}).encode()
    r = await factory.client.post(
        email_url(t),
        content=raw,
        headers={"X-Frontline-Signature": sign(t.email_channel_secret, raw), **JSON},
    )
    assert any(loc.startswith("from") for loc in locs(r))
    assert await row_counts(factory) == counts


async def test_category_malformed_json_and_wrong_fields_are_422(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    r = await c.post(f"{API}/categories", content=b'{"name": ', headers={**t.owner, **JSON})
    assert fields(r)[0]["type"] == "json_invalid"
    r = await c.post(f"{API}/categories", json={"name": "", "colour": "red"}, headers=t.owner)
    found = locs(r)
    assert "body.name" in found and "body.colour" in found
    r = await c.post(f"{API}/categories", json={"name": "x" * 101}, headers=t.owner)
    assert "body.name" in locs(r)
    r = await c.post(f"{API}/categories", json={}, headers=t.owner)
    assert "body.name" in locs(r)
    r = await c.post(f"{API}/categories", json="just a string", headers=t.owner)
    assert fields(r)
    assert (await c.get(f"{API}/categories", headers=t.owner)).json() == []


async def test_conversation_patch_with_a_nonsense_status_is_422(factory: Factory) -> None:
    t = await factory.tenant()
    conversation_id = (await factory.inbound(t))["conversation_id"]
    url = f"{API}/conversations/{conversation_id}"
    before = (await factory.client.get(url, headers=t.operator)).json()
    r = await factory.client.patch(url, json={"status": "nonsense"}, headers=t.operator)
    assert "body.status" in locs(r)
    r = await factory.client.patch(
        url, json={"priority": "whenever", "assignee": "me"}, headers=t.operator
    )
    assert {"body.priority", "body.assignee"} <= set(locs(r))
    r = await factory.client.patch(url, json={"category_id": "not-a-uuid"}, headers=t.operator)
    assert "body.category_id" in locs(r)
    r = await factory.client.patch(f"{API}/conversations/not-a-number", json={}, headers=t.operator)
    assert "path.conversation_id" in locs(r)
    assert (await factory.client.get(url, headers=t.operator)).json() == before


async def test_bad_query_parameters_are_422(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    for params in (
        {"status": "nonsense"},
        {"priority": "whenever"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"channel_id": "nope"},
        {"q": "x" * 201},
    ):
        r = await c.get(f"{API}/conversations", params=params, headers=t.operator)
        assert fields(r), params
    r = await c.get(f"{API}/conversations", params={"assignee": "someone"}, headers=t.operator)
    assert r.status_code == 422 and "assignee" in r.json()["error"]["message"]


async def test_invalid_cursor_is_422(factory: Factory) -> None:
    t = await factory.tenant()

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for cursor in (
        "garbage!!",
        "bm90IGpzb24",  # "not json"
        b64(b"[1, 2]"),
        b64(b'{"t": "2024-01-01T00:00:00+00:00"}'),
        b64(b'{"t": "yesterday", "id": 1}'),
        b64(b'{"t": "2024-01-01T00:00:00+00:00", "id": "one"}'),
        b64(b'{"t": null, "id": null}'),
        "x" * 501,
    ):
        r = await factory.client.get(
            f"{API}/conversations", params={"cursor": cursor}, headers=t.operator
        )
        assert r.status_code == 422, (cursor, r.text)
        assert r.json()["error"]["message"]


# --- body size -------------------------------------------------------------------------


async def streamed(size: int) -> AsyncIterator[bytes]:
    """A request body with no Content-Length (sent chunked)."""
    step = 64 * 1024
    sent = 0
    while sent < size:
        chunk = min(step, size - sent)
        yield b" " * chunk
        sent += chunk


def big_json(size: int) -> bytes:
    body = json.dumps(a_message()).encode()
    return body[:-1] + b', "pad": "' + b"x" * (size - len(body)) + b'"}'


async def test_body_over_the_limit_is_413_declared_or_streamed(factory: Factory) -> None:
    t = await factory.tenant()
    assert factory.services.settings.max_body_bytes == 1024 * 1024
    counts = await row_counts(factory)
    c = factory.client
    # inbound JSON may carry base64 files: those endpoints have their own (larger) limit
    inbound_over = factory.services.settings.attachments_max_body_bytes + 100 * 1024
    for url, headers, over in (
        (inbound_url(t), t.api_channel, inbound_over),
        (f"{API}/categories", t.owner, OVER_LIMIT),
        (email_url(t), {}, inbound_over),
    ):
        r = await c.post(url, content=big_json(over), headers={**headers, **JSON})
        assert r.status_code == 413, (url, r.text)
        assert r.json()["error"]["code"] == "payload_too_large"

        r = await c.post(url, content=streamed(over), headers={**headers, **JSON})
        assert "content-length" not in r.request.headers
        assert r.request.headers["transfer-encoding"] == "chunked"
        assert r.status_code == 413, (url, r.text)
        assert r.json()["error"]["code"] == "payload_too_large"
        assert r.headers["x-request-id"]
    assert await row_counts(factory) == counts

    # just under the limit is fine (and here merely invalid: an unknown field)
    r = await c.post(
        inbound_url(t), content=big_json(1024 * 1024 - 100), headers={**t.api_channel, **JSON}
    )
    assert "pad" in locs(r)


# --- channels: unknown, unauthenticated ------------------------------------------------


async def test_unknown_channel_is_404(factory: Factory) -> None:
    t = await factory.tenant()
    counts = await row_counts(factory)
    unknown = uuid.uuid4()
    r = await factory.client.post(
        f"{API}/channels/{unknown}/messages", json=a_message(), headers=t.api_channel
    )
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"
    raw = json.dumps({"from": "a@example.com", "text": "hi"}).encode()
    r = await factory.client.post(
        f"{API}/webhooks/email/{unknown}",
        content=raw,
        headers={"X-Frontline-Signature": sign(t.email_channel_secret, raw), **JSON},
    )
    assert r.status_code == 404, r.text
    # a channel of the other type is unknown to this endpoint
    r = await factory.client.post(
        f"{API}/channels/{t.email_channel_id}/messages", json=a_message(), headers=t.api_channel
    )
    assert r.status_code == 404, r.text
    r = await factory.client.post(
        f"{API}/channels/not-a-uuid/messages", json=a_message(), headers=t.api_channel
    )
    assert r.status_code == 422, r.text
    assert await row_counts(factory) == counts


async def test_wrong_or_missing_channel_secret_is_401_and_writes_nothing(factory: Factory) -> None:
    t = await factory.tenant()
    await factory.inbound(t)
    counts = await row_counts(factory)
    c = factory.client
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer flc_wrong-secret"},
        {"Authorization": f"Basic {t.api_channel_secret}"},
        {"Authorization": f"Bearer {t.api_channel_secret}x"},
        {"Authorization": f"Bearer {t.email_channel_secret}"},
        t.owner,
    ):
        r = await c.post(inbound_url(t), json=a_message(), headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
        assert t.api_channel_secret not in r.text
    # authentication comes before validation: a bad body without the secret is still 401
    r = await c.post(inbound_url(t), content=b"{", headers=JSON)
    assert r.status_code == 401, r.text

    raw = json.dumps(
        {"from": "a@example.com", "text": "hi", "message_id": "<m1@example.com>"}
    ).encode()
    stale = int(time.time()) - 3600
    for headers in (
        {},
        {"X-Frontline-Signature": "garbage"},
        {"X-Frontline-Signature": sign("wrong secret", raw)},
        {"X-Frontline-Signature": sign(t.email_channel_secret, raw + b" ")},
        {"X-Frontline-Signature": sign(t.email_channel_secret, raw, timestamp=stale)},
    ):
        r = await c.post(email_url(t), content=raw, headers={**headers, **JSON})
        assert r.status_code == 401, (headers, r.text)
    assert await row_counts(factory) == counts


# --- errors never leak -----------------------------------------------------------------


def broken_settings(url: str) -> Settings:
    return Settings(
        env="test",
        database_url=url,
        secret_key=TEST_SECRET,
        run_worker_in_process=False,
        log_json=False,
    )


UNREACHABLE = [
    "sqlite+aiosqlite:////nonexistent-frontline-dir/sub/frontline.db",
    "postgresql+asyncpg://postgres@127.0.0.1:1/frontline",
]


@pytest.fixture(params=UNREACHABLE, ids=["sqlite-missing-dir", "postgres-closed-port"])
async def broken_client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(broken_settings(str(request.param)), run_worker=False)
    # the app re-raises unexpected errors to the server after answering 500; see the answer
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.services.broker.close()
    await app.state.services.db.dispose()
    await _sqlite_threads_stopped()


async def _sqlite_threads_stopped() -> None:
    """Wait, with the loop still running, for aiosqlite's worker threads to end.

    A failed connect makes aiosqlite queue its own stop with a future nobody awaits; if the
    test's loop closed before the thread reached it, the thread's call_soon_threadsafe would
    raise 'Event loop is closed' and pytest would blame whichever test ran next.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, 10)


async def test_ready_is_503_when_the_database_is_unreachable(
    broken_client: httpx.AsyncClient,
) -> None:
    r = await broken_client.get("/health")
    assert r.status_code == 200
    r = await broken_client.get("/ready")
    assert r.status_code == 503, r.text
    assert r.json()["status"] == "unavailable"
    r = await broken_client.get("/metrics")  # still answers, without job counts
    assert r.status_code == 200


async def test_an_unreachable_database_is_a_503_with_retry_after_in_the_callers_language(
    broken_client: httpx.AsyncClient,
) -> None:
    for language, expected in (("en-GB,en;q=0.8", "temporarily unavailable"), ("ru", "недоступен")):
        r = await broken_client.post(
            f"{API}/auth/login",
            json={"email": "a@example.com", "password": "secret"},
            headers={"X-Request-ID": "trace-me-503", "Accept-Language": language},
        )
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "2"
        error = r.json()["error"]
        assert error["code"] == "database_unavailable"
        assert expected in error["message"]
        for leak in (
            "Traceback",
            'File "',
            "sqlite",
            "asyncpg",
            "Error",
            "nonexistent",
            "127.0.0.1",
        ):
            assert leak not in r.text
        # the request id is there to find the logged cause
        assert r.headers["x-request-id"] == "trace-me-503"
    # no Accept-Language: Russian, the product's default
    r = await broken_client.post(
        f"{API}/channels/{uuid.uuid4()}/messages", json=a_message(), headers=JSON
    )
    assert r.status_code == 503 and r.headers["content-language"] == "ru"


async def test_a_500_never_leaks_a_stack_trace(app: Any) -> None:
    @app.get("/api/v1/test-boom")  # type: ignore[misc]
    async def boom() -> None:
        raise RuntimeError("secret detail from /nonexistent-frontline-dir at 127.0.0.1")

    # the app re-raises unexpected errors to the server after answering 500; see the answer
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/api/v1/test-boom", headers={"X-Request-ID": "trace-me-500"})
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "internal", "message": "internal server error"}}
    for leak in ("Traceback", 'File "', "secret detail", "Error", "nonexistent", "127.0.0.1"):
        assert leak not in r.text
    # the request id is there to find the logged trace
    assert r.headers["x-request-id"] == "trace-me-500"


# --- operations ------------------------------------------------------------------------


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await client.get("/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"


async def test_metrics(factory: Factory) -> None:
    # a channel that pushes replies, so the operator's reply leaves a queued delivery job
    t = await factory.tenant(callback_url="http://127.0.0.1:9/hook")
    conversation_id = (await factory.inbound(t))["conversation_id"]
    r = await factory.client.post(
        f"{API}/conversations/{conversation_id}/messages",
        json={"text": "On it"},
        headers=t.operator,
    )
    assert r.status_code == 201
    await factory.client.get(f"{API}/conversations", headers=t.operator)
    r = await factory.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "frontline_http_requests_total" in text
    assert 'route="/api/v1/conversations"' in text  # by route template, not raw path
    assert 'route="/api/v1/conversations/{conversation_id}/messages"' in text
    assert f"/api/v1/conversations/{conversation_id}" not in text
    assert "frontline_jobs" in text
    assert 'frontline_jobs{status="queued"} 1.0' in text
    assert 'frontline_jobs{status="dead"} 0.0' in text
    assert "frontline_inbound_messages_total" in text


async def test_docs_and_openapi(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    api_inbound = paths[f"{API}/channels/{{channel_id}}/messages"]["post"]
    assert "inbound" in api_inbound["tags"]
    schema = api_inbound["requestBody"]["content"]["application/json"]["schema"]
    assert {"external_id", "contact", "text"} <= set(schema["properties"])
    assert "inbound" in paths[f"{API}/webhooks/email/{{channel_id}}"]["post"]["tags"]
    assert "post" in paths[f"{API}/auth/login"]
    assert "get" in paths[f"{API}/conversations"]


async def test_every_response_has_a_request_id_and_an_incoming_one_is_echoed(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    c = factory.client
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/health", {}),
        ("GET", "/ready", {}),
        ("GET", "/metrics", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/no/such/page", {}),
        ("DELETE", "/health", {}),
        ("GET", f"{API}/me", {}),
        ("GET", f"{API}/me", {"headers": t.operator}),
        ("GET", f"{API}/jobs", {"headers": t.operator}),
        ("GET", f"{API}/conversations/999999", {"headers": t.operator}),
        ("POST", f"{API}/categories", {"headers": t.owner, "json": {}}),
        ("POST", inbound_url(t), {"headers": t.api_channel, "json": a_message()}),
        (
            "POST",
            f"{API}/categories",
            {"headers": {**t.owner, **JSON}, "content": b"x" * OVER_LIMIT},
        ),
    ]
    generated = set()
    statuses = set()
    for method, url, kwargs in requests:
        r = await c.request(method, url, **kwargs)
        statuses.add(r.status_code)
        rid = r.headers.get("x-request-id")
        assert rid and len(rid) >= 16, (method, url, r.status_code)
        generated.add(rid)
        echo = await c.request(
            method,
            url,
            **{
                **kwargs,
                "headers": {**kwargs.get("headers", {}), "X-Request-ID": f"req-{method}-{url}"},
            },
        )
        assert echo.headers["x-request-id"] == f"req-{method}-{url}"
    assert len(generated) == len(requests)  # a fresh id per request
    assert {200, 202, 401, 403, 404, 405, 413, 422} <= statuses
    # an unusable incoming id is replaced, not echoed
    r = await c.get("/health", headers={"X-Request-ID": "x" * 101})
    assert r.headers["x-request-id"] != "x" * 101 and len(r.headers["x-request-id"]) == 32
