"""A customer's own bookings: the profile panel's list (upcoming and recent, another tenant's
contact 404), and for an identified customer the AI's context: the offline engine answers
"when is my tour?" from their booking, and a remote model gets the bookings in the prompt as
delimited data (an anonymous customer's prompt has none)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from frontline.deps import Services
from frontline.jobs.worker import Worker
from tests.ai.conftest import llm, llm_server  # noqa: F401 (fixtures)
from tests.ai.fakes import OPENAI_PATH, FakeLLMServer
from tests.ai.test_ai_reply import use_fake_llm
from tests.bookings.helpers import API, book, future, make_house, make_tour
from tests.conftest import Factory, TenantFixture
from tests.contacts.test_profiles import _answer
from tests.customers.test_customer_api import mint, web_channel


async def _identified(
    factory: Factory, services: Services, client: httpx.AsyncClient, t: TenantFixture
) -> tuple[dict[str, str], int, str]:
    """A signed-in customer of the host site with one conversation: (headers, id, contact)."""
    web = await web_channel(services, t)
    me = mint(web, "u-501")
    r = await client.post("/api/v1/customer/conversations", headers=me, json={"text": "Привет"})
    assert r.status_code == 201, r.text
    cid = r.json()["conversation_id"]
    r = await client.get(f"{API}/conversations/{cid}", headers=t.operator)
    return me, cid, r.json()["contact_id"]


async def _tour_booked(
    client: httpx.AsyncClient, t: TenantFixture, cid: int, adults: int
) -> dict[str, Any]:
    """A Baikal tour departing in 25 days, booked in conversation ``cid``."""
    tour, departure = await make_tour(client, t, name="Байкал", days=25)
    r = await book(
        client,
        t,
        resource_id=tour["id"],
        departure_id=departure["id"],
        adults=adults,
        customer_name="Ольга",
        conversation_id=cid,
    )
    assert r.status_code == 201, r.text
    booking: dict[str, Any] = r.json()
    return booking


async def _ask(client: httpx.AsyncClient, me: dict[str, str], cid: int, text: str) -> None:
    r = await client.post(
        f"/api/v1/customer/conversations/{cid}/messages", headers=me, json={"text": text}
    )
    assert r.status_code in (200, 201), r.text


async def _reply_to(client: httpx.AsyncClient, me: dict[str, str], cid: int) -> str:
    r = await client.get(f"/api/v1/customer/conversations/{cid}/messages", headers=me)
    assert r.status_code == 200, r.text
    ai = [m["text"] for m in r.json()["items"] if m["sender_type"] == "ai"]
    return ai[-1]


async def test_the_profile_lists_upcoming_and_recent_bookings_of_that_contact_only(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    _me, cid, contact_id = await _identified(factory, services, client, t)
    tour, departure = await make_tour(client, t, days=20)
    house = await make_house(client, t)
    near = await book(
        client,
        t,
        resource_id=tour["id"],
        departure_id=departure["id"],
        adults=2,
        customer_name="Ольга",
        conversation_id=cid,
    )
    assert near.status_code == 201, near.text
    later = await book(
        client,
        t,
        resource_id=house["id"],
        starts_at=future(40),
        ends_at=future(43),
        adults=2,
        customer_name="Ольга",
        conversation_id=cid,
    )
    assert later.status_code == 201, later.text
    # someone else's booking is not hers
    other = await factory.inbound(t, contact="someone", text="hi")
    r = await book(
        client,
        t,
        resource_id=house["id"],
        starts_at=future(50),
        ends_at=future(52),
        adults=1,
        conversation_id=other["conversation_id"],
    )
    assert r.status_code == 201, r.text
    r = await client.get(f"{API}/contacts/{contact_id}/bookings", headers=t.operator)
    assert r.status_code == 200, r.text
    found = r.json()
    assert [b["id"] for b in found["upcoming"]] == [near.json()["id"], later.json()["id"]]
    assert [b["resource_name"] for b in found["upcoming"]] == [tour["name"], house["name"]]
    assert found["recent"] == []
    # the list API filters by contact too
    r = await client.get(f"{API}/bookings?contact_id={contact_id}", headers=t.operator)
    assert sorted(b["id"] for b in r.json()["items"]) == [near.json()["id"], later.json()["id"]]
    # another tenant's operator cannot read them
    other_tenant = await factory.tenant()
    r = await client.get(f"{API}/contacts/{contact_id}/bookings", headers=other_tenant.operator)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_the_offline_engine_answers_when_is_my_tour_from_the_customers_booking(
    factory: Factory, services: Services, client: httpx.AsyncClient, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    me, cid, _contact = await _identified(factory, services, client, t)
    await worker.run_until_idle()
    booking = await _tour_booked(client, t, cid, adults=3)
    r = await client.post(f"{API}/bookings/{booking['id']}/confirm", headers=t.operator)
    assert r.status_code == 200, r.text
    await _ask(client, me, cid, "Когда мой тур?")
    await worker.run_until_idle()
    reply = await _reply_to(client, me, cid)
    starts = (future(25)).strftime("%d.%m.%Y")
    assert f"№{booking['id']}" in reply and "Байкал" in reply, reply
    assert starts in reply and "гостей: 3" in reply and "подтверждено" in reply, reply


async def test_an_anonymous_customer_asking_the_same_gets_no_one_elses_booking(
    factory: Factory, services: Services, client: httpx.AsyncClient, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    _me, cid, _contact = await _identified(factory, services, client, t)
    booking_id = (await _tour_booked(client, t, cid, adults=3))["id"]
    sent = await factory.inbound(t, contact="anon-1", text="Когда мой тур?")
    await worker.run_until_idle()
    r = await client.get(f"{API}/conversations/{sent['conversation_id']}", headers=t.operator)
    texts = [m["text"] for m in r.json()["messages"] if m["sender_type"] == "ai"]
    assert not any(f"№{booking_id}" in x for x in texts)
    assert not any("гостей: 3" in x for x in texts)


def _prompt(server: FakeLLMServer) -> str:
    request = server.requests_to(OPENAI_PATH)[-1]
    content: Any = request.json()["messages"][-1]["content"]
    return str(content)


async def test_a_remote_model_gets_the_identified_customers_bookings_as_data(
    factory: Factory,
    services: Services,
    client: httpx.AsyncClient,
    worker: Worker,
    llm: FakeLLMServer,  # noqa: F811
) -> None:
    t = await factory.tenant(ai=True)
    me, cid, _contact = await _identified(factory, services, client, t)
    await worker.run_until_idle()
    await use_fake_llm(factory, t, llm)
    booking = await _tour_booked(client, t, cid, adults=2)
    llm.script(OPENAI_PATH, _answer("Ваш тур начинается скоро."))
    await _ask(client, me, cid, "Когда мой тур?")
    await worker.run_until_idle()
    prompt = _prompt(llm)
    start = prompt.index('<<<DATA kind="business_data" title="The customer\'s own bookings"')
    block = prompt[start : prompt.index("<<<END DATA>>>", start)]
    local = (future(25) + timedelta(hours=8)).strftime("%Y-%m-%d")  # Asia/Irkutsk
    assert f"booking #{booking['id']} 'Байкал'" in block and local in block
    assert "2 guests" in block and "status pending" in block and "upcoming" in block
    assert await _reply_to(client, me, cid) == "Ваш тур начинается скоро."
    # an anonymous customer's prompt carries no bookings
    llm.reset()
    llm.script(OPENAI_PATH, _answer("Здравствуйте!"))
    await factory.inbound(t, contact="anon-2", text="Когда мой тур?")
    await worker.run_until_idle()
    assert "own bookings" not in _prompt(llm)


async def test_a_merge_brings_the_merged_contacts_bookings_along(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    _me, _cid, identified = await _identified(factory, services, client, t)
    anonymous = await factory.inbound(t, contact="before-sign-in", text="Хочу на Байкал")
    booking = await _tour_booked(client, t, anonymous["conversation_id"], adults=2)
    source = booking["contact_id"]
    r = await client.post(
        f"{API}/contacts/{identified}/merge",
        headers=t.operator,
        json={"source_contact_id": source},
    )
    assert r.status_code == 200, r.text
    found = (await client.get(f"{API}/contacts/{identified}/bookings", headers=t.operator)).json()
    assert [b["id"] for b in found["upcoming"]] == [booking["id"]]
    [merge] = (await client.get(f"{API}/contacts/{identified}/merges", headers=t.operator)).json()
    assert merge["summary"]["bookings"] == 1
