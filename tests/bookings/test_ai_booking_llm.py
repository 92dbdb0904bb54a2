"""With a remote model first in the chain, the booking turn asks it for a structured
reading of the request (JSON Schema output, against the fake OpenAI-compatible server) and
uses only the fields that pass validation, to fill what the rules did not find."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from frontline.jobs.worker import Worker
from tests.ai.conftest import llm, llm_server  # noqa: F401 (fixtures)
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.bookings.helpers import API, make_tour, use_remote_model
from tests.bookings.test_ai_booking import say
from tests.conftest import Factory


def slots_reply(**values: Any) -> Reply:
    body = {"resource": None, "date": None, "end_date": None, "adults": None, "name": None,
            "phone": None, "email": None, **values}  # fmt: skip
    return Reply(json=openai_completion(json.dumps(body), model="m-1"))


async def test_the_model_fills_what_the_rules_miss_and_bad_fields_are_dropped(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t = await factory.tenant(ai=True)
    _, departure = await make_tour(client, t, capacity=6, days=40)
    await use_remote_model(client, t, llm.base, auto_booking=True)
    day = datetime.fromisoformat(departure["starts_at"]).astimezone(UTC) + timedelta(hours=8)
    # the customer's name is in lower case (the rules want capitals); the model also
    # claims a phone that is not one and a past date: both are dropped
    llm.script(
        OPENAI_PATH,
        slots_reply(resource="Байкал", name="john smith", phone="call me", adults=2,
                    date="2001-01-01"),
    )  # fmt: skip
    text = f"please book baikal on {day:%B %d} for 2 people, john smith, john@example.com"
    reply = await say(factory, worker, t, text, contact="john")
    assert reply["text"].startswith("I have made booking request #"), reply["text"]
    (request,) = llm.requests_to(OPENAI_PATH)
    sent = request.json()
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "booking_request"
    assert "Bookable: Байкал" in sent["messages"][0]["content"]
    (booking,) = (await client.get(f"{API}/bookings", headers=t.operator)).json()["items"]
    assert booking["customer_name"] == "john smith"  # from the model, validated
    assert booking["customer_phone"] is None  # "call me" was refused
    assert booking["customer_email"] == "john@example.com"
    assert booking["starts_at"][:10] == departure["starts_at"][:10]  # the customer's date
    # the structured call is in the AI call log, with what the model answered
    calls = (await client.get(f"{API}/ai/calls", headers=t.owner)).json()["items"]
    (call,) = [c for c in calls if c["decision"] == "booking_request"]
    assert call["provider"] == "openai_compatible" and "john smith" in call["answer"]


async def test_a_model_answer_that_is_not_json_changes_nothing(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t = await factory.tenant(ai=True)
    await make_tour(client, t, days=40)
    await use_remote_model(client, t, llm.base, auto_booking=True)
    llm.script(OPENAI_PATH, Reply(json=openai_completion("Sure! Booked it.", model="m-1")))
    reply = await say(factory, worker, t, "I want to book Baikal", contact="kate")
    assert reply["text"].startswith("To book 'Байкал', please tell me the date"), reply["text"]
    assert (await client.get(f"{API}/bookings", headers=t.operator)).json()["items"] == []
