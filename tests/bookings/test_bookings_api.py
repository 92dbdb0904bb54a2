"""Bookings through the API: catalogue, pending bookings and their price, operator
decisions told to the customer, bad input, tenant isolation, hold expiry, events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from frontline import events
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.time import utcnow
from frontline.models import Booking, Job, Message
from tests.bookings.helpers import API, book, future, make_house, make_tour
from tests.conftest import Factory

TEMPLATE = {
    "name": "Туры",
    "prepayment_percent": 30,
    "payment_deadline_days": 14,
    "cancellation_rules": [
        {"days_before": 7, "penalty_percent": 50},
        {"days_before": 30, "penalty_percent": 0},
    ],
    "text": "Предоплата 30% при бронировании.",
}


async def test_conditions_come_from_the_template_with_the_resource_s_overrides(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    resource, _ = await make_tour(client, t, template=TEMPLATE)
    r = await client.patch(
        f"{API}/resources/{resource['id']}",
        json={"overrides": {"prepayment_percent": 50}, "notes": "Тёплые вещи обязательны"},
        headers=t.owner,
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"{API}/resources/{resource['id']}/conditions", headers=t.operator)
    conditions = r.json()
    assert conditions["prepayment_percent"] == 50  # overridden
    assert conditions["payment_deadline_days"] == 14  # the template's
    assert [c["days_before"] for c in conditions["cancellation_rules"]] == [30, 7]
    assert conditions["notes"] == "Тёплые вещи обязательны"
    # an operator may read but not change the catalogue
    r = await client.post(f"{API}/booking-templates", json={"name": "x"}, headers=t.operator)
    assert r.status_code == 403


async def test_a_tour_booking_is_pending_priced_and_takes_places(
    factory: Factory, client: httpx.AsyncClient, services: Services
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t, capacity=10)
    received: list[dict[str, Any]] = []

    async def collect() -> None:
        async for event in services.broker.subscribe(events.inbox_topic(t.id)):
            received.append(event)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        r = await book(
            client,
            t,
            resource_id=resource["id"],
            departure_id=departure["id"],
            adults=2,
            children=1,
            customer_name="Иван Петров",
            customer_phone="+79001234567",
        )
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["status"] == "pending"
    assert booking["total_price"] == "135000.00"
    assert booking["starts_at"][:16] == departure["starts_at"][:16]
    hold = booking["hold_until"]
    assert (
        hold is not None
        and abs(
            (utcnow() + timedelta(hours=24)).timestamp()
            - __import__("datetime").datetime.fromisoformat(hold).timestamp()
        )
        < 60
    )
    assert [e["type"] for e in received] == [events.BOOKING_CREATED]
    assert received[0]["data"]["id"] == booking["id"]
    r = await client.get(f"{API}/resources/{resource['id']}/departures", headers=t.operator)
    assert r.json()[0]["free_places"] == 7
    async with services.db.transaction() as s:
        jobs = (await s.execute(select(Job).where(Job.kind == events.JOB_BOOKING_EXPIRE))).scalars()
        (job,) = list(jobs)
    assert job.payload == {"booking_id": booking["id"]}
    assert job.run_at > utcnow() + timedelta(hours=23)


async def test_bad_input_is_422_with_a_clear_message(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t, capacity=4)
    house = await make_house(client, t)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"resource_id": resource["id"], "departure_id": departure["id"], "adults": 5},
            "more guests",
        ),
        ({"resource_id": house["id"], "adults": 2}, "starts_at and ends_at are required"),
        (
            {
                "resource_id": house["id"],
                "adults": 2,
                "starts_at": future(-3),
                "ends_at": future(-1),
            },
            "in the past",
        ),
        (
            {"resource_id": house["id"], "adults": 7, "starts_at": future(3), "ends_at": future(5)},
            "more guests",
        ),
        (
            {"resource_id": "00000000-0000-0000-0000-000000000001", "adults": 1},
            "unknown resource",
        ),
        ({"resource_id": resource["id"], "adults": 1}, "departure_id is required"),
    ]
    for body, message in cases:
        r = await book(client, t, **body)
        assert r.status_code == 422, (body, r.text)
        assert message in r.json()["error"]["message"], r.text
    # end before start is refused by validation
    r = await book(
        client, t, resource_id=house["id"], adults=1, starts_at=future(5), ends_at=future(3)
    )
    assert r.status_code == 422
    assert "ends_at must be after starts_at" in r.text
    r = await client.post(
        f"{API}/resources",
        json={
            "name": "x",
            "kind": "tour",
            "availability": "departures",
            "capacity": 1,
            "price": "1",
            "timezone": "Mars/Olympus",
        },
        headers=t.owner,
    )
    assert r.status_code == 422 and "unknown time zone" in r.text
    r = await client.post(
        f"{API}/resources/{resource['id']}/departures",
        json={"starts_at": future(-2).isoformat(), "ends_at": future(-1).isoformat()},
        headers=t.owner,
    )
    assert r.status_code == 422 and "the departure is in the past" in r.text, r.text
    r = await client.get(f"{API}/resources/{resource['id']}/departures", headers=t.operator)
    assert [d["id"] for d in r.json()] == [departure["id"]]
    # nothing half-written
    r = await client.get(f"{API}/bookings", headers=t.operator)
    assert r.json()["items"] == []


async def test_times_without_an_offset_and_ids_out_of_range_are_422(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    resource, _departure = await make_tour(client, t)
    naive, aware = "2030-06-01T00:00:00", "2030-06-30T00:00:00+00:00"
    for path, params in (
        ("/availability", {"start": naive, "end": aware}),
        ("/availability", {"start": aware.replace("06-30", "06-01"), "end": naive}),
        ("/bookings", {"start": naive}),
        ("/bookings", {"end": naive}),
        (f"/resources/{resource['id']}/departures", {"start": naive}),
    ):
        r = await client.get(f"{API}{path}", params=params, headers=t.operator)
        assert r.status_code == 422, (path, params, r.text)
        assert "time zone offset is required" in r.text, r.text
    # the same search with offsets is fine
    r = await client.get(
        f"{API}/availability",
        params={"start": aware.replace("06-30", "06-01"), "end": aware},
        headers=t.operator,
    )
    assert r.status_code == 200, r.text
    too_big = 2**63
    r = await client.get(f"{API}/bookings", params={"conversation_id": too_big}, headers=t.operator)
    assert r.status_code == 422, r.text
    r = await book(client, t, resource_id=resource["id"], adults=1, conversation_id=too_big)
    assert r.status_code == 422 and "conversation_id" in r.text, r.text
    r = await client.get(f"{API}/bookings", headers=t.operator)
    assert r.json()["items"] == []


async def test_another_tenant_s_booking_is_404(factory: Factory, client: httpx.AsyncClient) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    resource, departure = await make_tour(client, a)
    r = await book(client, a, resource_id=resource["id"], departure_id=departure["id"], adults=1)
    booking_id = r.json()["id"]
    r = await client.post(
        f"{API}/resources/{resource['id']}/blocks",
        json={"starts_at": future(40).isoformat(), "ends_at": future(41).isoformat()},
        headers=a.owner,
    )
    assert r.status_code == 201, r.text
    block_id = r.json()["id"]
    r = await client.post(f"{API}/booking-templates", json={"name": "A's"}, headers=a.owner)
    template_id = r.json()["id"]
    rid, did = resource["id"], departure["id"]
    for method, path, body in (
        ("GET", f"/bookings/{booking_id}", {}),
        ("POST", f"/bookings/{booking_id}/confirm", {}),
        ("POST", f"/bookings/{booking_id}/reject", {"reason": "taken over"}),
        ("POST", f"/bookings/{booking_id}/cancel", {}),
        ("PATCH", f"/bookings/{booking_id}", {}),
        (
            "POST",
            f"/resources/{rid}/blocks",
            {"starts_at": future(50).isoformat(), "ends_at": future(51).isoformat()},
        ),
        ("DELETE", f"/resources/{rid}/blocks/{block_id}", None),
        ("DELETE", f"/resources/{rid}/departures/{did}", None),
        ("DELETE", f"/resources/{rid}", None),
        ("DELETE", f"/booking-templates/{template_id}", None),
    ):
        r = await client.request(method, f"{API}{path}", headers=b.owner, json=body)
        assert r.status_code == 404, (method, path, r.text)
    # nothing of a's changed: the booking is still pending, the catalogue whole
    r = await client.get(f"{API}/bookings/{booking_id}", headers=a.operator)
    assert r.json()["status"] == "pending"
    assert len((await client.get(f"{API}/resources/{rid}/blocks", headers=a.owner)).json()) == 1
    assert len((await client.get(f"{API}/resources/{rid}/departures", headers=a.owner)).json()) == 1
    # b's lists and search show none of a's rows
    for path in ("/resources", "/booking-templates"):
        assert (await client.get(f"{API}{path}", headers=b.owner)).json() == []
    r = await client.get(
        f"{API}/availability",
        params={"start": future(29).isoformat(), "end": future(31).isoformat(), "guests": 1},
        headers=b.owner,
    )
    assert r.status_code == 200, r.text
    assert rid not in r.text
    r = await client.get(f"{API}/resources/{resource['id']}", headers=b.operator)
    assert r.status_code == 404
    # b cannot book a's resource either
    r = await book(client, b, resource_id=resource["id"], departure_id=departure["id"], adults=1)
    assert r.status_code == 422
    assert (await client.get(f"{API}/bookings", headers=b.operator)).json()["items"] == []


async def test_confirm_and_reject_tell_the_customer_in_their_language(
    factory: Factory, client: httpx.AsyncClient, services: Services
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t)
    conv_ru = (await factory.inbound(t, contact="ivan", text="Хочу на Байкал"))["conversation_id"]
    conv_en = (await factory.inbound(t, contact="john", text="Baikal please"))["conversation_id"]
    r1 = await book(
        client,
        t,
        resource_id=resource["id"],
        departure_id=departure["id"],
        adults=2,
        conversation_id=conv_ru,
        locale="ru",
    )
    r2 = await book(
        client,
        t,
        resource_id=resource["id"],
        departure_id=departure["id"],
        adults=1,
        conversation_id=conv_en,
        locale="en",
    )
    first, second = r1.json(), r2.json()
    assert first["contact_id"] is not None
    r = await client.post(f"{API}/bookings/{first['id']}/confirm", headers=t.operator)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert r.json()["hold_until"] is None
    r = await client.post(f"{API}/bookings/{second['id']}/reject", json={}, headers=t.operator)
    assert r.status_code == 422  # a reason is required
    r = await client.post(
        f"{API}/bookings/{second['id']}/reject", json={"reason": "Sold out"}, headers=t.operator
    )
    assert r.status_code == 200 and r.json()["reject_reason"] == "Sold out"
    async with services.db.transaction() as s:
        rows = (await s.execute(select(Message).where(Message.sender_type == "system"))).scalars()
        texts = {m.conversation_id: m.text for m in rows}
    assert texts[conv_ru].startswith(f"Ваше бронирование №{first['id']} подтверждено: Байкал")
    assert "90\u00a0000 ₽" in texts[conv_ru]
    assert texts[conv_en].startswith(f"Unfortunately your booking #{second['id']}")
    assert texts[conv_en].endswith("Reason: Sold out")
    # decided bookings cannot be decided again
    for path in (f"{second['id']}/confirm", f"{first['id']}/confirm"):
        r = await client.post(f"{API}/bookings/{path}", headers=t.operator)
        assert r.status_code == 409 and r.json()["error"]["code"] == "booking_not_pending"
    # filters
    r = await client.get(f"{API}/bookings", params={"status": "confirmed"}, headers=t.operator)
    assert [b["id"] for b in r.json()["items"]] == [first["id"]]
    r = await client.get(f"{API}/bookings", params={"conversation_id": conv_en}, headers=t.operator)
    assert [b["id"] for b in r.json()["items"]] == [second["id"]]
    r = await client.get(
        f"{API}/bookings",
        params={"start": future(100).isoformat(), "resource_id": resource["id"]},
        headers=t.operator,
    )
    assert r.json()["items"] == []


async def test_rentals_never_overlap_and_blocks_close_them(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    house = await make_house(client, t)
    r = await book(
        client,
        t,
        resource_id=house["id"],
        adults=4,
        starts_at=future(10, 14),
        ends_at=future(13, 12),
    )
    assert r.status_code == 201 and r.json()["total_price"] == "21000.00"  # 3 nights
    first = r.json()
    r = await book(
        client,
        t,
        resource_id=house["id"],
        adults=2,
        starts_at=future(12, 14),
        ends_at=future(14, 12),
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "booking_unavailable"
    # back to back is fine
    r = await book(
        client,
        t,
        resource_id=house["id"],
        adults=2,
        starts_at=future(13, 14),
        ends_at=future(14, 12),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/resources/{house['id']}/blocks",
        json={
            "starts_at": future(20).isoformat(),
            "ends_at": future(25).isoformat(),
            "reason": "ремонт",
        },
        headers=t.owner,
    )
    assert r.status_code == 201
    r = await book(
        client,
        t,
        resource_id=house["id"],
        adults=2,
        starts_at=future(22, 14),
        ends_at=future(23, 12),
    )
    assert r.status_code == 409
    # a rejected booking frees its period; an edit into a taken period is refused
    r = await client.post(
        f"{API}/bookings/{first['id']}/reject", json={"reason": "x"}, headers=t.operator
    )
    assert r.status_code == 200
    r = await book(
        client,
        t,
        resource_id=house["id"],
        adults=2,
        starts_at=future(10, 14),
        ends_at=future(12, 12),
    )
    assert r.status_code == 201, r.text
    third = r.json()
    r = await client.patch(
        f"{API}/bookings/{third['id']}",
        json={"ends_at": future(14, 12).isoformat()},
        headers=t.operator,
    )
    assert r.status_code == 409
    r = await client.patch(
        f"{API}/bookings/{third['id']}",
        json={"adults": 3, "customer_name": "Анна"},
        headers=t.operator,
    )
    assert r.status_code == 200 and r.json()["customer_name"] == "Анна"


async def test_a_resource_with_holding_bookings_cannot_be_deleted(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    house = await make_house(client, t)
    r = await book(
        client, t, resource_id=house["id"], adults=2, starts_at=future(5), ends_at=future(7)
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    r = await client.delete(f"{API}/resources/{house['id']}", headers=t.owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "in_use"
    assert "deactivate" in r.json()["error"]["message"]
    r = await client.get(f"{API}/bookings/{booking['id']}", headers=t.operator)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    # once nothing holds places it goes, with its (rejected) bookings
    r = await client.post(
        f"{API}/bookings/{booking['id']}/reject", json={"reason": "x"}, headers=t.operator
    )
    assert r.status_code == 200
    r = await client.delete(f"{API}/resources/{house['id']}", headers=t.owner)
    assert r.status_code == 204
    r = await client.get(f"{API}/resources/{house['id']}", headers=t.operator)
    assert r.status_code == 404


async def test_an_expired_hold_frees_the_place_and_cannot_be_confirmed(
    factory: Factory, client: httpx.AsyncClient, services: Services, worker: Worker
) -> None:
    t = await factory.tenant()
    r = await client.put(f"{API}/booking-settings", json={"hold_hours": 2}, headers=t.owner)
    assert r.status_code == 200
    resource, departure = await make_tour(client, t, capacity=2)
    r = await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=2)
    booking = r.json()
    assert (
        __import__("datetime").datetime.fromisoformat(booking["hold_until"]) - utcnow()
    ) < timedelta(hours=2, minutes=1)
    r = await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=1)
    assert r.status_code == 409
    # two hours later
    async with services.db.transaction() as s:
        await s.execute(update(Booking).values(hold_until=utcnow() - timedelta(seconds=1)))
        await s.execute(
            update(Job)
            .where(Job.kind == events.JOB_BOOKING_EXPIRE)
            .values(run_at=utcnow() - timedelta(seconds=1))
        )
    # the place is free at once, before the job ran
    r = await client.post(f"{API}/bookings/{booking['id']}/confirm", headers=t.operator)
    assert r.status_code == 409 and r.json()["error"]["code"] == "booking_expired"
    r = await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=2)
    assert r.status_code == 201
    await worker.run_until_idle()
    r = await client.get(f"{API}/bookings/{booking['id']}", headers=t.operator)
    assert r.json()["status"] == "expired"
    r = await client.post(f"{API}/bookings/{booking['id']}/confirm", headers=t.operator)
    assert r.status_code == 409


async def test_availability_search_finds_free_rentals_and_departures(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t, capacity=3)
    house = await make_house(client, t, name="Дом 1")
    other = await make_house(client, t, name="Дом 2", units=2)
    await book(client, t, resource_id=house["id"], adults=2, starts_at=future(29, 14),
               ends_at=future(31, 12))  # fmt: skip
    await book(client, t, resource_id=other["id"], adults=2, starts_at=future(29, 14),
               ends_at=future(31, 12))  # fmt: skip
    await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=2)
    params = {"start": future(28).isoformat(), "end": future(32).isoformat(), "guests": 1}
    r = await client.get(f"{API}/availability", params=params, headers=t.operator)
    assert r.status_code == 200, r.text
    found = r.json()
    assert [(x["name"], x["free_units"]) for x in found["rentals"]] == [("Дом 2", 1)]
    assert [(d["name"], d["free_places"]) for d in found["departures"]] == [("Байкал", 1)]
    r = await client.get(f"{API}/availability", params={**params, "guests": 2}, headers=t.operator)
    assert r.json()["departures"] == []
    r = await client.get(
        f"{API}/availability", params={**params, "end": params["start"]}, headers=t.operator
    )
    assert r.status_code == 422


async def test_decisions_and_expiry_are_published_as_events(
    factory: Factory, client: httpx.AsyncClient, services: Services, worker: Worker
) -> None:
    t = await factory.tenant()
    resource, departure = await make_tour(client, t, capacity=10)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def collect() -> None:
        async for event in services.broker.subscribe(events.inbox_topic(t.id)):
            await received.put(event)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        ids = []
        for _ in range(3):
            r = await book(
                client, t, resource_id=resource["id"], departure_id=departure["id"], adults=1
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        confirmed, rejected, expired = ids
        r = await client.post(f"{API}/bookings/{confirmed}/confirm", headers=t.operator)
        assert r.status_code == 200
        r = await client.post(
            f"{API}/bookings/{rejected}/reject", json={"reason": "x"}, headers=t.operator
        )
        assert r.status_code == 200
        async with services.db.transaction() as s:
            await s.execute(
                update(Booking)
                .where(Booking.id == expired)
                .values(hold_until=utcnow() - timedelta(seconds=1))
            )
            await s.execute(
                update(Job)
                .where(Job.kind == events.JOB_BOOKING_EXPIRE)
                .values(run_at=utcnow() - timedelta(seconds=1))
            )
        await worker.run_until_idle()
        got = [await asyncio.wait_for(received.get(), timeout=10) for _ in range(6)]
    finally:
        task.cancel()
    assert [(e["type"], e["data"]["id"]) for e in got] == [
        (events.BOOKING_CREATED, confirmed),
        (events.BOOKING_CREATED, rejected),
        (events.BOOKING_CREATED, expired),
        (events.BOOKING_CONFIRMED, confirmed),
        (events.BOOKING_REJECTED, rejected),
        (events.BOOKING_EXPIRED, expired),
    ]
    assert got[-1]["data"]["status"] == "expired"
