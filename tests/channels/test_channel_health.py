"""A channel's delivery health (``GET /channels/{id}/health``): its last inbound and last
delivered outbound message, and the outbound messages that finally failed in the last 24
hours with the latest reason; scoped to the workspace (another workspace's admin gets 404,
an operator 403). And a refused channel config locates each error at its field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from frontline.jobs.worker import Worker
from tests.channels.test_api_callback import (  # noqa: F401  (fixture)
    Answer,
    CallbackServer,
    callback,
    conversation_with_reply,
    settings,
)
from tests.conftest import Factory


async def health(factory: Factory, headers: dict[str, str], channel_id: str) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/channels/{channel_id}/health", headers=headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_a_new_channel_has_no_traffic(factory: Factory) -> None:
    t = await factory.tenant()
    h = await health(factory, t.owner, t.api_channel_id)
    assert h == {
        "channel_id": t.api_channel_id,
        "type": "api",
        "is_active": True,
        "last_inbound_at": None,
        "last_outbound_at": None,
        "failed_24h": 0,
        "last_failure_at": None,
        "last_failure_reason": None,
    }


async def test_traffic_and_final_failures_with_the_latest_reason(
    factory: Factory,
    worker: Worker,
    callback: CallbackServer,  # noqa: F811
) -> None:
    t = await factory.tenant(callback_url=callback.url)
    await conversation_with_reply(factory, t, "Delivered fine")
    await worker.run_until_idle()
    h = await health(factory, t.owner, t.api_channel_id)
    assert h["last_inbound_at"] is not None and h["last_outbound_at"] is not None
    assert datetime.fromisoformat(h["last_outbound_at"]) >= datetime.fromisoformat(
        h["last_inbound_at"]
    )
    assert (h["failed_24h"], h["last_failure_reason"]) == (0, None)

    # two replies refused for good (a 4xx is final): both counted, the latest reason shown
    callback.script.append(Answer(400, b'{"error": "first"}'))
    await conversation_with_reply(factory, t, "Refused once")
    await worker.run_until_idle()
    callback.script.append(Answer(410, b'{"error": "gone for good"}'))
    await conversation_with_reply(factory, t, "Refused twice")
    await worker.run_until_idle()
    h = await health(factory, t.owner, t.api_channel_id)
    assert h["failed_24h"] == 2
    assert "410" in h["last_failure_reason"]
    assert h["last_failure_at"] is not None
    # the e-mail channel of the same workspace saw none of it
    other = await health(factory, t.owner, t.email_channel_id)
    assert (other["last_inbound_at"], other["failed_24h"]) == (None, 0)


async def test_health_is_scoped_to_the_workspace_and_its_admins(factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    await factory.inbound(a, text="hello from A")
    for path in ("health", "mailbox", "telegram"):
        r = await factory.client.get(f"/api/v1/channels/{a.api_channel_id}/{path}", headers=b.owner)
        assert r.status_code == 404, (path, r.text)
        r = await factory.client.get(
            f"/api/v1/channels/{a.api_channel_id}/{path}", headers=a.operator
        )
        assert r.status_code == 403, (path, r.text)
    assert (await health(factory, a.owner, a.api_channel_id))["last_inbound_at"] is not None
    # an API channel has neither a mailbox nor a Telegram bot
    for path in ("mailbox", "telegram"):
        r = await factory.client.get(f"/api/v1/channels/{a.api_channel_id}/{path}", headers=a.owner)
        assert r.status_code == 404, (path, r.text)


async def test_a_refused_config_names_each_field(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.post(
        "/api/v1/channels",
        headers=t.owner,
        json={
            "type": "telegram",
            "name": "Bot",
            "config": {"bot_token": "not a token", "chat_pacing_seconds": 99},
        },
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    by_field = {tuple(f["loc"]): f["message"] for f in error["fields"]}
    assert set(by_field) == {
        ("body", "config", "bot_token"),
        ("body", "config", "chat_pacing_seconds"),
    }
    assert "BotFather" in by_field[("body", "config", "bot_token")]
    assert "bot_token" in error["message"]  # API clients still read it in one line
    # the same on an edit; nothing changed
    r = await factory.client.patch(
        f"/api/v1/channels/{t.api_channel_id}",
        headers=t.owner,
        json={"config": {"callback_url": "not a url"}},
    )
    assert r.status_code == 422, r.text
    [field] = r.json()["error"]["fields"]
    assert field["loc"] == ["body", "config", "callback_url"]
    r = await factory.client.get(f"/api/v1/channels/{t.api_channel_id}", headers=t.owner)
    assert r.json()["config"].get("callback_url") is None
