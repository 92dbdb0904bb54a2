"""The widget's session endpoint and socket, over a real server (protocol: docs/realtime.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from frontline.demo import ensure_demo
from frontline.kit.i18n import t
from tests.realtime.conftest import (
    LiveServer,
    Socket,
    add_web_channel,
    client_id,
    open_console,
    open_widget,
    serving,
    widget_session,
)

SITE = "https://shop.example.com"


async def test_session_issues_and_keeps_a_visitor_token(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(
        live.services, tenant, title="Shop", allowed_origins=[SITE], messages_per_minute=7
    )
    first = await widget_session(live, key, origin=SITE)
    assert first["visitor_token"].startswith("vt1.")
    assert first["conversation_id"] is None and first["state"] == "bot"
    assert first["config"]["title"] == "Shop"
    assert first["limits"] == {
        "max_message_chars": 4000,
        "messages_per_minute": 7,
        "max_file_bytes": 20 * 1024 * 1024,
        "max_files": 10,
    }
    again = await widget_session(live, key, first["visitor_token"], origin=SITE)
    assert again["visitor_id"] == first["visitor_id"]
    assert again["visitor_token"] == first["visitor_token"]
    # a forged token (another visitor id, the old signature) starts a new visitor
    forged = "vt1." + "0" * 32 + "." + first["visitor_token"].rsplit(".", 1)[1]
    fresh = await widget_session(live, key, forged, origin=SITE)
    assert fresh["visitor_id"] not in (first["visitor_id"], "0" * 32)


async def test_session_checks_key_and_origin(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant, allowed_origins=[SITE])
    r = await live.client.post("/api/v1/widget/session", json={"key": "wk_nope"})
    assert r.status_code == 404 and "widget key" in r.json()["error"]["message"]
    r = await live.client.post(
        "/api/v1/widget/session", json={"key": key}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and "not allowed" in r.json()["error"]["message"]
    r = await live.client.post(
        "/api/v1/widget/session", json={"key": key}, headers={"Origin": SITE}
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == SITE
    r = await live.client.post("/api/v1/widget/session", content=b"{", headers={"Origin": SITE})
    assert r.status_code == 422
    r = await live.client.options(
        "/api/v1/widget/session",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SITE
    # Frontline's own pages (the demo page) may always use it
    r = await live.client.post(
        "/api/v1/widget/session", json={"key": key}, headers={"Origin": live.url}
    )
    assert r.status_code == 200


async def test_socket_refuses_foreign_origins_and_bad_tokens(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant, allowed_origins=[SITE])
    session = await widget_session(live, key, origin=SITE)
    with pytest.raises(InvalidStatus) as refused:
        async with open_widget(live, key, session["visitor_token"], origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with open_widget(live, key, "vt1.bad.token", origin=SITE) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.usefixtures("fresh_rate_window")
async def test_send_ack_resend_and_limits(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant, messages_per_minute=3, max_message_chars=20)
    session = await widget_session(live, key)
    async with open_widget(live, key, session["visitor_token"]) as ws:
        sock = Socket(ws)
        hello = await sock.next("hello")
        assert hello["data"]["messages"] == [] and hello["data"]["conversation_id"] is None
        cid = client_id()
        await sock.send("message.send", {"client_id": cid, "text": "  Здравствуйте!  "})
        ack = await sock.next("message.ack")
        assert ack["data"]["client_id"] == cid and ack["data"]["duplicate"] is False
        created = await sock.until(lambda f: f["type"] == "message.created")
        assert created["data"]["text"] == "Здравствуйте!"
        assert created["data"]["client_id"] == cid and created["data"]["sender"] == "contact"
        # the same client id again (a resend after a drop): acknowledged, not stored twice
        await sock.send("message.send", {"client_id": cid, "text": "Здравствуйте!"})
        dup = await sock.next("message.ack")
        assert dup["data"]["duplicate"] is True
        assert dup["data"]["message_id"] == ack["data"]["message_id"]
        await sock.send("message.send", {"client_id": client_id(), "text": "x" * 21})
        too_long = await sock.next("error")
        assert too_long["data"]["code"] == "too_long"
        await sock.send("message.send", {"client_id": client_id(), "text": "two"})
        await sock.next("message.ack")
        await sock.send("message.send", {"client_id": client_id(), "text": "three"})
        limited = await sock.next("error")
        assert limited["data"]["code"] == "rate_limited"
        assert 1 <= limited["data"]["retry_after"] <= 60
        await ws.send("not json")
        assert (await sock.next("error"))["data"]["code"] == "invalid"
        await sock.send("csat.submit", {"rating": 9})
        assert (await sock.next("error"))["data"]["code"] == "invalid"
        await sock.send("no.such.event")
        assert (await sock.next("error"))["data"]["code"] == "invalid"
    r = await live.client.get(
        f"/api/v1/conversations/{ack['data']['conversation_id']}/messages", headers=tenant.operator
    )
    texts = [m["text"] for m in r.json()]
    assert texts == ["Здравствуйте!", "two"]  # the duplicate and the refused ones stored nothing


async def test_reconnect_gets_exactly_the_gap_in_order(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    session = await widget_session(live, key)
    token = session["visitor_token"]
    async with open_widget(live, key, token) as ws:
        sock = Socket(ws)
        await sock.next("hello")
        await sock.send("message.send", {"client_id": client_id(), "text": "first"})
        seen = await sock.until(lambda f: f["type"] == "message.created")
    conversation_id = seen["data"]["conversation_id"]
    for text in ("operator one", "operator two"):
        r = await live.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": text},
            headers=tenant.operator,
        )
        assert r.status_code == 201
    r = await live.client.post(
        f"/api/v1/conversations/{conversation_id}/notes",
        json={"text": "internal: never shown"},
        headers=tenant.operator,
    )
    assert r.status_code == 201
    async with open_widget(live, key, token, last_id=seen["data"]["id"]) as ws:
        sock = Socket(ws)
        hello = await sock.next("hello")
        gap = hello["data"]["messages"]
        assert [m["text"] for m in gap] == ["operator one", "operator two"]
        assert [m["sender"] for m in gap] == ["operator", "operator"]
        assert gap[0]["id"] < gap[1]["id"]
        assert hello["data"]["state"] == "operator_joined"
        assert not [f for f in await sock.quiet(0.5) if f["type"] == "message.created"]
    # without last_id: the whole (visible) history
    async with open_widget(live, key, token) as ws:
        hello = await Socket(ws).next("hello")
        assert [m["text"] for m in hello["data"]["messages"]] == [
            "first",
            "operator one",
            "operator two",
        ]


async def test_tabs_of_one_visitor_stay_in_sync(live: LiveServer) -> None:
    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    token = (await widget_session(live, key))["visitor_token"]
    async with open_widget(live, key, token) as ws_a, open_widget(live, key, token) as ws_b:
        a, b = Socket(ws_a), Socket(ws_b)
        await a.next("hello")
        await b.next("hello")
        # tab A's first message opens the conversation; tab B (which had none) follows it
        await a.send("message.send", {"client_id": client_id(), "text": "from tab A"})
        got_b = await b.until(lambda f: f["type"] == "message.created")
        assert got_b["data"]["text"] == "from tab A"
        await b.send("message.send", {"client_id": client_id(), "text": "from tab B"})
        got_a = await a.until(
            lambda f: f["type"] == "message.created" and f["data"]["text"] == "from tab B"
        )
        assert got_a["data"]["sender"] == "contact"
        created_a = [f["data"]["id"] for f in a.frames if f["type"] == "message.created"]
        assert len(created_a) == len(set(created_a)) == 2


async def test_handoff_operator_reply_resolve_and_rating(live: LiveServer) -> None:
    tenant = await live.factory.tenant(ai=True)
    key = await add_web_channel(live.services, tenant)
    token = (await widget_session(live, key))["visitor_token"]
    async with open_widget(live, key, token, lang="en") as ws:
        visitor = Socket(ws)
        await visitor.next("hello")
        await visitor.send("message.send", {"client_id": client_id(), "text": "Hello there"})
        ack = await visitor.next("message.ack")
        conversation_id = ack["data"]["conversation_id"]
        await visitor.send("csat.submit", {"rating": 5})
        assert (await visitor.next("error"))["data"]["code"] == "not_resolved"
        # nobody online: the visitor is told so and asked for an e-mail
        await visitor.send("handoff.request")
        status = await visitor.until(lambda f: f["type"] == "conversation.status")
        assert status["data"]["state"] == "waiting"
        assert status["data"]["operators_online"] is False
        notice = await visitor.until(
            lambda f: f["type"] == "message.created" and f["data"]["sender"] == "system"
        )
        assert notice["data"]["text"] == t("handoff.no_operators", "en")
        await visitor.send("contact.update", {"email": "guest@example.com", "name": "Guest"})
        await visitor.next("contact.updated")
        await visitor.send("contact.update", {"email": "not-an-email"})
        assert (await visitor.next("error"))["data"]["code"] == "invalid"

        async with open_console(live, tenant.operator_token) as cws:
            console = Socket(cws)
            await console.next("hello")
            presence = await visitor.until(lambda f: f["type"] == "conversation.status")
            assert presence["data"]["operators_online"] is True
            await console.send("subscribe", {"conversation_id": conversation_id})
            await console.next("subscribed")
            # the operator accepts
            r = await live.client.post(
                f"/api/v1/conversations/{conversation_id}/assign",
                json={"assignee_id": str(tenant.operator_id)},
                headers=tenant.operator,
            )
            assert r.status_code == 200
            joined = await visitor.until(lambda f: f["type"] == "conversation.status")
            assert joined["data"]["state"] == "operator_joined"
            await console.until(lambda f: f["type"] == "conversation.assigned")
            # typing both ways
            await console.send("typing", {"conversation_id": conversation_id, "active": True})
            typing = await visitor.until(lambda f: f["type"] == "typing")
            assert typing["data"]["active"] is True and typing["data"]["author_name"]
            await visitor.send("typing", {"active": True})
            seen = await console.until(lambda f: f["type"] == "typing")
            assert seen["data"]["sender"] == "contact"
            # the operator's reply reaches the visitor; the AI stays silent
            r = await live.client.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": "Hi, this is Anna"},
                headers=tenant.operator,
            )
            assert r.status_code == 201
            reply = await visitor.until(lambda f: f["type"] == "message.created")
            assert reply["data"]["sender"] == "operator"
            assert reply["data"]["text"] == "Hi, this is Anna"
            assert reply["data"]["author_name"] == tenant.operator_email.split("@")[0]
            await visitor.send("message.send", {"client_id": client_id(), "text": "Thanks!"})
            await console.until(
                lambda f: f["type"] == "message.created" and f["data"]["text"] == "Thanks!"
            )
            r = await live.client.patch(
                f"/api/v1/conversations/{conversation_id}",
                json={"status": "resolved"},
                headers=tenant.operator,
            )
            assert r.status_code == 200
            resolved = await visitor.until(lambda f: f["type"] == "conversation.status")
            assert resolved["data"]["state"] == "resolved"
            await visitor.send("csat.submit", {"rating": 4, "comment": "quick"})
            await visitor.next("csat.ack")
            rated = await console.until(
                lambda f: f["type"] == "conversation.updated" and f["data"]["csat_rating"]
            )
            assert rated["data"]["csat_rating"] == 4
            assert rated["data"]["csat_comment"] == "quick"
        # the AI never spoke while a person owned the conversation
        r = await live.client.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.operator
        )
        senders = [m["sender_type"] for m in r.json() if not m["is_internal"]]
        assert "ai" not in senders[senders.index("system") :]
        r = await live.client.get(f"/api/v1/contacts/{r.json()[0]['meta'] and ''}", headers={})
    contact = await _contact_of(live, tenant, conversation_id)
    assert contact["email"] == "guest@example.com" and contact["name"] == "Guest"


async def _contact_of(live: LiveServer, tenant: Any, conversation_id: int) -> dict[str, Any]:
    r = await live.client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.operator)
    contact_id = r.json()["contact_id"]
    r = await live.client.get(f"/api/v1/contacts/{contact_id}", headers=tenant.operator)
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


async def test_ai_answers_from_the_demo_knowledge_and_reopens_without_handoff(
    live: LiveServer,
) -> None:
    info = await ensure_demo(live.services)
    token = (await widget_session(live, info.widget_key))["visitor_token"]
    await _wait_knowledge_ready(live, info)
    # an English browser, a Russian-speaking customer
    async with open_widget(live, info.widget_key, token, lang="en") as ws:
        visitor = Socket(ws)
        await visitor.next("hello")
        await visitor.send(
            "message.send", {"client_id": client_id(), "text": "Сколько стоит тур на Байкал?"}
        )
        typing = await visitor.until(lambda f: f["type"] == "ai.typing")
        assert typing["data"]["active"] is True
        answer = await visitor.until(
            lambda f: f["type"] == "message.created" and f["data"]["sender"] == "ai"
        )
        assert "45 000" in answer["data"]["text"]
        conversation_id = answer["data"]["conversation_id"]
        # a person, then resolved; the customer comes back with a new question
        await visitor.send("handoff.request")
        await visitor.until(
            lambda f: f["type"] == "conversation.status" and f["data"]["state"] == "waiting"
        )
        notice = await visitor.seen(
            lambda f: f["type"] == "message.created" and f["data"]["sender"] == "system"
        )
        assert notice["data"]["text"] == t("handoff.no_operators", "ru")
        login = await live.factory.login(info.operator_email, info.operator_password)
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        r = await live.client.patch(
            f"/api/v1/conversations/{conversation_id}", json={"status": "resolved"}, headers=headers
        )
        assert r.status_code == 200
        await visitor.until(
            lambda f: f["type"] == "conversation.status" and f["data"]["state"] == "resolved"
        )
        await visitor.send(
            "message.send", {"client_id": client_id(), "text": "А можно взять с собой собаку?"}
        )
        reopened = await visitor.until(lambda f: f["type"] == "conversation.status")
        assert reopened["data"]["state"] == "bot"
        again = await visitor.until(
            lambda f: f["type"] == "message.created" and f["data"]["sender"] == "ai"
        )
        assert "15 кг" in again["data"]["text"]
        assert not [f for f in await visitor.quiet(0.5) if f["type"] == "conversation.status"]


async def _wait_knowledge_ready(live: LiveServer, info: Any) -> None:
    login = await live.factory.login(info.admin_email, info.admin_password)
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    for _ in range(300):
        r = await live.client.get("/api/v1/knowledge/documents", headers=headers)
        items = r.json()["items"] if isinstance(r.json(), dict) else r.json()
        if items and all(d["status"] == "ready" for d in items):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("demo knowledge never became ready")


async def test_console_socket_is_tenant_scoped_and_needs_a_token(live: LiveServer) -> None:
    mine = await live.factory.tenant()
    other = await live.factory.tenant()
    key = await add_web_channel(live.services, other)
    token = (await widget_session(live, key))["visitor_token"]
    async with open_widget(live, key, token) as ws:
        visitor = Socket(ws)
        await visitor.next("hello")
        await visitor.send("message.send", {"client_id": client_id(), "text": "secret"})
        foreign_id = (await visitor.next("message.ack"))["data"]["conversation_id"]
    async with open_console(live, mine.operator_token) as cws:
        console = Socket(cws)
        await console.next("hello")
        await console.send("subscribe", {"conversation_id": foreign_id})
        refused = await console.next("error")
        assert refused["data"]["code"] == "not_found"
        await console.send("subscribe", {"conversation_id": "1"})
        assert (await console.next("error"))["data"]["code"] == "invalid"
        # another tenant's traffic never reaches this console
        assert not [f for f in await console.quiet(0.3) if f["type"] == "message.created"]
    async with open_console(live, "not-a-token") as cws:
        with pytest.raises(ConnectionClosed) as closed:
            await cws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


@pytest.mark.parametrize("heartbeat", [0.3])
async def test_heartbeat_pings_and_closes_silent_clients(
    live_settings: Any, heartbeat: float
) -> None:
    settings = live_settings.model_copy(update={"realtime_heartbeat_seconds": heartbeat})
    async with serving(settings) as live:
        tenant = await live.factory.tenant()
        key = await add_web_channel(live.services, tenant)
        token = (await widget_session(live, key))["visitor_token"]
        async with open_widget(live, key, token) as ws:
            sock = Socket(ws)
            assert (await sock.next("hello"))["data"]["heartbeat_seconds"] == heartbeat
            # an operator console that keeps talking stays online (presence refreshed
            # every heartbeat, busy or not)
            async with open_console(live, tenant.operator_token) as cws:
                console = Socket(cws)
                await console.next("hello")
                for _ in range(8):  # 8 x 0.2 s: past three heartbeats
                    await console.send("pong")
                    await asyncio.sleep(0.2)
                assert await live.services.presence.count(str(tenant.id)) == 1
            await sock.next("ping", timeout=2)
            # the widget stops answering: closed after three silent heartbeats
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(5):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


async def test_a_suspended_workspace_refuses_new_chats_with_a_clear_error(
    live: LiveServer,
) -> None:
    """A plan limit or a suspension refuses the visitor's first message with an ``error``
    naming it; the socket stays open and nothing is stored."""
    from frontline.platform import service as platform

    tenant = await live.factory.tenant()
    key = await add_web_channel(live.services, tenant)
    async with live.services.db.transaction() as session:
        await platform.set_suspended(session, tenant.id, True)
    session_info = await widget_session(live, key)
    async with open_widget(live, key, session_info["visitor_token"]) as ws:
        sock = Socket(ws)
        await sock.next("hello")
        cid = client_id()
        await sock.send("message.send", {"client_id": cid, "text": "Hello?"})
        refused = await sock.next("error")
        assert refused["data"]["code"] == "tenant_suspended"
        assert refused["data"]["client_id"] == cid
    async with live.services.db.transaction() as session:
        await platform.set_suspended(session, tenant.id, False)
    r = await live.client.get("/api/v1/conversations", headers=tenant.operator)
    assert r.json()["items"] == []
