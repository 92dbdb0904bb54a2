"""The owner's and the platform's administration API: team roles and removal, the audit
log, channel types, the "test the AI" box, the superadmin's tenants with usage, suspension
and plan limits enforced with a clear error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from frontline.auth import service as auth_service
from tests.conftest import Factory, TenantFixture

API = "/api/v1"


async def superadmin(factory: Factory) -> dict[str, str]:
    email = f"root-{uuid.uuid4().hex[:6]}@platform.example.com"
    async with factory.services.db.transaction() as session:
        await auth_service.create_user(
            session, email=email, password="platform password", is_superadmin=True
        )
    tokens = await factory.login(email, "platform password")
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def invite(factory: Factory, t: TenantFixture, email: str, role: str = "operator") -> Any:
    return await factory.client.post(
        f"{API}/members",
        json={"email": email, "password": "long enough pw", "role": role},
        headers=t.owner,
    )


@pytest.mark.usefixtures("backend")
async def test_team_roles_removal_and_the_audit_log(factory: Factory) -> None:
    t = await factory.tenant()
    c = factory.client
    r = await invite(factory, t, "new.op@example.com")
    assert r.status_code == 201, r.text
    user_id = r.json()["user_id"]
    r = await c.patch(f"{API}/members/{user_id}", json={"role": "admin"}, headers=t.owner)
    assert r.status_code == 200 and r.json()["role"] == "admin"
    r = await c.patch(f"{API}/members/{user_id}", json={"role": "boss"}, headers=t.owner)
    assert r.status_code == 422
    # the last owner stays an owner and cannot be removed
    r = await c.patch(f"{API}/members/{t.owner_id}", json={"role": "admin"}, headers=t.owner)
    assert r.status_code == 409 and "last owner" in r.json()["error"]["message"]
    r = await c.delete(f"{API}/members/{t.owner_id}", headers=t.owner)
    assert r.status_code == 409
    # an operator manages nobody
    r = await c.patch(f"{API}/members/{user_id}", json={"role": "operator"}, headers=t.operator)
    assert r.status_code == 403
    r = await c.delete(f"{API}/members/{user_id}", headers=t.owner)
    assert r.status_code == 204
    members = (await c.get(f"{API}/members", headers=t.owner)).json()
    assert user_id not in {m["user_id"] for m in members}
    r = await c.post(
        "/api/v1/auth/login", json={"email": "new.op@example.com", "password": "long enough pw"}
    )
    assert r.status_code == 401  # deactivated: no workspace any more

    r = await c.put(f"{API}/ai/settings", json={"temperature": 0.3}, headers=t.owner)
    assert r.status_code == 200
    r = await c.post(f"{API}/api-keys", json={"name": "CRM"}, headers=t.owner)
    assert r.status_code == 201
    log = (await c.get(f"{API}/audit-log", headers=t.owner)).json()["items"]
    actions = [e["action"] for e in log]
    assert actions == [
        "api_keys.create",
        "ai_settings.update",
        "members.remove",
        "members.role",
        "members.add",
    ]
    assert log[1]["data"] == {"fields": ["temperature"]}
    assert all(e["actor"] == f"user:{t.owner_id}" for e in log)
    only = (await c.get(f"{API}/audit-log?action=members", headers=t.owner)).json()["items"]
    assert [e["action"] for e in only] == ["members.remove", "members.role", "members.add"]
    page = (await c.get(f"{API}/audit-log?limit=2", headers=t.owner)).json()
    assert len(page["items"]) == 2 and page["next_before"] == page["items"][1]["id"]
    assert (await c.get(f"{API}/audit-log", headers=t.operator)).status_code == 403
    assert (await c.get(f"{API}/audit-log?action=DROP TABLE", headers=t.owner)).status_code == 422
    other = await factory.tenant()
    assert (await c.get(f"{API}/audit-log", headers=other.owner)).json()["items"] == []


async def test_channel_types_describe_their_config(factory: Factory) -> None:
    t = await factory.tenant()
    r = await factory.client.get(f"{API}/channel-types", headers=t.owner)
    assert r.status_code == 200
    types = {row["type"]: row["config_schema"] for row in r.json()}
    assert {"api", "email", "web"} <= set(types)
    assert "callback_url" in types["api"]["properties"]
    assert (await factory.client.get(f"{API}/channel-types", headers=t.operator)).status_code == 403


async def test_the_ai_test_box_answers_from_the_knowledge(factory: Factory, worker: Any) -> None:
    t = await factory.tenant(ai=True)
    c = factory.client
    r = await c.post(
        f"{API}/knowledge/faq",
        json={
            "question": "Можно ли взять с собой собаку?",
            "answer": "Да, собаку до 15 кг можно взять бесплатно.",
        },
        headers=t.owner,
    )
    assert r.status_code == 202, r.text
    await worker.run_until_idle()
    r = await c.post(f"{API}/ai/test", json={"question": "Можно с собакой?"}, headers=t.owner)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["decision"] == "full_answer", out
    assert "15 кг" in out["reply"]
    assert out["sources"] and out["confidence"] > 0
    assert out["attempts"][0]["provider"] == "offline"
    r = await c.post(f"{API}/ai/test", json={"question": ""}, headers=t.owner)
    assert r.status_code == 422
    r = await c.post(f"{API}/ai/test", json={"question": "hi"}, headers=t.operator)
    assert r.status_code == 403
    # nothing was logged or sent
    assert (await c.get(f"{API}/ai/calls", headers=t.owner)).json()["items"] == []


@pytest.mark.usefixtures("backend")
async def test_superadmin_tenants_usage_suspension_and_limits(factory: Factory) -> None:
    root = await superadmin(factory)
    c = factory.client
    t = await factory.tenant()
    await factory.inbound(t, contact="a", text="hello")
    r = await c.post(
        f"{API}/platform/tenants",
        json={
            "name": "Tours",
            "slug": f"tours-{uuid.uuid4().hex[:6]}",
            "owner_email": f"o-{uuid.uuid4().hex[:6]}@tours.example.com",
            "owner_password": "long enough pw",
        },
        headers=root,
    )
    assert r.status_code == 201, r.text
    assert r.json()["usage"]["members"] == 1
    rows = {row["id"]: row for row in (await c.get(f"{API}/platform/tenants", headers=root)).json()}
    usage = rows[str(t.id)]["usage"]
    assert usage["conversations"] == 1 and usage["messages"] == 1 and usage["members"] == 2
    assert rows[str(t.id)]["limits"] == {
        "conversations_per_month": None,
        "operators": None,
        "documents": None,
    }
    # only the platform
    assert (await c.get(f"{API}/platform/tenants", headers=t.owner)).status_code == 403

    r = await c.put(
        f"{API}/platform/tenants/{t.id}/limits",
        json={"conversations_per_month": 1, "operators": 2, "documents": 0},
        headers=root,
    )
    assert r.status_code == 200, r.text
    r = await c.put(f"{API}/platform/tenants/{t.id}/limits", json={"operators": -1}, headers=root)
    assert r.status_code == 422
    # the limits, each with a clear error
    r = await c.post(
        f"/api/v1/channels/{t.api_channel_id}/messages",
        headers=t.api_channel,
        json={"external_id": "x1", "contact": {"external_id": "b"}, "text": "second customer"},
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "plan_limit_reached"
    assert "conversations per month at most 1" in r.json()["error"]["message"]
    await factory.inbound(t, contact="a", text="the same conversation goes on")
    r = await invite(factory, t, "third@example.com")
    assert r.status_code == 403 and "operators at most 2" in r.json()["error"]["message"]
    r = await c.post(
        f"{API}/knowledge/documents", files={"file": ("a.txt", b"hello")}, headers=t.owner
    )
    assert r.status_code == 403 and "documents at most 0" in r.json()["error"]["message"]

    r = await c.post(f"{API}/platform/tenants/{t.id}/suspend", headers=root)
    assert r.status_code == 200 and r.json()["suspended"] is True
    r = await c.post(
        "/api/v1/auth/login", json={"email": t.owner_email, "password": t.owner_password}
    )
    assert r.status_code == 401 and "no active workspace" in r.json()["error"]["message"]
    r = await c.post(f"{API}/platform/tenants/{t.id}/resume", headers=root)
    assert r.json()["suspended"] is False
    r = await c.post(
        "/api/v1/auth/login", json={"email": t.owner_email, "password": t.owner_password}
    )
    assert r.status_code == 200
    actions = [
        e["action"] for e in (await c.get(f"{API}/audit-log", headers=t.owner)).json()["items"]
    ]
    assert actions[:3] == ["platform.resume", "platform.suspend", "platform.limits"]
    r = await c.post(f"{API}/platform/tenants/{uuid.uuid4()}/suspend", headers=root)
    assert r.status_code == 404
