"""The customer API on SQLite and PostgreSQL: a host backend mints a short-lived JWT for its
user with the web channel's identity secret; the user lists, opens, writes, reads with a
cursor, marks read and rates their own conversations - and reaches nobody else's."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.deps import Services
from frontline.kit.repository import TenantScope
from frontline.realtime.visitors import user_hash, widget_key
from tests.conftest import Factory, TenantFixture


@dataclass
class Web:
    key: str
    secret: str


async def web_channel(services: Services, tenant: TenantFixture) -> Web:
    async with services.db.transaction() as session:
        channel, secret = await channels.create_channel(
            session,
            TenantScope(tenant.id),
            services.secret_box,
            channel_type=ChannelType.WEB,
            name="Web chat",
            config={},
        )
        return Web(widget_key(channel.id), secret)


def mint(web: Web, user_id: str, lifetime: int = 600, **claims: Any) -> dict[str, str]:
    """What the host backend does (see the README)."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + lifetime, **claims}
    token = jwt.encode(payload, web.secret, algorithm="HS256", headers={"kid": web.key})
    return {"Authorization": f"Bearer {token}"}


async def test_a_customer_opens_writes_reads_marks_read_and_rates(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    web = await web_channel(services, t)
    me = mint(web, "user-7")
    r = await client.get("/api/v1/customer/conversations", headers=me)
    assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}
    r = await client.post(
        "/api/v1/customer/conversations",
        headers=me,
        json={"text": "Где мой заказ 1234?", "client_id": "m1"},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["conversation_id"]
    # a retry with the same client id is stored once
    again = await client.post(
        f"/api/v1/customer/conversations/{cid}/messages",
        headers=me,
        json={"text": "Где мой заказ 1234?", "client_id": "m1"},
    )
    assert again.status_code == 201 and again.json()["duplicate"] is True
    # an operator answers (the tenant's AI is off: the conversation waits for a person)
    r = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        headers=t.operator,
        json={"text": "Заказ передан в доставку."},
    )
    assert r.status_code == 201, r.text
    await client.post(
        f"/api/v1/conversations/{cid}/notes", headers=t.operator, json={"text": "internal!"}
    )
    [item] = (await client.get("/api/v1/customer/conversations", headers=me)).json()["items"]
    assert item["id"] == cid and item["unread"] == 1
    r = await client.get(f"/api/v1/customer/conversations/{cid}/messages", headers=me)
    page = r.json()
    assert [(m["sender_type"], m["text"]) for m in page["items"]] == [
        ("contact", "Где мой заказ 1234?"),
        ("operator", "Заказ передан в доставку."),
    ]  # the internal note is not the customer's to see
    cursor = page["next_cursor"]
    r = await client.get(
        f"/api/v1/customer/conversations/{cid}/messages", headers=me, params={"after": cursor}
    )
    assert r.json() == {"items": [], "next_cursor": cursor}
    r = await client.post(
        f"/api/v1/customer/conversations/{cid}/messages", headers=me, json={"text": "Спасибо!"}
    )
    assert r.status_code == 201 and r.json()["conversation_id"] == cid
    r = await client.get(
        f"/api/v1/customer/conversations/{cid}/messages", headers=me, params={"after": cursor}
    )
    assert [m["text"] for m in r.json()["items"]] == ["Спасибо!"]
    r = await client.post(f"/api/v1/customer/conversations/{cid}/read", headers=me)
    assert r.status_code == 200 and r.json()["unread"] == 0
    assert r.json()["last_read_id"] == r.json()["last_read_id"] >= cursor
    # rating waits for the resolution
    r = await client.post(
        f"/api/v1/customer/conversations/{cid}/csat", headers=me, json={"rating": 5}
    )
    assert r.status_code == 409
    await client.patch(
        f"/api/v1/conversations/{cid}", headers=t.operator, json={"status": "resolved"}
    )
    r = await client.post(
        f"/api/v1/customer/conversations/{cid}/csat",
        headers=me,
        json={"rating": 5, "comment": "ок"},
    )
    assert r.status_code == 200 and r.json()["csat_rating"] == 5
    # a second conversation; the list pages with a cursor, newest first
    r = await client.post(
        "/api/v1/customer/conversations", headers=me, json={"text": "Новый вопрос"}
    )
    second = r.json()["conversation_id"]
    assert second != cid
    r = await client.get("/api/v1/customer/conversations", headers=me, params={"limit": 1})
    assert [c["id"] for c in r.json()["items"]] == [second]
    r = await client.get(
        "/api/v1/customer/conversations",
        headers=me,
        params={"limit": 1, "cursor": r.json()["next_cursor"]},
    )
    assert [c["id"] for c in r.json()["items"]] == [cid] and r.json()["next_cursor"] is None
    # the widget of the same signed-in user shows the same history
    r = await client.post(
        "/api/v1/widget/session",
        json={"key": web.key, "user_id": "user-7", "user_hash": user_hash(web.secret, "user-7")},
    )
    assert r.json()["conversation_id"] == second


