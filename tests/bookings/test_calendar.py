"""iCalendar feeds: per resource and per tenant, at secret URLs, in the resource's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from tests.bookings.helpers import API, book, future, make_house, make_tour
from tests.conftest import Factory


async def test_feeds_carry_holding_bookings_in_the_resource_s_time_zone(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    tour, departure = await make_tour(client, t)  # Asia/Irkutsk
    house = await make_house(client, t)  # Europe/Moscow
    first = (
        await book(
            client,
            t,
            resource_id=tour["id"],
            departure_id=departure["id"],
            adults=2,
            customer_name="Иван",
        )
    ).json()
    second = (
        await book(
            client,
            t,
            resource_id=house["id"],
            adults=2,
            starts_at=future(3, 11),
            ends_at=future(5, 9),
            customer_name="Anna",
        )
    ).json()
    third = (
        await book(client, t, resource_id=tour["id"], departure_id=departure["id"], adults=1)
    ).json()
    await client.post(f"{API}/bookings/{first['id']}/confirm", headers=t.operator)
    await client.post(
        f"{API}/bookings/{third['id']}/reject", json={"reason": "x"}, headers=t.operator
    )
    r = await client.get(f"{API}/booking-calendars", headers=t.owner)
    assert r.status_code == 200, r.text
    links = r.json()
    r = await client.get(links["resources"][tour["id"]])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = cal.walk("VEVENT")
    assert len(events) == 1  # the rejected one is left out
    (event,) = events
    assert str(event["status"]) == "CONFIRMED"
    assert event["summary"] == "Байкал: Иван (2)"
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Asia/Irkutsk"
    assert event["dtstart"].params["TZID"] == "Asia/Irkutsk"
    expected = datetime.fromisoformat(departure["starts_at"]).astimezone(ZoneInfo("Asia/Irkutsk"))
    assert (start.hour, start.minute) == (expected.hour, expected.minute)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Irkutsk"]
    r = await client.get(links["tenant"])
    cal = Calendar.from_ical(r.content)
    statuses = sorted(str(e["status"]) for e in cal.walk("VEVENT"))
    assert statuses == ["CONFIRMED", "TENTATIVE"]
    assert {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")} == {"Asia/Irkutsk", "Europe/Moscow"}
    assert second["id"] in {int(str(e["uid"]).split("-")[1]) for e in cal.walk("VEVENT")}
    # wrong secrets, another tenant's id with this tenant's token
    other = await factory.tenant()
    assert (await client.get("/ical/resources/nope.ics")).status_code == 404
    token = links["tenant"].rsplit("/", 1)[1]
    assert (await client.get(f"/ical/tenants/{other.id}/{token}")).status_code == 404
    assert (await client.get(f"{API}/booking-calendars", headers=t.operator)).status_code == 403
