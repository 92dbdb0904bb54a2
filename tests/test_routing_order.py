"""The inbound endpoints are matched first, and that changes which route answers nothing.

A request is matched against the routes in order; the inbound endpoints (API channel,
e-mail, Telegram, WhatsApp, Avito) are mounted ahead of the rest so that a webhook does
not pay for trying every console and admin route first (see ``frontline.api``). That is
only safe while no other route matches their paths - checked here for every method.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import compile_path

from frontline.api import INBOUND_ROUTERS
from tests.tenants.isolation_kit import api_routes

API = "/api/v1"
SAMPLE_ID = "0b6f1a52-7a7e-4c53-9d0c-3f4c1f0d2b9a"


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", SAMPLE_ID, template)


def _inbound_endpoints() -> set[Any]:
    return {route.endpoint for router in INBOUND_ROUTERS for route in router.routes}  # type: ignore[attr-defined]


async def test_inbound_routes_come_first_and_shadow_nothing(app: Any) -> None:
    routes = [(path, route) for path, route in api_routes(app) if path.startswith(API + "/")]
    inbound = _inbound_endpoints()
    assert {"/webhooks/telegram/{channel_id}", "/channels/{channel_id}/messages"} <= {
        route.path
        for router in INBOUND_ROUTERS
        for route in router.routes  # type: ignore[attr-defined]
    }
    # first in the API: every inbound route before every other route
    flags = [route.endpoint in inbound for _path, route in routes]
    assert flags[: len(inbound)] == [True] * len(inbound), [p for p, _ in routes[:8]]
    assert sum(flags) == len(flags[: len(inbound)]) == len(inbound)
    # no other route (any method the inbound one answers) matches an inbound path
    compiled = [(compile_path(path)[0], route) for path, route in routes]
    for path, route in routes:
        if route.endpoint not in inbound:
            continue
        url = _sample(path)
        for method in route.methods or ():
            matching = [
                other.path
                for regex, other in compiled
                if regex.match(url) and method in (other.methods or ())
            ]
            assert matching == [route.path], (method, url, matching)


def _endpoints_of(route: Any) -> set[Any]:
    """The endpoints one of the app's own routes leads to (an included router: all of its)."""
    try:  # FastAPI keeps included routers as nested route objects
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: every route is the app's own
        return {getattr(route, "endpoint", None)}
    return {getattr(c.original_route, "endpoint", None) for c in iter_route_contexts([route])}


async def test_inbound_routes_are_matched_apart_from_the_rest_of_the_api(app: Any) -> None:
    """No route of the app holds inbound and other endpoints together: matching a webhook
    does not walk (nor check for changes) the rest of the API's routes."""
    inbound = _inbound_endpoints()
    mixed = [
        route
        for route in app.routes
        if (found := _endpoints_of(route) - {None}) & inbound and found - inbound
    ]
    assert mixed == []


async def test_an_inbound_path_still_answers_other_methods_with_405(client: Any) -> None:
    r = await client.get(f"{API}/webhooks/telegram/{SAMPLE_ID}")
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]
    r = await client.delete(f"{API}/channels/{SAMPLE_ID}/messages")
    assert r.status_code == 405
