"""Building bookings data through the real API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import TenantFixture

API = "/api/v1"


def future(days: int, hour: int = 10) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


async def make_tour(
    client: httpx.AsyncClient,
    t: TenantFixture,
    *,
    name: str = "Байкал",
    capacity: int = 10,
    price: str = "45000",
    days: int = 30,
    template: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tour with one departure ``days`` from now; returns (resource, departure)."""
    body: dict[str, Any] = {
        "name": name,
        "kind": "tour",
        "availability": "departures",
        "capacity": capacity,
        "price": price,
        "timezone": "Asia/Irkutsk",
    }
    if template is not None:
        r = await client.post(f"{API}/booking-templates", json=template, headers=t.owner)
        assert r.status_code == 201, r.text
        body["template_id"] = r.json()["id"]
    r = await client.post(f"{API}/resources", json=body, headers=t.owner)
    assert r.status_code == 201, r.text
    resource = r.json()
    start = future(days)
    r = await client.post(
        f"{API}/resources/{resource['id']}/departures",
        json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=7)).isoformat()},
        headers=t.owner,
    )
    assert r.status_code == 201, r.text
    return resource, r.json()


async def make_house(
    client: httpx.AsyncClient, t: TenantFixture, *, name: str = "Дом у озера", units: int = 1
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/resources",
        json={
            "name": name,
            "kind": "house",
            "availability": "nightly",
            "capacity": 6,
            "units": units,
            "price": "7000",
            "per_person": False,
        },
        headers=t.owner,
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def book(client: httpx.AsyncClient, t: TenantFixture, **body: Any) -> httpx.Response:
    for key in ("starts_at", "ends_at"):
        if isinstance(body.get(key), datetime):
            body[key] = body[key].isoformat()
    return await client.post(f"{API}/bookings", json=body, headers=t.operator)


async def use_remote_model(
    client: httpx.AsyncClient, t: TenantFixture, llm_base: str, **settings: Any
) -> None:
    """The fake OpenAI-compatible server at ``llm_base`` as the workspace's only model,
    with ``settings`` (``auto_booking=True``...) in the same AI settings change."""
    chain = [
        {
            "kind": "openai_compatible",
            "model": "m-1",
            "config": {"base_url": f"{llm_base}/openai/v1"},
        }
    ]
    r = await client.put(
        f"{API}/ai/settings", json={**settings, "provider_chain": chain}, headers=t.owner
    )
    assert r.status_code == 200, r.text
