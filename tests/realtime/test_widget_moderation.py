"""Moderation on the web widget, over a real server: a held message is acknowledged and
stored, the visitor sees the conversation wait for a person (never the moderation verdict),
no AI reply comes, and the operators' console gets ``message.moderated`` live."""

from __future__ import annotations

from frontline import events
from tests.realtime.conftest import (
    LiveServer,
    Socket,
    add_web_channel,
    client_id,
    open_console,
    open_widget,
    widget_session,
)


async def test_a_held_widget_message_goes_to_the_operators_live(live: LiveServer) -> None:
    tenant = await live.factory.tenant(ai=True)
    r = await live.client.put(
        "/api/v1/ai/settings", headers=tenant.owner, json={"moderation": {"profanity": "hold"}}
    )
    assert r.status_code == 200, r.text
    key = await add_web_channel(live.services, tenant)
    session = await widget_session(live, key)
    async with (
        open_console(live, tenant.operator_token) as console_ws,
        open_widget(live, key, session["visitor_token"]) as ws,
    ):
        console = Socket(console_ws)
        widget = Socket(ws)
        await widget.next("hello")
        await widget.send("message.send", {"client_id": client_id(), "text": "Где мой тур, сука?"})
        ack = await widget.next("message.ack")
        conversation_id = ack["data"]["conversation_id"]
        created = await widget.until(lambda f: f["type"] == events.MESSAGE_CREATED)
        assert "moderation" not in created["data"] and "meta" not in created["data"]
        status = await widget.until(
            lambda f: f["type"] == events.CONVERSATION_STATUS and f["data"]["state"] == "waiting"
        )
        assert status["data"]["conversation_id"] == conversation_id
        moderated = await console.until(lambda f: f["type"] == events.MESSAGE_MODERATED)
        assert moderated["data"] == {
            "conversation_id": conversation_id,
            "message_id": ack["data"]["message_id"],
            "mode": "hold",
            "reasons": ["profanity"],
        }
        # no AI reply reaches the visitor
        later = await widget.quiet(1.0)
        assert not [f for f in later if f["type"] == events.MESSAGE_CREATED]
    r = await live.client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.operator)
    c = r.json()
    assert c["status"] == "pending" and c["handoff_reason_code"] == "moderation"
    assert [m["sender_type"] for m in c["messages"] if not m["is_internal"]] == ["contact"]
