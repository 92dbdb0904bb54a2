"""The booking turn's structured reading by a remote model is given up after
``FRONTLINE_AI_PROVIDER_TIMEOUT_SECONDS`` like every other model call, not after the
request's 30 s default: a hung model does not keep the customer waiting."""

from __future__ import annotations

import httpx
import pytest

from frontline.jobs.worker import Worker
from frontline.settings import Settings
from tests.ai.conftest import llm, llm_server  # noqa: F401 (fixtures)
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import answer
from tests.bookings.helpers import API, make_tour, use_remote_model
from tests.bookings.test_ai_booking import say
from tests.conftest import Factory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ai_provider_timeout_seconds": 1.0})


async def test_a_hung_model_is_given_up_on_the_booking_reading_too(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t = await factory.tenant(ai=True)
    await make_tour(client, t, days=40)
    await use_remote_model(client, t, llm.base, auto_booking=True)
    for _ in range(3):  # the booking reading, then the turn's own calls: all hang
        hung = answer("full_answer", "Booked.")
        hung.delay = 30.0
        llm.script(OPENAI_PATH, hung)
    await say(factory, worker, t, "I want to book Baikal for 2 people", contact="kate")
    calls = (await client.get(f"{API}/ai/calls", headers=t.owner)).json()["items"]
    (reading,) = [c for c in calls if c["decision"] == "booking_request"]
    assert reading["provider"] == "openai_compatible"
    assert (reading["error"] or "").startswith("Timeout"), reading["error"]
    assert reading["latency_ms"] < 10_000, reading["latency_ms"]
