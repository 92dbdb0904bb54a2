"""The bookings report: bookings created per UTC day and how many of them are confirmed,
on both databases, from bookings made through the real API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from frontline.models import Booking
from tests.bookings.helpers import book, make_tour
from tests.conftest import Factory, TenantFixture

API = "/api/v1"
RANGE = "start=2026-03-01&end=2026-03-07"


async def get(factory: Factory, t: TenantFixture, path: str) -> Any:
    r = await factory.client.get(f"{API}/analytics/{path}", headers=t.owner)
    assert r.status_code == 200, r.text
    return r.json()


async def make_bookings(factory: Factory, t: TenantFixture, count: int) -> list[int]:
    c = factory.client
    resource, departure = await make_tour(c, t, name=f"Tour {t.slug}")
    ids = []
    for _ in range(count):
        r = await book(c, t, resource_id=resource["id"], departure_id=departure["id"], adults=1)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def created_at(factory: Factory, booking_id: int, when: datetime, **more: Any) -> None:
    async with factory.services.db.transaction() as session:
        await session.execute(
            update(Booking).where(Booking.id == booking_id).values(created_at=when, **more)
        )


async def test_bookings_created_and_confirmed_per_day(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    c = factory.client
    first, second, third, fourth = await make_bookings(factory, t, 4)
    for booking_id, action in ((first, "confirm"), (third, "confirm"), (fourth, "reject")):
        body = {"reason": "full"} if action == "reject" else None
        r = await c.post(f"{API}/bookings/{booking_id}/{action}", json=body, headers=t.operator)
        assert r.status_code == 200, r.text
    conversation_id = (await factory.inbound(t, contact="alice", text="book me"))["conversation_id"]
    # Monday 10:00 and 23:59 UTC (one day), Tuesday 00:00 UTC, and one before the range
    await created_at(factory, first, datetime(2026, 3, 2, 10, tzinfo=UTC))
    await created_at(
        factory,
        second,
        datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
        conversation_id=conversation_id,
    )
    await created_at(factory, third, datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    await created_at(factory, fourth, datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    # another tenant's booking on the same day is never counted
    [theirs] = await make_bookings(factory, other, 1)
    await created_at(factory, theirs, datetime(2026, 3, 2, 12, tzinfo=UTC))

    report = await get(factory, t, f"bookings?{RANGE}")
    assert (report["created"], report["confirmed"]) == (3, 2)
    assert report["confirmed_share"] == round(2 / 3, 4)
    days = {d["day"]: (d["created"], d["confirmed"]) for d in report["days"]}
    assert len(days) == 7
    assert days["2026-03-02"] == (2, 1)
    assert days["2026-03-03"] == (1, 1)
    assert days["2026-03-01"] == (0, 0)

    summary = await get(factory, t, f"summary?{RANGE}")
    assert summary["bookings"] == {"created": 3, "confirmed": 2}

    # one channel: the bookings made from its conversations
    by_api = await get(factory, t, f"bookings?{RANGE}&channel_id={t.api_channel_id}")
    assert (by_api["created"], by_api["confirmed"]) == (1, 0)
    by_mail = await get(factory, t, f"bookings?{RANGE}&channel_id={t.email_channel_id}")
    assert by_mail["created"] == 0

    r = await c.get(f"{API}/analytics/bookings?{RANGE}&format=csv", headers=t.owner)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["day", "created", "confirmed"]
    assert ["2026-03-02", "2", "1"] in rows and len(rows) == 8
    r = await c.get(f"{API}/analytics/summary?{RANGE}&format=csv", headers=t.owner)
    metrics = dict(tuple(row) for row in csv.reader(io.StringIO(r.text)))
    assert (metrics["bookings_created"], metrics["bookings_confirmed"]) == ("3", "2")


async def test_an_empty_range_has_no_bookings(factory: Factory) -> None:
    t = await factory.tenant()
    await make_bookings(factory, t, 1)  # created now, outside the range
    report = await get(factory, t, "bookings?start=2020-01-01&end=2020-01-31")
    assert (report["created"], report["confirmed"], report["confirmed_share"]) == (0, 0, None)
    assert len(report["days"]) == 31
    assert all((d["created"], d["confirmed"]) == (0, 0) for d in report["days"])
    summary = await get(factory, t, "summary?start=2020-01-01&end=2020-01-31")
    assert summary["bookings"] == {"created": 0, "confirmed": 0}
    r = await factory.client.get(f"{API}/analytics/bookings", headers=t.operator)
    assert r.status_code == 403
    r = await factory.client.get(
        f"{API}/analytics/bookings?start=2026-03-07&end=2026-03-01", headers=t.owner
    )
    assert r.status_code == 422
