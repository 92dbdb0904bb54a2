"""Canned replies through the API on both databases: admins manage them, operators read
and search them, titles are unique per tenant, bad input is a 4xx, and no tenant sees or
touches another's."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Factory

API = "/api/v1/canned-replies"


@pytest.mark.usefixtures("backend")
async def test_manage_search_and_isolate_canned_replies(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    c = factory.client
    r = await c.post(
        API, headers=t.owner, json={"title": "Оплата", "text": "Оплатить можно картой."}
    )
    assert r.status_code == 201, r.text
    pay = r.json()
    r = await c.post(API, headers=t.owner, json={"title": "Hours", "text": "We work 9 to 18."})
    hours = r.json()
    # operators read, never write
    r = await c.post(API, headers=t.operator, json={"title": "X", "text": "y"})
    assert r.status_code == 403
    r = await c.get(API, headers=t.operator)
    assert [x["title"] for x in r.json()] == ["Hours", "Оплата"]
    r = await c.get(API, params={"q": "КАРТ"}, headers=t.operator)
    assert [x["id"] for x in r.json()] == [pay["id"]]
    r = await c.get(API, params={"q": "hours"}, headers=t.operator)
    assert [x["id"] for x in r.json()] == [hours["id"]]
    # unique title per tenant; the other tenant may use it
    r = await c.post(API, headers=t.owner, json={"title": "Оплата", "text": "again"})
    assert r.status_code == 409
    r = await c.post(API, headers=other.owner, json={"title": "Оплата", "text": "their own"})
    assert r.status_code == 201
    # edit
    r = await c.patch(f"{API}/{pay['id']}", headers=t.owner, json={"text": "Картой или по счёту."})
    assert r.status_code == 200 and r.json()["text"] == "Картой или по счёту."
    r = await c.patch(f"{API}/{pay['id']}", headers=t.owner, json={"title": "Hours"})
    assert r.status_code == 409
    # bad input
    for body in (
        {"title": "", "text": "x"},
        {"title": "x"},
        {"title": "x" * 101, "text": "y"},
        {"title": "   ", "text": "y"},
        {"title": "a", "text": "b", "extra": 1},
    ):
        r = await c.post(API, headers=t.owner, json=body)
        assert r.status_code == 422, (body, r.text)
    r = await c.patch(f"{API}/not-a-uuid", headers=t.owner, json={"text": "x"})
    assert r.status_code == 422
    # another tenant can neither see, edit nor delete ours
    assert [x["text"] for x in (await c.get(API, headers=other.owner)).json()] == ["their own"]
    r = await c.patch(f"{API}/{pay['id']}", headers=other.owner, json={"text": "hacked"})
    assert r.status_code == 404
    r = await c.delete(f"{API}/{pay['id']}", headers=other.owner)
    assert r.status_code == 404
    r = await c.delete(f"{API}/{pay['id']}", headers=t.owner)
    assert r.status_code == 204
    r = await c.delete(f"{API}/{uuid.uuid4()}", headers=t.owner)
    assert r.status_code == 404
    assert [x["title"] for x in (await c.get(API, headers=t.owner)).json()] == ["Hours"]
