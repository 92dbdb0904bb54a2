"""Live business data reaches a remote model's prompt: the tenant's resources, their
conditions and next departures with free places and prices - and no other tenant's."""

from __future__ import annotations

import json

import httpx

from frontline.jobs.worker import Worker
from tests.ai.conftest import llm, llm_server  # noqa: F401 (fixtures)
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer, Reply, openai_completion
from tests.bookings.helpers import book, make_tour, use_remote_model
from tests.conftest import Factory


async def test_the_prompt_carries_resources_departures_and_free_places(
    factory: Factory,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t = await factory.tenant(ai=True)
    other = await factory.tenant()
    await make_tour(client, other, name="Камчатка")
    resource, departure = await make_tour(
        client, t, capacity=12, template={"name": "T", "prepayment_percent": 30}
    )
    await book(client, t, resource_id=resource["id"], departure_id=departure["id"], adults=3)
    await use_remote_model(client, t, llm.base)
    body = {"full_name": None, "issue_summary": "места", "decision": "full_answer",
            "draft_reply": "Есть 9 мест.", "language": "ru", "citations": [],
            "handoff_reason": None}  # fmt: skip
    llm.script(OPENAI_PATH, Reply(json=openai_completion(json.dumps(body), model="m-1")))
    await factory.inbound(t, text="Есть места на Байкал?")
    await worker.run_until_idle()
    (request,) = llm.requests_to(OPENAI_PATH)
    prompt = "\n".join(m["content"] for m in request.json()["messages"])
    assert "Bookable resources" in prompt
    assert "- Байкал (tour): 45000.00 RUB per person; up to 12 guests." in prompt
    assert "9 of 12 places free" in prompt
    assert "предоплата 30%" in prompt
    assert "Камчатка" not in prompt
