"""Hourly bookings by the AI (a meeting room, a sauna booked by the hour): the offline and
the LLM flows read a time range ("завтра с 14 до 16", "tomorrow from 2 to 4 pm"), check the
hours are free, create the pending booking, or offer the free hours of that day. Every
booking turn is in the AI log like a model's turn: what it read, what it asked, the end."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from frontline.jobs.worker import Worker
from tests.ai.conftest import llm, llm_server  # noqa: F401 (fixtures)
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.bookings.helpers import API
from tests.bookings.test_ai_booking import say
from tests.conftest import Factory, TenantFixture

ZONE = "Europe/Moscow"


async def hourly(
    factory: Factory, client: httpx.AsyncClient, name: str = "Переговорная"
) -> tuple[TenantFixture, dict[str, Any]]:
    t = await factory.tenant(ai=True)
    r = await client.put(f"{API}/ai/settings", json={"auto_booking": True}, headers=t.owner)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/resources",
        json={"name": name, "kind": "room", "availability": "hourly", "capacity": 8,
              "price": "1500", "per_person": False, "timezone": ZONE},
        headers=t.owner,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return t, r.json()


def tomorrow_at(hour: int) -> datetime:
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


async def bookings(client: httpx.AsyncClient, t: TenantFixture) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/bookings", headers=t.operator)
    return list(r.json()["items"])


async def turn_log(client: httpx.AsyncClient, t: TenantFixture) -> list[dict[str, Any]]:
    """The booking turns in the AI log, oldest first, with their answers."""
    r = await client.get(f"{API}/ai/calls?provider=offline&limit=50", headers=t.owner)
    assert r.status_code == 200, r.text
    rows = [c for c in r.json()["items"] if c["model"] == "booking-rules"]
    full = []
    for call in reversed(rows):
        r = await client.get(f"{API}/ai/calls/{call['id']}", headers=t.owner)
        full.append({**r.json(), "answer": json.loads(r.json()["answer"])})
    return full


async def test_russian_hours_in_one_message_then_a_taken_slot_offers_free_hours(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, room = await hourly(factory, client)
    reply = await say(
        factory, worker, t,
        "Хочу забронировать переговорную завтра с 14 до 16, нас 4 человека, "
        "меня зовут Анна Смирнова, +7 900 111-22-33",
        contact="anna",
    )  # fmt: skip
    assert reply["text"].startswith("Я оформил(а) заявку №"), reply["text"]
    assert "14:00–16:00" in reply["text"] and "3\u00a0000 ₽" in reply["text"]
    (booking,) = await bookings(client, t)
    assert booking["status"] == "pending" and booking["resource_id"] == room["id"]
    assert datetime.fromisoformat(booking["starts_at"]) == tomorrow_at(14)
    assert datetime.fromisoformat(booking["ends_at"]) == tomorrow_at(16)
    assert booking["total_price"] == "3000.00" and booking["adults"] == 4

    # another customer wants 15-17: taken; the AI offers that day's free two-hour slots
    reply = await say(
        factory, worker, t,
        "Забронировать переговорную завтра с 15 до 17, нас двое, меня зовут Олег Иванов, "
        "oleg@example.com",
        contact="oleg",
    )  # fmt: skip
    text = reply["text"]
    assert text.startswith("К сожалению, «Переговорная»"), text
    assert "15:00–17:00 занят" in text
    free = text.split("Свободно в этот день:")[1]
    assert "16:00–18:00" in free and "14:00–16:00" not in free and "15:00–17:00" not in free
    assert "13:00–15:00" not in free and "12:00–14:00" in free
    assert len(await bookings(client, t)) == 1
    # the customer takes a free slot; the booking is made
    reply = await say(factory, worker, t, "Тогда с 16 до 18", contact="oleg")
    assert reply["text"].startswith("Я оформил(а) заявку №"), reply["text"]
    second = next(b for b in await bookings(client, t) if b["id"] != booking["id"])
    assert datetime.fromisoformat(second["starts_at"]) == tomorrow_at(16)
    assert second["customer_email"] == "oleg@example.com"

    log = await turn_log(client, t)
    assert [c["answer"]["result"] for c in log] == ["created", "busy", "created"]
    first = log[0]
    assert first["provider"] == "offline" and first["decision"] == "full_answer"
    assert first["answer"]["extracted"]["hours"] == "14:00–16:00"
    assert first["answer"]["extracted"]["people"] == "4"
    assert first["answer"]["booking_id"] == booking["id"]
    assert first["conversation_id"] == booking["conversation_id"]
    assert first["message_id"] is not None
    assert first["prompt"][-1]["role"] == "user" and "с 14 до 16" in first["prompt"][-1]["content"]


async def test_english_hours_asked_for_when_missing_and_logged(
    factory: Factory, client: httpx.AsyncClient, worker: Worker
) -> None:
    t, _room = await hourly(factory, client, name="Sauna")
    reply = await say(factory, worker, t, "I want to book the sauna tomorrow", contact="john")
    assert reply["text"].startswith("To book 'Sauna', please tell me"), reply["text"]
    assert "the time (from what hour till when)" in reply["text"]
    assert "how many guests" in reply["text"]
    reply = await say(factory, worker, t, "from 2 to 4 pm, 3 people", contact="john")
    assert "the time" not in reply["text"] and "how many" not in reply["text"], reply["text"]
    assert "your name" in reply["text"]
    reply = await say(
        factory, worker, t, "My name is John Smith, john@example.com", contact="john"
    )
    assert reply["text"].startswith("I have made booking request #"), reply["text"]
    (booking,) = await bookings(client, t)
    assert datetime.fromisoformat(booking["starts_at"]) == tomorrow_at(14)
    assert datetime.fromisoformat(booking["ends_at"]) == tomorrow_at(16)
    assert booking["locale"] == "en"

    log = await turn_log(client, t)
    assert [c["decision"] for c in log] == ["need_more_info", "need_more_info", "full_answer"]
    assert [c["answer"]["result"] for c in log] == ["ask", "ask", "created"]
    assert log[0]["answer"]["asked"] == ["time", "people", "name", "contact"]
    assert "hours" not in log[0]["answer"]["extracted"]
    assert log[1]["answer"]["asked"] == ["name", "contact"]
    assert log[1]["answer"]["extracted"]["hours"] == "14:00–16:00"
    assert log[2]["answer"]["draft_reply"] == reply["text"]


async def test_the_model_fills_hours_the_rules_cannot_read(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t, _room = await hourly(factory, client, name="Sauna")
    r = await client.put(
        f"{API}/ai/settings",
        json={"auto_booking": True,
              "provider_chain": [{"kind": "openai_compatible", "model": "m-1",
                                  "config": {"base_url": f"{llm.base}/openai/v1"}}]},
        headers=t.owner,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = {"resource": "Sauna", "date": None, "end_date": None, "start_time": "14:00",
            "end_time": "16:00", "adults": None, "name": None, "phone": None,
            "email": None}  # fmt: skip
    llm.script(OPENAI_PATH, Reply(json=openai_completion(json.dumps(body), model="m-1")))
    reply = await say(
        factory, worker, t,
        "please book the sauna tomorrow, starting at two in the afternoon for a couple of "
        "hours, 2 people, my name is Kate Brown, kate@example.com",
        contact="kate",
    )  # fmt: skip
    assert reply["text"].startswith("I have made booking request #"), reply["text"]
    (request,) = llm.requests_to(OPENAI_PATH)
    schema = request.json()["response_format"]["json_schema"]["schema"]
    assert {"start_time", "end_time"} <= set(schema["required"])
    (booking,) = await bookings(client, t)
    assert datetime.fromisoformat(booking["starts_at"]) == tomorrow_at(14)
    assert datetime.fromisoformat(booking["ends_at"]) == tomorrow_at(16)
    (turn,) = await turn_log(client, t)
    assert turn["answer"]["from_model"] == ["hours"]


async def test_a_model_time_range_that_is_not_one_is_dropped(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t, _room = await hourly(factory, client, name="Sauna")
    await client.put(
        f"{API}/ai/settings",
        json={"auto_booking": True,
              "provider_chain": [{"kind": "openai_compatible", "model": "m-1",
                                  "config": {"base_url": f"{llm.base}/openai/v1"}}]},
        headers=t.owner,
    )  # fmt: skip
    body = {"resource": "Sauna", "date": None, "end_date": None, "start_time": "16:00",
            "end_time": "25:00", "adults": 2, "name": None, "phone": None,
            "email": None}  # fmt: skip
    llm.script(OPENAI_PATH, Reply(json=openai_completion(json.dumps(body), model="m-1")))
    reply = await say(
        factory, worker, t,
        "book the sauna tomorrow in the afternoon, Kate Brown, kate@example.com",
        contact="kate",
    )  # fmt: skip
    assert "the time (from what hour till when)" in reply["text"], reply["text"]
    assert await bookings(client, t) == []