async def test_no_customer_reaches_another_customers_or_tenants_data(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    web, other_web = await web_channel(services, t), await web_channel(services, other)
    alice = mint(web, "alice")
    r = await client.post(
        "/api/v1/customer/conversations", headers=alice, json={"text": "мой секрет"}
    )
    cid = r.json()["conversation_id"]
    # an anonymous visitor's and an API channel's conversations are nobody's here either
    api_cid = (await factory.inbound(t, text="через API"))["conversation_id"]
    intruders = {
        "another customer": mint(web, "bob"),
        "the same user id on another tenant": mint(other_web, "alice"),
    }
    for who, headers in intruders.items():
        for target in (cid, api_cid):
            base = f"/api/v1/customer/conversations/{target}"
            for method, url, body in (
                ("GET", base, None),
                ("GET", f"{base}/messages", None),
                ("POST", f"{base}/messages", {"text": "hi"}),
                ("POST", f"{base}/read", None),
                ("POST", f"{base}/csat", {"rating": 1}),
            ):
                r = await client.request(method, url, headers=headers, json=body)
                assert r.status_code == 404, (who, method, url, r.text)
        r = await client.get("/api/v1/customer/conversations", headers=headers)
        assert r.json()["items"] == [], who
    r = await client.get(f"/api/v1/customer/conversations/{cid}/messages", headers=alice)
    assert [m["text"] for m in r.json()["items"]] == ["мой секрет"]


async def test_bad_tokens_are_refused(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    web = await web_channel(services, t)
    now = int(time.time())
    cases: dict[str, dict[str, str]] = {
        "no token": {},
        "not a JWT": {"Authorization": "Bearer nonsense"},
        "wrong secret": mint(Web(web.key, "not-the-secret-" * 3), "u"),
        "expired": mint(web, "u", lifetime=60, iat=now - 7200, exp=now - 3600),
        "lives too long": mint(web, "u", lifetime=86400),
        "unknown channel": mint(Web(widget_key(uuid.uuid4()), web.secret), "u"),
        "no kid": {
            "Authorization": "Bearer "
            + jwt.encode({"sub": "u", "iat": now, "exp": now + 60}, web.secret, algorithm="HS256")
        },
        "no sub": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"iat": now, "exp": now + 60},
                web.secret,
                algorithm="HS256",
                headers={"kid": web.key},
            )
        },
        "API channel secret": mint(Web(web.key, t.api_channel_secret), "u"),
    }
    for case, headers in cases.items():
        r = await client.get("/api/v1/customer/conversations", headers=headers)
        assert r.status_code == 401, (case, r.text)
        assert r.json()["error"]["code"] == "unauthorized", case
    # rotating the channel's secret invalidates every token at once
    good = mint(web, "u")
    assert (await client.get("/api/v1/customer/conversations", headers=good)).status_code == 200
    channel_id = uuid.UUID(hex=web.key.removeprefix("wk_"))
    r = await client.post(f"/api/v1/channels/{channel_id}/rotate-secret", headers=t.owner)
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/customer/conversations", headers=good)).status_code == 401
    fresh = mint(Web(web.key, r.json()["secret"]), "u")
    assert (await client.get("/api/v1/customer/conversations", headers=fresh)).status_code == 200


async def test_profile_attributes_are_typed(
    factory: Factory, services: Services, client: httpx.AsyncClient
) -> None:
    t = await factory.tenant()
    web = await web_channel(services, t)
    me = mint(web, "u-1")
    r = await client.patch(
        "/api/v1/customer/profile",
        headers=me,
        json={"name": "Иван", "attributes": {"orders": 2, "birthday": "1990-02-03"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["attributes"] == {"orders": 2, "birthday": "1990-02-03"}
    for attributes, field in (
        ({"orders": "two"}, "attributes.orders"),
        ({"birthday": "1990-02-30"}, "attributes.birthday"),
        ({"Bad Key": 1}, "attributes.Bad Key"),
    ):
        r = await client.patch(
            "/api/v1/customer/profile", headers=me, json={"attributes": attributes}
        )
        assert r.status_code == 422, r.text
        assert field in r.json()["error"]["message"]
    r = await client.get("/api/v1/customer/profile", headers=me)
    assert r.json()["name"] == "Иван" and r.json()["attributes"]["orders"] == 2
