"""Numeric ids in URLs: every route with an integer path parameter, enumerated from the app
itself, is called with ids a 64-bit database id cannot hold (beyond 2**63-1, zero,
negative) and with non-numbers: the answer is a 4xx naming the parameter (422) or a refusal
of the caller (401/403), never a 500; the largest valid id answers 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from frontline.kit.params import BIGINT_MAX
from tests.conftest import Factory
from tests.tenants.isolation_kit import api_routes

OUT_OF_RANGE = [
    str(BIGINT_MAX + 1),
    "99999999999999999999999999999999",
    "0",
    "-1",
    "-9223372036854775809",
]
NOT_NUMBERS = ["abc", "1.5", "1e3", "%20"]

# routes authenticated by something other than a staff token (customer token, signed link)
NOT_STAFF_PREFIXES = ("/api/v1/customer/", "/api/v1/widget/")


def int_path_routes(app: Any) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, integer path parameters, other path parameters) of every API route."""
    found = []
    for path, route in api_routes(app):
        params = route.dependant.path_params
        ints = [p.name for p in params if p.field_info.annotation is int]
        if not ints:
            continue
        others = [p.name for p in params if p.name not in ints]
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path, ints, others))
    return found


def fill(path: str, ints: list[str], others: list[str], bad: str, value: str) -> str:
    for name in ints:
        path = path.replace("{" + name + "}", value if name == bad else "1")
    for name in others:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


async def test_every_int_path_parameter_refuses_ids_out_of_range(
    app: Any, factory: Factory
) -> None:
    t = await factory.tenant()
    routes = int_path_routes(app)
    paths = {path for _m, path, _i, _o in routes}
    # the walk is not vacuous: the routes the fuzzer found 500s on are among them
    assert {
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/notes",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/jobs/{job_id}/requeue",
    } <= paths
    assert len(routes) >= 25
    failures: list[str] = []
    for method, path, ints, others in routes:
        staff = not path.startswith(NOT_STAFF_PREFIXES)
        headers = t.owner if staff else {}
        for name in ints:
            for value in OUT_OF_RANGE + NOT_NUMBERS:
                url = fill(path, ints, others, name, value)
                kwargs: dict[str, Any] = {"headers": headers}
                if method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {}
                r = await factory.client.request(method, url, **kwargs)
                if r.status_code >= 500:
                    failures.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
                    continue
                if not staff:
                    if r.status_code not in (401, 403, 404, 422):
                        failures.append(f"{method} {url}: {r.status_code}")
                    continue
                if r.status_code != 422:
                    failures.append(f"{method} {url}: {r.status_code} (expected 422)")
                    continue
                locs = [f["loc"] for f in r.json()["error"].get("fields", [])]
                if ["path", name] not in locs:
                    failures.append(f"{method} {url}: 422 without naming path.{name}: {locs}")
    assert not failures, "\n".join(failures)


async def test_the_largest_id_is_valid_and_simply_not_found(app: Any, factory: Factory) -> None:
    t = await factory.tenant()
    routes = int_path_routes(app)
    checked = 0
    for method, path, ints, others in routes:
        if method != "GET" or path.startswith(NOT_STAFF_PREFIXES) or others:
            continue
        url = path
        for name in ints:
            url = url.replace("{" + name + "}", str(BIGINT_MAX))
        r = await factory.client.get(url, headers=t.owner)
        assert r.status_code == 404, (url, r.status_code, r.text)
        checked += 1
    assert checked >= 5


async def test_integer_query_ids_out_of_range_are_422(factory: Factory) -> None:
    t = await factory.tenant()
    conversation = (await factory.inbound(t))["conversation_id"]
    huge = str(BIGINT_MAX + 1)
    for url in (
        f"/api/v1/conversations/{conversation}/messages?after_id={huge}",
        f"/api/v1/audit-log?before={huge}",
        f"/api/v1/bookings?cursor={huge}",
        f"/api/v1/ai/calls?conversation_id={huge}",
    ):
        r: httpx.Response = await factory.client.get(url, headers=t.owner)
        assert r.status_code == 422, (url, r.status_code, r.text)
