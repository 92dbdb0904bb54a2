"""Conversation tags: admins keep the tenant's tags, operators put them on conversations,
the inbox filters by tag; bad input is a clear 4xx."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Factory, TenantFixture

API = "/api/v1"


async def make_tag(factory: Factory, t: TenantFixture, name: str, color: str) -> dict[str, Any]:
    r = await factory.client.post(
        f"{API}/tags", json={"name": name, "color": color}, headers=t.owner
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_admins_manage_tags_and_operators_tag_conversations(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    vip = await make_tag(factory, t, "VIP", "#D97706")
    refund = await make_tag(factory, t, "refund", "#dc2626")
    assert vip["color"] == "#d97706"
    r = await c.get(f"{API}/tags", headers=t.operator)
    assert [x["name"] for x in r.json()] == ["VIP", "refund"]

    # operators read tags but do not create or delete them
    r = await c.post(f"{API}/tags", json={"name": "x"}, headers=t.operator)
    assert r.status_code == 403
    r = await c.delete(f"{API}/tags/{vip['id']}", headers=t.operator)
    assert r.status_code == 403

    one = (await factory.inbound(t, contact="alice", text="I want my money back"))[
        "conversation_id"
    ]
    two = (await factory.inbound(t, contact="bob", text="Hello"))["conversation_id"]
    r = await c.put(
        f"{API}/conversations/{one}/tags",
        json={"tag_ids": [refund["id"], vip["id"], vip["id"]]},
        headers=t.operator,
    )
    assert r.status_code == 200, r.text
    assert [x["name"] for x in r.json()] == ["VIP", "refund"]
    r = await c.put(
        f"{API}/conversations/{two}/tags", json={"tag_ids": [vip["id"]]}, headers=t.operator
    )
    assert r.status_code == 200, r.text

    r = await c.get(f"{API}/conversations/{one}/tags", headers=t.operator)
    assert {x["id"] for x in r.json()} == {vip["id"], refund["id"]}
    detail = (await c.get(f"{API}/conversations/{one}", headers=t.operator)).json()
    assert [x["name"] for x in detail["tags"]] == ["VIP", "refund"]

    # the inbox filters by tag, and each row carries its tags
    r = await c.get(f"{API}/conversations", params={"tag_id": refund["id"]}, headers=t.operator)
    assert [x["id"] for x in r.json()["items"]] == [one]
    r = await c.get(f"{API}/conversations", params={"tag_id": vip["id"]}, headers=t.operator)
    rows = {x["id"]: x for x in r.json()["items"]}
    assert set(rows) == {one, two}
    assert [x["name"] for x in rows[two]["tags"]] == ["VIP"]

    # removing: PUT the smaller set
    r = await c.put(
        f"{API}/conversations/{one}/tags", json={"tag_ids": [vip["id"]]}, headers=t.operator
    )
    assert [x["name"] for x in r.json()] == ["VIP"]
    r = await c.get(f"{API}/conversations", params={"tag_id": refund["id"]}, headers=t.operator)
    assert r.json()["items"] == []

    # deleting a tag takes it off every conversation
    r = await c.delete(f"{API}/tags/{vip['id']}", headers=t.owner)
    assert r.status_code == 204
    r = await c.get(f"{API}/conversations/{two}/tags", headers=t.operator)
    assert r.json() == []
    r = await c.delete(f"{API}/tags/{vip['id']}", headers=t.owner)
    assert r.status_code == 404


async def test_bad_tag_input_is_a_clear_4xx(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    await make_tag(factory, t, "VIP", "#000000")
    r = await c.post(f"{API}/tags", json={"name": " VIP "}, headers=t.owner)
    assert r.status_code == 409
    assert "already exists" in r.text
    for body in ({"name": "x", "color": "red"}, {"name": ""}, {"name": "x" * 51}, {}):
        r = await c.post(f"{API}/tags", json=body, headers=t.owner)
        assert r.status_code == 422, body
    r = await c.post(f"{API}/tags", json={"name": "   "}, headers=t.owner)
    assert r.status_code == 422
    conversation = (await factory.inbound(t, contact="alice", text="Hi"))["conversation_id"]
    unknown = str(uuid.uuid4())
    r = await c.put(
        f"{API}/conversations/{conversation}/tags", json={"tag_ids": [unknown]}, headers=t.operator
    )
    assert r.status_code == 422
    assert unknown in r.text
    r = await c.put(
        f"{API}/conversations/{conversation}/tags", json={"tag_ids": ["nope"]}, headers=t.operator
    )
    assert r.status_code == 422
    r = await c.put(f"{API}/conversations/999999999/tags", json={"tag_ids": []}, headers=t.operator)
    assert r.status_code == 404
    r = await c.get(f"{API}/conversations", params={"tag_id": "nope"}, headers=t.operator)
    assert r.status_code == 422


async def test_another_tenants_tags_are_unknown(factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = factory.client
    a_tag = await make_tag(factory, a, "A secret", "#111111")
    b_conversation = (await factory.inbound(b, contact="bob", text="Hi"))["conversation_id"]
    a_conversation = (await factory.inbound(a, contact="al", text="Hi"))["conversation_id"]
    r = await c.put(
        f"{API}/conversations/{a_conversation}/tags",
        json={"tag_ids": [a_tag["id"]]},
        headers=a.operator,
    )
    assert r.status_code == 200
    # B cannot put A's tag on its own conversation, nor see or delete it
    r = await c.put(
        f"{API}/conversations/{b_conversation}/tags",
        json={"tag_ids": [a_tag["id"]]},
        headers=b.operator,
    )
    assert r.status_code == 422
    assert (await c.get(f"{API}/tags", headers=b.owner)).json() == []
    r = await c.delete(f"{API}/tags/{a_tag['id']}", headers=b.owner)
    assert r.status_code == 404
    r = await c.get(f"{API}/conversations", params={"tag_id": a_tag["id"]}, headers=b.operator)
    assert r.json()["items"] == []
    # nor read or change the tags of A's conversation
    r = await c.get(f"{API}/conversations/{a_conversation}/tags", headers=b.operator)
    assert r.status_code == 404
    r = await c.put(
        f"{API}/conversations/{a_conversation}/tags", json={"tag_ids": []}, headers=b.operator
    )
    assert r.status_code == 404
    r = await c.get(f"{API}/conversations/{a_conversation}/tags", headers=a.operator)
    assert [x["name"] for x in r.json()] == ["A secret"]
