"""The staff's conversations (tickets) API: listing and filters, pagination, assignment,
ticket fields, replies and internal notes; categories."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from frontline import events
from frontline.kit.crypto import sign
from frontline.models import Job
from tests.conftest import Factory, TenantFixture

API = "/api/v1"


async def listing(client: httpx.AsyncClient, t: TenantFixture, **params: Any) -> list[int]:
    r = await client.get(f"{API}/conversations", params=params, headers=t.operator)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def get(client: httpx.AsyncClient, t: TenantFixture, conversation_id: int) -> dict[str, Any]:
    r = await client.get(f"{API}/conversations/{conversation_id}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def patch(
    client: httpx.AsyncClient, t: TenantFixture, conversation_id: int, **body: Any
) -> httpx.Response:
    return await client.patch(
        f"{API}/conversations/{conversation_id}", json=body, headers=t.operator
    )


async def email_inbound(
    factory: Factory, t: TenantFixture, *, sender: str, subject: str, text: str
) -> dict[str, Any]:
    raw = json.dumps(
        {
            "from": sender,
            "subject": subject,
            "text": text,
            "message_id": f"<{uuid.uuid4().hex}@mail>",
        }
    ).encode()
    r = await factory.client.post(
        f"{API}/webhooks/email/{t.email_channel_id}",
        content=raw,
        headers={
            "X-Frontline-Signature": sign(t.email_channel_secret, raw),
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 202, r.text
    data: dict[str, Any] = r.json()
    return data


async def delivery_jobs(factory: Factory) -> int:
    async with factory.services.db.transaction() as s:
        stmt = select(func.count()).select_from(Job).where(Job.kind == events.JOB_DELIVER_MESSAGE)
        return int((await s.execute(stmt)).scalar_one())


# --- get ------------------------------------------------------------------------------


async def test_get_one_with_its_messages(factory: Factory) -> None:
    t = await factory.tenant()
    first = await factory.inbound(t, contact="ivan", text="Здравствуйте!")
    second = await factory.inbound(t, contact="ivan", text="Есть свободные места?")
    assert second["conversation_id"] == first["conversation_id"]
    c = await get(factory.client, t, first["conversation_id"])
    assert c["id"] == first["conversation_id"]
    assert c["channel_id"] == t.api_channel_id
    assert c["status"] == "pending"  # no AI yet: waits for an operator
    assert c["priority"] == "normal"
    assert c["assignee_id"] is None and c["category_id"] is None and c["resolved_at"] is None
    assert [m["text"] for m in c["messages"]] == ["Здравствуйте!", "Есть свободные места?"]
    assert [m["id"] for m in c["messages"]] == [first["message_id"], second["message_id"]]
    assert {m["sender_type"] for m in c["messages"]} == {"contact"}
    assert {m["delivery_status"] for m in c["messages"]} == {"received"}

    contact = await factory.client.get(f"{API}/contacts/{c['contact_id']}", headers=t.operator)
    assert contact.status_code == 200
    assert contact.json()["identities"] == [{"channel_id": t.api_channel_id, "external_id": "ivan"}]

    r = await factory.client.get(
        f"{API}/conversations/{c['id']}/messages",
        params={"after_id": first["message_id"]},
        headers=t.operator,
    )
    assert [m["id"] for m in r.json()] == [second["message_id"]]
    r = await factory.client.get(f"{API}/conversations/987654", headers=t.operator)
    assert r.status_code == 404


# --- listing and filters ---------------------------------------------------------------


async def test_list_filters(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    ids = [
        (await factory.inbound(t, contact=f"c{i}", text=f"message {i}"))["conversation_id"]
        for i in range(4)
    ]
    mail = await email_inbound(
        factory, t, sender="anna@example.com", subject="Invoice", text="Please"
    )
    ids.append(mail["conversation_id"])
    a, b, c2, d, e = ids
    r = await c.post(f"{API}/categories", json={"name": "Billing"}, headers=t.owner)
    billing = r.json()["id"]

    assert (
        await c.post(
            f"{API}/conversations/{a}/assign",
            json={"assignee_id": str(t.operator_id)},
            headers=t.operator,
        )
    ).status_code == 200
    assert (
        await c.post(
            f"{API}/conversations/{b}/assign",
            json={"assignee_id": str(t.owner_id)},
            headers=t.operator,
        )
    ).status_code == 200
    assert (await patch(c, t, c2, priority="urgent", category_id=billing)).status_code == 200
    assert (await patch(c, t, d, status="resolved", priority="low")).status_code == 200
    assert (await patch(c, t, e, category_id=billing)).status_code == 200

    assert set(await listing(c, t)) == set(ids)
    assert set(await listing(c, t, status="open")) == {a, b}
    assert set(await listing(c, t, status="pending")) == {c2, e}
    assert set(await listing(c, t, status=["pending", "resolved"])) == {c2, d, e}
    assert await listing(c, t, assignee="me") == [a]
    assert set(await listing(c, t, assignee="none")) == {c2, d, e}
    assert await listing(c, t, assignee=str(t.owner_id)) == [b]
    assert await listing(c, t, assignee=str(uuid.uuid4())) == []
    assert await listing(c, t, priority="urgent") == [c2]
    assert set(await listing(c, t, priority=["urgent", "low"])) == {c2, d}
    assert set(await listing(c, t, category_id=billing)) == {c2, e}
    assert await listing(c, t, channel_id=t.email_channel_id) == [e]
    assert set(await listing(c, t, channel_id=t.api_channel_id)) == {a, b, c2, d}
    # filters combine
    assert await listing(c, t, category_id=billing, priority="urgent") == [c2]
    assert (
        await listing(c, t, category_id=billing, channel_id=t.api_channel_id, status="resolved")
        == []
    )

    # "me" for the owner is the owner
    r = await c.get(f"{API}/conversations", params={"assignee": "me"}, headers=t.owner)
    assert [x["id"] for x in r.json()["items"]] == [b]


async def test_text_search_over_messages_and_subject(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    house = (await factory.inbound(t, contact="p1", text="Хочу забронировать ДОМИК у озера"))[
        "conversation_id"
    ]
    tour = (await factory.inbound(t, contact="p2", text="Сколько стоит тур на Эльбрус?"))[
        "conversation_id"
    ]
    english = (await factory.inbound(t, contact="p3", text="Is the Lake House free in May?"))[
        "conversation_id"
    ]
    mail = await email_inbound(
        factory,
        t,
        sender="olga@example.com",
        subject="Бронирование: Домик №3",
        text="См. тему письма",
    )
    subject_only = mail["conversation_id"]
    patched = (await factory.inbound(t, contact="p4", text="no keywords here"))["conversation_id"]
    assert (await patch(c, t, patched, subject="Жалоба на уборку")).status_code == 200

    assert set(await listing(c, t, q="домик")) == {
        house,
        subject_only,
    }  # case-insensitive, Cyrillic
    assert set(await listing(c, t, q="Домик")) == {house, subject_only}
    assert await listing(c, t, q="ЭЛЬБРУС") == [tour]
    assert await listing(c, t, q="lake house") == [english]
    assert await listing(c, t, q="уборку") == [patched]  # the subject alone
    assert await listing(c, t, q="№3") == [subject_only]
    assert await listing(c, t, q="яхта") == []
    # LIKE wildcards in the query are literal characters
    assert await listing(c, t, q="%") == []
    assert await listing(c, t, q="_") == []
    # search and filters combine
    assert await listing(c, t, q="домик", channel_id=t.email_channel_id) == [subject_only]


async def test_cursor_pagination_returns_every_conversation_once_in_activity_order(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    created = [(await factory.inbound(t, contact=f"page-{i}"))["conversation_id"] for i in range(7)]
    # activity moves a conversation up: write again in the oldest one
    await factory.inbound(t, contact="page-0", text="any news?")
    expected = [created[0], *reversed(created[1:])]

    seen: list[int] = []
    activity: list[tuple[datetime, int]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = await factory.client.get(f"{API}/conversations", params=params, headers=t.operator)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        activity += [
            (datetime.fromisoformat(i["last_activity_at"]), i["id"]) for i in page["items"]
        ]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert seen == expected
    assert activity == sorted(activity, reverse=True)

    # a page of exactly the remaining items has no next cursor
    r = await factory.client.get(f"{API}/conversations", params={"limit": 7}, headers=t.operator)
    assert len(r.json()["items"]) == 7 and r.json()["next_cursor"] is None
    # the cursor works with filters too
    r = await factory.client.get(
        f"{API}/conversations", params={"limit": 2, "status": "pending"}, headers=t.operator
    )
    first = r.json()
    r = await factory.client.get(
        f"{API}/conversations",
        params={"limit": 10, "status": "pending", "cursor": first["next_cursor"]},
        headers=t.operator,
    )
    assert [i["id"] for i in first["items"]] + [i["id"] for i in r.json()["items"]] == expected


# --- assignment, ticket fields, states -------------------------------------------------


async def test_assign_and_unassign(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    c = factory.client
    cid = (await factory.inbound(t))["conversation_id"]
    url = f"{API}/conversations/{cid}/assign"

    r = await c.post(url, json={"assignee_id": str(t.operator_id)}, headers=t.owner)
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == str(t.operator_id) and r.json()["status"] == "open"

    for stranger in (other.owner_id, uuid.uuid4()):
        r = await c.post(url, json={"assignee_id": str(stranger)}, headers=t.owner)
        assert r.status_code == 422, r.text
        assert "member" in r.json()["error"]["message"]
    assert (await get(c, t, cid))["assignee_id"] == str(t.operator_id)

    # reassigning keeps it open
    r = await c.post(url, json={"assignee_id": str(t.owner_id)}, headers=t.operator)
    assert r.json()["assignee_id"] == str(t.owner_id) and r.json()["status"] == "open"

    r = await c.post(url, json={"assignee_id": None}, headers=t.operator)
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] is None and r.json()["status"] == "pending"

    r = await c.post(url, json={}, headers=t.operator)
    assert r.status_code == 422  # the field is required (null to unassign)


async def test_patch_status_priority_category(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    cid = (await factory.inbound(t))["conversation_id"]
    category = (await c.post(f"{API}/categories", json={"name": "Туры"}, headers=t.owner)).json()

    r = await patch(c, t, cid, priority="high", category_id=category["id"], subject="Тур на Алтай")
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["priority"], data["category_id"], data["subject"]) == (
        "high",
        category["id"],
        "Тур на Алтай",
    )
    assert data["status"] == "pending"

    r = await patch(c, t, cid, category_id=str(uuid.uuid4()))
    assert r.status_code == 422, r.text
    assert "category" in r.json()["error"]["message"]
    assert (await get(c, t, cid))["category_id"] == category["id"]

    # opening needs an assignee
    r = await patch(c, t, cid, status="open")
    assert r.status_code == 422, r.text

    r = await patch(c, t, cid, status="resolved")
    assert r.status_code == 200, r.text
    resolved = r.json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert datetime.fromisoformat(resolved["resolved_at"]) >= datetime.fromisoformat(
        resolved["created_at"]
    )

    # clearing the category; other fields stay
    r = await patch(c, t, cid, category_id=None)
    assert r.json()["category_id"] is None and r.json()["status"] == "resolved"
    assert r.json()["priority"] == "high"

    r = await patch(c, t, cid, status="pending")
    assert r.json()["status"] == "pending" and r.json()["resolved_at"] is None

    # deleting a category clears it from its conversations
    await patch(c, t, cid, category_id=category["id"])
    assert (
        await c.delete(f"{API}/categories/{category['id']}", headers=t.owner)
    ).status_code == 204
    assert (await get(c, t, cid))["category_id"] is None


async def test_a_customer_message_reopens_a_resolved_conversation(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    cid = (await factory.inbound(t, contact="back-again"))["conversation_id"]
    await c.post(
        f"{API}/conversations/{cid}/assign",
        json={"assignee_id": str(t.operator_id)},
        headers=t.operator,
    )
    assert (await patch(c, t, cid, status="resolved")).json()["status"] == "resolved"
    before = await get(c, t, cid)

    again = await factory.inbound(t, contact="back-again", text="Ещё вопрос")
    assert again["conversation_id"] == cid
    after = await get(c, t, cid)
    assert after["status"] == "pending"  # no AI yet: back to the operator queue
    assert after["resolved_at"] is None
    assert after["assignee_id"] is None
    assert datetime.fromisoformat(after["last_activity_at"]) > datetime.fromisoformat(
        before["last_activity_at"]
    )
    assert after["messages"][-1]["text"] == "Ещё вопрос"
    assert await listing(c, t, status="pending") == [cid]


# --- replies and notes -----------------------------------------------------------------


async def test_operator_reply(factory: Factory) -> None:
    # a channel that pushes replies (a callback URL): each reply gets a delivery job
    t = await factory.tenant(callback_url="http://127.0.0.1:9/hook")
    c = factory.client
    cid = (await factory.inbound(t))["conversation_id"]
    jobs = await delivery_jobs(factory)

    r = await c.post(
        f"{API}/conversations/{cid}/messages",
        json={"text": "Добрый день! Чем помочь?"},
        headers=t.operator,
    )
    assert r.status_code == 201, r.text
    message = r.json()
    assert message["sender_type"] == "operator"
    assert message["author_id"] == str(t.operator_id)
    assert message["delivery_status"] == "queued"
    assert message["is_internal"] is False
    assert message["conversation_id"] == cid and message["channel_id"] == t.api_channel_id

    conversation = await get(c, t, cid)
    assert conversation["status"] == "open"
    assert conversation["assignee_id"] == str(t.operator_id)
    assert conversation["messages"][-1]["id"] == message["id"]
    assert await delivery_jobs(factory) == jobs + 1  # its delivery, in the same transaction

    # another operator's reply does not steal the conversation
    r = await c.post(f"{API}/conversations/{cid}/messages", json={"text": "+1"}, headers=t.owner)
    assert r.status_code == 201
    assert (await get(c, t, cid))["assignee_id"] == str(t.operator_id)

    r = await c.post(f"{API}/conversations/{cid}/messages", json={"text": ""}, headers=t.operator)
    assert r.status_code == 422
    r = await c.post(
        f"{API}/conversations/987654/messages", json={"text": "hi"}, headers=t.operator
    )
    assert r.status_code == 404


async def test_internal_notes_are_never_delivered(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    cid = (await factory.inbound(t))["conversation_id"]
    before = await get(c, t, cid)
    jobs = await delivery_jobs(factory)

    r = await c.post(
        f"{API}/conversations/{cid}/notes", json={"text": "VIP, be nice"}, headers=t.operator
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["is_internal"] is True
    assert note["delivery_status"] == "not_sent"
    assert note["sender_type"] == "operator" and note["author_id"] == str(t.operator_id)
    assert await delivery_jobs(factory) == jobs  # no delivery job for a note
    jobs_api = (await c.get(f"{API}/jobs", headers=t.owner)).json()
    assert jobs_api == []

    after = await get(c, t, cid)
    assert (
        after["messages"][-1]["id"] == note["id"] and after["messages"][-1]["is_internal"] is True
    )
    # a note does not take the conversation over
    assert after["status"] == before["status"] == "pending"
    assert after["assignee_id"] is None

    r = await c.post(f"{API}/conversations/{cid}/notes", json={"text": ""}, headers=t.operator)
    assert r.status_code == 422


# --- categories ------------------------------------------------------------------------


async def test_categories_crud(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    url = f"{API}/categories"
    r = await c.post(
        url, json={"name": "  Бронирование  ", "description": "Брони и оплаты"}, headers=t.owner
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["name"] == "Бронирование" and booking["description"] == "Брони и оплаты"
    r = await c.post(url, json={"name": "Accounts"}, headers=t.owner)
    accounts = r.json()

    r = await c.post(url, json={"name": "Бронирование"}, headers=t.owner)
    assert r.status_code == 409, r.text
    assert "already exists" in r.json()["error"]["message"]

    listed = (await c.get(url, headers=t.operator)).json()
    assert [x["name"] for x in listed] == ["Accounts", "Бронирование"]  # by name
    r = await c.get(f"{url}/{booking['id']}", headers=t.operator)
    assert r.status_code == 200 and r.json() == booking

    r = await c.patch(f"{url}/{accounts['id']}", json={"name": "Бронирование"}, headers=t.owner)
    assert r.status_code == 409, r.text
    r = await c.patch(f"{url}/{accounts['id']}", json={"name": "Аккаунты"}, headers=t.owner)
    assert r.status_code == 200 and r.json()["name"] == "Аккаунты"
    r = await c.patch(f"{url}/{accounts['id']}", json={"description": "Входы"}, headers=t.owner)
    assert r.json()["name"] == "Аккаунты" and r.json()["description"] == "Входы"
    # renaming to its own name is not a conflict
    r = await c.patch(f"{url}/{booking['id']}", json={"name": "Бронирование"}, headers=t.owner)
    assert r.status_code == 200

    r = await c.delete(f"{url}/{booking['id']}", headers=t.owner)
    assert r.status_code == 204
    assert (await c.get(f"{url}/{booking['id']}", headers=t.owner)).status_code == 404
    assert (await c.delete(f"{url}/{booking['id']}", headers=t.owner)).status_code == 404
    assert [x["name"] for x in (await c.get(url, headers=t.owner)).json()] == ["Аккаунты"]
    # the name is free again
    assert (await c.post(url, json={"name": "Бронирование"}, headers=t.owner)).status_code == 201

    # operators read categories but do not manage them
    assert (await c.post(url, json={"name": "X"}, headers=t.operator)).status_code == 403
    assert (
        await c.patch(f"{url}/{accounts['id']}", json={"name": "Y"}, headers=t.operator)
    ).status_code == 403
    assert (await c.delete(f"{url}/{accounts['id']}", headers=t.operator)).status_code == 403


async def test_category_names_are_per_tenant(factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    for t in (a, b):
        r = await factory.client.post(
            f"{API}/categories", json={"name": "Billing"}, headers=t.owner
        )
        assert r.status_code == 201, r.text
