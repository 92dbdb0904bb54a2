"""The copilot's "create a booking from this chat": the booking request is read from the
conversation by the bookings domain's extraction (offline rules; a remote model fills what
they miss), returned as a pre-filled form the operator saves through the bookings API, which
links the booking to the conversation and its contact. Bad input: another tenant's
conversation 404, an empty one or a tenant with nothing bookable 409."""

from __future__ import annotations

import json

from frontline.deps import Services
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.bookings.helpers import API, make_house, make_tour
from tests.conftest import Factory
from tests.copilot.helpers import calls, copilot, empty_conversation, message_count, use_llm


async def test_the_form_is_prefilled_from_the_chat_and_saving_books_for_that_contact(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    tour, departure = await make_tour(factory.client, t, name="Байкал", days=30)
    await make_house(factory.client, t)
    day = departure["starts_at"][:10]
    d = f"{day[8:10]}.{day[5:7]}.{day[:4]}"
    first = await factory.inbound(t, contact="c-9", text=f"Хочу забронировать тур Байкал на {d}")
    cid = first["conversation_id"]
    await factory.inbound(t, contact="c-9", text="Нас будет 2, меня зовут Ирина, +7 900 123-45-67")
    before = await message_count(services, cid)
    r = await copilot(factory.client, t, cid, "booking")
    assert r.status_code == 200, r.text
    draft = r.json()
    assert (draft["resource_id"], draft["departure_id"]) == (tour["id"], departure["id"])
    assert draft["starts_at"][:10] == day and draft["adults"] == 2
    assert draft["customer_name"] == "Ирина" and draft["customer_phone"] == "+79001234567"
    assert draft["missing"] == [] and draft["locale"] == "ru"
    assert (draft["provider"], draft["degraded"]) == ("offline", False)
    [call] = await calls(services, t)
    assert call.purpose == "copilot.booking" and call.provider == "offline"
    assert json.loads(call.answer)["adults"] == 2
    # nothing was booked or sent by the copilot
    r = await factory.client.get(f"{API}/bookings?conversation_id={cid}", headers=t.operator)
    assert r.json()["items"] == []
    assert await message_count(services, cid) == before
    # the operator saves the form: a pending booking of this conversation and its contact
    body = {
        k: draft[k]
        for k in ("resource_id", "departure_id", "adults", "customer_name", "customer_phone")
    }
    r = await factory.client.post(
        f"{API}/bookings", headers=t.operator, json={**body, "conversation_id": cid}
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    conversation = (
        await factory.client.get(f"{API}/conversations/{cid}", headers=t.operator)
    ).json()
    assert booking["status"] == "pending" and booking["conversation_id"] == cid
    assert booking["contact_id"] == conversation["contact_id"]


async def test_what_the_chat_does_not_say_is_named(factory: Factory) -> None:
    t = await factory.tenant()
    house = await make_house(factory.client, t, name="Дом у озера")
    await make_tour(factory.client, t, name="Байкал")
    cid = (await factory.inbound(t, text="Можно забронировать дом у озера?"))["conversation_id"]
    r = await copilot(factory.client, t, cid, "booking")
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["resource_id"] == house["id"] and draft["availability"] == "nightly"
    assert draft["missing"] == ["date", "people", "name", "contact"]
    assert draft["starts_at"] is None and draft["adults"] is None
    cid = (await factory.inbound(t, contact="c-2", text="Здравствуйте"))["conversation_id"]
    draft = (await copilot(factory.client, t, cid, "booking")).json()
    assert draft["resource_id"] is None and draft["missing"] == ["resource"]


async def test_a_remote_model_fills_what_the_rules_miss(
    factory: Factory, services: Services, llm: FakeLLMServer
) -> None:
    t = await factory.tenant()
    await use_llm(factory, t, llm)
    tour, departure = await make_tour(factory.client, t, name="Байкал", days=30)
    day = departure["starts_at"][:10]
    cid = (await factory.inbound(t, text="Хочу на Байкал, напишите на olga@example.com"))[
        "conversation_id"
    ]
    reading = {
        "resource": "Байкал",
        "date": day,
        "end_date": None,
        "adults": 4,
        "name": "Ольга",
        "phone": None,
        "email": "OLGA@example.com",
    }
    llm.script(OPENAI_PATH, Reply(json=openai_completion(json.dumps(reading, ensure_ascii=False))))
    r = await copilot(factory.client, t, cid, "booking")
    assert r.status_code == 200, r.text
    draft = r.json()
    assert (draft["resource_id"], draft["departure_id"]) == (tour["id"], departure["id"])
    assert (draft["adults"], draft["customer_name"]) == (4, "Ольга")
    assert draft["customer_email"] == "olga@example.com"  # the customer's own words win
    assert draft["missing"] == [] and draft["provider"] == "openai_compatible"
    [request] = llm.requests_to(OPENAI_PATH)
    sent = request.json()
    assert sent["response_format"]["json_schema"]["name"] == "booking_request"
    assert "olga@example.com" in sent["messages"][-1]["content"]
    [call] = await calls(services, t)
    assert call.purpose == "copilot.booking" and call.provider == "openai_compatible"


async def test_bad_input(factory: Factory, services: Services) -> None:
    t = await factory.tenant()
    cid = (await factory.inbound(t, text="Хочу забронировать"))["conversation_id"]
    r = await copilot(factory.client, t, cid, "booking")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_bookable_resources"
    await make_tour(factory.client, t)
    other = await factory.tenant()
    r = await copilot(factory.client, other, cid, "booking")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    empty = await empty_conversation(services, t)
    r = await copilot(factory.client, t, empty, "booking")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_empty"
