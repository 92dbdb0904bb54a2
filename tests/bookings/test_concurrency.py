"""No double booking under concurrency: 50 requests at once for the last place of a
departure (and for the last free period of a rental) - exactly one wins, on both databases."""

from __future__ import annotations

import asyncio

import httpx

from tests.bookings.helpers import API, book, future, make_house, make_tour
from tests.conftest import Factory

CONCURRENT = 50


async def test_fifty_requests_for_the_last_place_make_one_booking(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t, capacity=3)
    r = await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=2)
    assert r.status_code == 201
    results = await asyncio.gather(
        *(
            book(
                client,
                t,
                resource_id=resource["id"],
                departure_id=departure["id"],
                adults=1,
                customer_name=f"guest {i}",
            )
            for i in range(CONCURRENT)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == CONCURRENT - 1, codes
    assert all(
        r.json()["error"]["code"] == "booking_unavailable" for r in results if r.status_code == 409
    )
    r = await client.get(f"{API}/resources/{resource['id']}/departures", headers=t.operator)
    assert r.json()[0]["free_places"] == 0
    r = await client.get(f"{API}/bookings", params={"limit": 200}, headers=t.operator)
    assert sum(b["adults"] for b in r.json()["items"]) == 3


async def test_fifty_requests_for_the_same_nights_make_one_booking(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    house = await make_house(client, t)
    results = await asyncio.gather(
        *(
            book(
                client,
                t,
                resource_id=house["id"],
                adults=2,
                starts_at=future(5 + i % 2, 14),
                ends_at=future(7, 12),
            )
            for i in range(CONCURRENT)
        )
    )
    codes = [r.status_code for r in results]
    assert codes.count(201) == 1, sorted(codes)
    assert codes.count(409) == CONCURRENT - 1
