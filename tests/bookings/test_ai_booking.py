"""The AI booking flow with the offline engine: extract across the conversation, ask only
for what is missing in the customer's language, check availability, quote the price and
conditions, create a pending booking linked to the conversation and contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from frontline.jobs.worker import Worker
from tests.bookings.helpers import API, make_tour
from tests.conftest import Factory, TenantFixture

TEMPLATE = {
    "name": "Туры",
    "prepayment_percent": 30,
    "cancellation_rules": [{"days_before": 14, "penalty_percent": 50}],
    "text": "Детям до 12 лет скидка 20%",
}


async def say(
    factory: Factory, worker: Worker, t: TenantFixture, text: str, contact: str = "ivan"
) -> dict[str, Any]:
    """The customer writes; the AI answers; returns the AI's last message."""
    sent = await factory.inbound(t, contact=contact, text=text)
    await worker.run_until_idle()
    r = await factory.client.get(
        f"{API}/conversations/{sent['conversation_id']}", headers=t.operator
    )
    ai = [m for m in r.json()["messages"] if m["sender_type"] == "ai"]
    return {"conversation_id": sent["conversation_id"], **ai[-1]}


async def setup(
    factory: Factory, client: httpx.AsyncClient
) -> tuple[TenantFixture, dict[str, Any]]:
    t = await factory.tenant(ai=True)
    r = await client.put(f"{API}/ai/settings", json={"auto_booking": True}, headers=t.owner)
    assert r.status_code == 200, r.text
    _resource, departure = await make_tour(client, t, capacity=4, template=TEMPLATE, days=40)
    return t, departure


def departure_day(departure: dict[str, Any], fmt: str) -> str:
    start = datetime.fromisoformat(departure["starts_at"]).astimezone(UTC) + timedelta(hours=8)
    return start.strftime(fmt)


async def test_a_russian_booking_across_messages_ends_pending(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, departure = await setup(factory, client)
    months = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря"]  # fmt: skip
    start = datetime.fromisoformat(departure["starts_at"]).astimezone(UTC) + timedelta(hours=8)
    day = f"{start.day} {months[start.month - 1]}"
    reply = await say(factory, worker, t, f"Хочу забронировать Байкал на двоих с {day}")
    assert reply["text"].startswith("Чтобы забронировать «Байкал»"), reply["text"]
    assert "ваше имя" in reply["text"] and "телефон или e-mail" in reply["text"]
    assert "дату" not in reply["text"] and "гостей" not in reply["text"]
    reply = await say(factory, worker, t, "Иван Петров")
    assert "телефон или e-mail" in reply["text"] and "ваше имя" not in reply["text"]
    reply = await say(factory, worker, t, "+7 900 123-45-67")
    assert reply["text"].startswith("Я оформил(а) заявку №"), reply["text"]
    assert "90\u00a0000 ₽" in reply["text"] and "предоплата 30%" in reply["text"]
    assert "удержание 50%. Детям до 12 лет скидка 20%. Заявка ожидает" in reply["text"]
    r = await client.get(f"{API}/bookings", headers=t.operator)
    (booking,) = r.json()["items"]
    assert booking["status"] == "pending" and booking["adults"] == 2
    assert booking["customer_name"] == "Иван Петров"
    assert booking["customer_phone"] == "+79001234567"
    assert booking["conversation_id"] == reply["conversation_id"]
    assert booking["contact_id"] is not None and booking["departure_id"] == departure["id"]
    # asked again, the AI points at the pending request instead of booking twice
    reply = await say(factory, worker, t, "Хочу забронировать ещё раз")
    assert f"№{booking['id']} уже ожидает" in reply["text"]


async def test_english_full_request_and_no_places(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, departure = await setup(factory, client)
    day = departure_day(departure, "%B %d")
    reply = await say(
        factory,
        worker,
        t,
        f"I'd like to book Baikal for 5 people on {day}, my name is John Smith, john@example.com",
        contact="john",
    )
    assert reply["text"].startswith("Sorry, 'Байкал' is not available then"), reply["text"]
    assert "more guests (5)" in reply["text"]
    reply = await say(factory, worker, t, "OK, 3 people then", contact="john")
    assert reply["text"].startswith("I have made booking request #"), reply["text"]
    assert "prepayment 30%" in reply["text"]
    r = await client.get(f"{API}/bookings", headers=t.operator)
    (booking,) = r.json()["items"]
    assert booking["locale"] == "en" and booking["customer_email"] == "john@example.com"
    assert booking["adults"] == 3


async def test_an_english_customer_names_a_russian_resource_in_latin_letters(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, departure = await setup(factory, client)
    await make_tour(client, t, name="Карелия", days=45)
    day = departure_day(departure, "%B %d")
    reply = await say(
        factory,
        worker,
        t,
        f"I'd like to book Baikal for 2 people on {day}, my name is John Smith, john@example.com",
        contact="john",
    )
    assert reply["text"].startswith("I have made booking request #"), reply["text"]
    assert "'Байкал'" in reply["text"]
    (booking,) = (await client.get(f"{API}/bookings", headers=t.operator)).json()["items"]
    assert booking["departure_id"] == departure["id"] and booking["locale"] == "en"
    # a request naming no resource still asks which one
    reply = await say(factory, worker, t, "I'd like to book a tour for two", contact="kate")
    assert reply["text"].startswith("What would you like to book?"), reply["text"]


async def test_without_auto_booking_the_general_triage_answers(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, _departure = await setup(factory, client)
    await client.put(f"{API}/ai/settings", json={"auto_booking": False}, headers=t.owner)
    reply = await say(factory, worker, t, "Хочу забронировать Байкал на двоих")
    assert "Чтобы забронировать" not in reply["text"]
    assert (await client.get(f"{API}/bookings", headers=t.operator)).json()["items"] == []
