"""Identified visitors: the host page passes its signed-in user's id with an HMAC of it (the
web channel's identity secret); the widget session verifies it in constant time, gives the
user one contact and one history on every device, and merges the browser's anonymous
history on first identification. Wrong or missing hashes are refused with nothing stored."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import func, select

from frontline.channels import service as channels
from frontline.channels.base import ChannelType
from frontline.deps import Services
from frontline.kit.repository import TenantScope
from frontline.models import Contact, ContactMerge
from frontline.realtime.visitors import user_hash, widget_key
from tests.conftest import TenantFixture
from tests.realtime.conftest import LiveServer, Socket, client_id, open_widget


async def web_channel(services: Services, tenant: TenantFixture, **config: Any) -> tuple[str, str]:
    """A web channel: its widget key and its identity secret (shown once, at creation)."""
    async with services.db.transaction() as session:
        channel, secret = await channels.create_channel(
            session,
            TenantScope(tenant.id),
            services.secret_box,
            channel_type=ChannelType.WEB,
            name="Web chat",
            config=config,
        )
        return widget_key(channel.id), secret


def sign(secret: str, user_id: str) -> str:
    # what the README tells a host backend to compute
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def session(live: LiveServer, key: str, **body: Any) -> Any:
    return await live.client.post("/api/v1/widget/session", json={"key": key, **body})


async def contacts(live: LiveServer, tenant: TenantFixture) -> list[Contact]:
    async with live.services.db.transaction() as s:
        stmt = select(Contact).where(Contact.tenant_id == tenant.id)
        return list((await s.execute(stmt)).scalars())


async def say(live: LiveServer, key: str, token: str, text: str) -> int:
    async with open_widget(live, key, token) as ws:
        sock = Socket(ws)
        await sock.next("hello")
        await sock.send("message.send", {"client_id": client_id(), "text": text})
        ack = await sock.next("message.ack")
        return int(ack["data"]["conversation_id"])


async def history(live: LiveServer, key: str, token: str) -> list[str]:
    async with open_widget(live, key, token) as ws:
        hello = await Socket(ws).next("hello")
        return [m["text"] for m in hello["data"]["messages"] if m["sender"] == "contact"]


async def test_one_user_one_history_on_every_device_with_the_anonymous_past_merged(
    live: LiveServer,
) -> None:
    tenant = await live.factory.tenant()
    key, secret = await web_channel(live.services, tenant)
    assert user_hash(secret, "u-42") == sign(secret, "u-42")
    # browser A: anonymous first
    anon = (await session(live, key)).json()
    cid = await say(live, key, anon["visitor_token"], "Здравствуйте, я ещё не вошёл")
    # then the user signs in on the host site: the anonymous history becomes theirs
    r = await session(
        live,
        key,
        visitor_token=anon["visitor_token"],
        user_id="u-42",
        user_hash=sign(secret, "u-42"),
        name="Анна Петрова",
        email="anna@example.com",
        attributes={"plan": "gold", "orders": 3, "vip": True, "since": "2024-05-01"},
    )
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["identified"] is True and a["conversation_id"] == cid
    assert a["visitor_id"] != anon["visitor_id"]
    # browser B (another device, nothing stored): the same user, the same conversation
    b = (await session(live, key, user_id="u-42", user_hash=sign(secret, "u-42"))).json()
    assert b["visitor_id"] == a["visitor_id"] and b["conversation_id"] == cid
    assert await say(live, key, b["visitor_token"], "Пишу с телефона") == cid
    assert await history(live, key, a["visitor_token"]) == [
        "Здравствуйте, я ещё не вошёл",
        "Пишу с телефона",
    ]
    [contact] = await contacts(live, tenant)
    assert (contact.user_id, contact.name, contact.email) == (
        "u-42",
        "Анна Петрова",
        "anna@example.com",
    )
    assert contact.attributes == {"plan": "gold", "orders": 3, "vip": True, "since": "2024-05-01"}
    # the browser's old anonymous token no longer shows the user's history
    fresh = (await session(live, key, visitor_token=anon["visitor_token"])).json()
    assert fresh["conversation_id"] is None


async def test_an_anonymous_history_joins_an_existing_user_and_the_merge_is_recorded(
    live: LiveServer,
) -> None:
    tenant = await live.factory.tenant()
    key, secret = await web_channel(live.services, tenant)
    known = (await session(live, key, user_id="u-1", user_hash=sign(secret, "u-1"))).json()
    await say(live, key, known["visitor_token"], "с ноутбука")
    anon = (await session(live, key)).json()
    await say(live, key, anon["visitor_token"], "анонимно с планшета")
    r = await session(
        live, key, visitor_token=anon["visitor_token"], user_id="u-1", user_hash=sign(secret, "u-1")
    )
    assert r.status_code == 200
    [contact] = await contacts(live, tenant)
    assert contact.user_id == "u-1"
    async with live.services.db.transaction() as s:
        [merge] = (await s.execute(select(ContactMerge))).scalars().all()
    assert merge.reason == "identified" and merge.target_contact_id == contact.id
    assert merge.merged_by is None and merge.summary["conversations"] == 1


async def test_another_users_browser_is_never_merged(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key, secret = await web_channel(live.services, tenant)
    x = (await session(live, key, user_id="x", user_hash=sign(secret, "x"))).json()
    await say(live, key, x["visitor_token"], "секрет пользователя X")
    # user Y signs in on the same computer, the widget still holding X's token
    y = (
        await session(
            live, key, visitor_token=x["visitor_token"], user_id="y", user_hash=sign(secret, "y")
        )
    ).json()
    assert y["conversation_id"] is None
    assert await history(live, key, y["visitor_token"]) == []
    assert sorted(c.user_id or "" for c in await contacts(live, tenant)) == ["x", "y"]


async def test_wrong_or_missing_hash_is_refused_and_nothing_is_stored(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key, secret = await web_channel(live.services, tenant)
    anon = (await session(live, key)).json()
    await say(live, key, anon["visitor_token"], "привет")
    before = await contacts(live, tenant)
    for body in (
        {"user_id": "u-1", "user_hash": sign(secret, "u-2")},
        {"user_id": "u-1", "user_hash": sign("another-secret", "u-1")},
        {"user_id": "u-1"},
        {"user_id": "u-1", "user_hash": ""},
    ):
        r = await session(live, key, visitor_token=anon["visitor_token"], **body)
        assert r.status_code == 401, (body, r.text)
        assert r.json()["error"]["message"] == "user_hash does not match user_id"
    # a wrong attribute type: 422 naming the field, nothing stored either
    r = await session(
        live, key, user_id="u-1", user_hash=sign(secret, "u-1"), attributes={"vip": True}
    )
    assert r.status_code == 200
    r = await session(
        live, key, user_id="u-2", user_hash=sign(secret, "u-2"), attributes={"vip": "yes"}
    )
    assert r.status_code == 422 and "attributes.vip" in r.json()["error"]["message"]
    r = await session(
        live, key, user_id="u-3", user_hash=sign(secret, "u-3"), attributes={"note": "x" * 501}
    )
    assert r.status_code == 422 and "attributes.note" in r.json()["error"]["message"]
    after = await contacts(live, tenant)
    assert len(after) == len(before) + 1  # only u-1
    assert {c.user_id for c in after} == {None, "u-1"}


async def test_a_channel_can_require_identity(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key, secret = await web_channel(live.services, tenant, require_identity=True)
    r = await session(live, key)
    assert r.status_code == 401
    assert "signed-in users" in r.json()["error"]["message"]
    r = await session(live, key, user_id="u-9", user_hash=sign(secret, "u-9"))
    assert r.status_code == 200 and r.json()["identified"] is True
    async with live.services.db.transaction() as s:
        count = (await s.execute(select(func.count()).select_from(Contact))).scalar_one()
    assert count == 1
