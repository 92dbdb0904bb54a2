"""Moderation before the AI through the real inbound path of the REST API channel: a
flagged message is kept and answered by the AI, a held one gets no AI turn and goes to the
operators' queue; verdicts on the message, the conversation, the events and the audit log;
the settings API validates the modes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from frontline import events
from frontline.deps import Services
from frontline.jobs.worker import Worker
from frontline.kit.time import utcnow
from frontline.models import AuditEntry, Job, Message
from tests.conftest import Factory, TenantFixture

API = "/api/v1/ai/settings"
RUDE = "Ну вы и мудаки, где мой тур?"


@asynccontextmanager
async def inbox_events(services: Services, t: TenantFixture) -> AsyncIterator[list[str]]:
    """The types of the events published to the tenant's inbox meanwhile."""
    received: list[str] = []

    async def collect() -> None:
        async for event in services.broker.subscribe(events.inbox_topic(t.id)):
            received.append(str(event["type"]))

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    try:
        yield received
        await asyncio.sleep(0.05)
    finally:
        task.cancel()


async def set_moderation(factory: Factory, t: TenantFixture, **modes: Any) -> dict[str, Any]:
    r = await factory.client.put(API, headers=t.owner, json={"moderation": modes})
    assert r.status_code == 200, r.text
    moderation: dict[str, Any] = r.json()["moderation"]
    return moderation


async def conversation(factory: Factory, t: TenantFixture, cid: int) -> dict[str, Any]:
    r = await factory.client.get(f"/api/v1/conversations/{cid}", headers=t.operator)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def ai_jobs(services: Services) -> int:
    async with services.db.reader() as s:
        stmt = select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
        return int((await s.execute(stmt)).scalar_one())


async def test_settings_defaults_changes_and_unknown_modes(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    r = await factory.client.get(API, headers=t.owner)
    assert r.json()["moderation"] == {
        "profanity": "flag",
        "flood": "hold",
        "spam": "hold",
        "link_only": "flag",
        "flood_messages": 8,
        "flood_seconds": 30,
        "spam_repeats": 3,
        "spam_window_seconds": 600,
    }
    changed = await set_moderation(factory, t, profanity="hold", flood_messages=5)
    assert (changed["profanity"], changed["flood_messages"], changed["spam"]) == ("hold", 5, "hold")
    # fields left out keep their value
    again = await set_moderation(factory, t, link_only="off")
    assert (again["profanity"], again["link_only"]) == ("hold", "off")
    r = await factory.client.put(API, headers=t.owner, json={"moderation": {"spam": "block"}})
    assert r.status_code == 422
    field = r.json()["error"]["fields"][0]
    assert field["loc"] == ["body", "moderation", "spam"]
    assert "'off', 'flag' or 'hold'" in field["message"]
    r = await factory.client.put(API, headers=t.owner, json={"moderation": {"caps": "flag"}})
    assert r.status_code == 422
    r = await factory.client.put(API, headers=t.owner, json={"moderation": {"flood_messages": 1}})
    assert r.status_code == 422
    # an operator may not change them
    r = await factory.client.put(API, headers=t.operator, json={"moderation": {"spam": "off"}})
    assert r.status_code == 403


async def test_flag_keeps_the_message_and_the_ai_answers(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    async with inbox_events(services, t) as received:
        sent = await factory.inbound(t, text=RUDE)
    assert events.MESSAGE_MODERATED in received
    assert events.CONVERSATION_HANDOFF_REQUESTED not in received
    assert await ai_jobs(services) == 1
    await worker.run_until_idle()
    c = await conversation(factory, t, sent["conversation_id"])
    # the AI took its turn (the offline engine may itself escalate an angry customer, but
    # moderation did not hold the message)
    assert c["handoff_reason_code"] != "moderation"
    flag = c["meta"]["moderation"]
    assert (flag["mode"], flag["reasons"], flag["message_id"]) == (
        "flag",
        ["profanity"],
        sent["message_id"],
    )
    customer, *replies = c["messages"]
    assert customer["meta"]["moderation"] == {"mode": "flag", "reasons": ["profanity"]}
    assert [m["sender_type"] for m in replies] == ["ai"]
    # the decision is in the workspace's audit log
    async with services.db.reader() as s:
        entry = (
            await s.execute(select(AuditEntry).where(AuditEntry.tenant_id == t.id))
        ).scalar_one()
    assert (entry.actor, entry.action) == ("system:moderation", events.MESSAGE_MODERATED)
    assert entry.data["reasons"] == ["profanity"]
    assert entry.data["message_id"] == sent["message_id"]


async def test_hold_keeps_the_message_but_no_ai_turn_and_operators_get_it(
    factory: Factory, services: Services, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    await set_moderation(factory, t, profanity="hold")
    calm = await factory.inbound(t, text="Как отменить бронь?")
    assert await ai_jobs(services) == 1  # the AI owns the conversation (its turn queued)
    async with inbox_events(services, t) as received:
        held = await factory.inbound(t, text=RUDE)
    assert held["conversation_id"] == calm["conversation_id"]
    assert events.CONVERSATION_HANDOFF_REQUESTED in received
    assert events.MESSAGE_MODERATED in received
    assert await ai_jobs(services) == 1  # none for the held message
    await worker.run_until_idle()
    c = await conversation(factory, t, held["conversation_id"])
    assert c["status"] == "pending"
    assert c["handoff_reason"] == "Held by moderation (profanity)"
    assert c["handoff_reason_code"] == "moderation"
    assert c["meta"]["moderation"]["mode"] == "hold"
    shown = [m for m in c["messages"] if not m["is_internal"]]
    # no automatic reply to the held message (and the AI is silent once it is pending)
    assert [m["sender_type"] for m in shown] == ["contact", "contact"]
    assert shown[-1]["meta"]["moderation"] == {"mode": "hold", "reasons": ["profanity"]}
    assert "moderation" not in shown[0]["meta"]
    # the queue shows it
    r = await factory.client.get(
        "/api/v1/conversations", params={"status": "pending"}, headers=t.operator
    )
    assert [x["id"] for x in r.json()["items"]] == [held["conversation_id"]]


async def test_flood_and_repeats_are_held_clean_messages_are_not(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant(ai=True)
    await set_moderation(factory, t, flood_messages=4, flood_seconds=60, spam="off")
    for text in ["Как отменить бронь?", "Скидка для детей?", "Please send the link to pay"]:
        await factory.inbound(t, text=text, contact="fast")
    async with services.db.reader() as s:
        metas = list((await s.execute(select(Message.meta).order_by(Message.id))).scalars())
    assert [m.get("moderation") for m in metas] == [None, None, None]
    sent = await factory.inbound(t, text="Алло?", contact="fast")
    c = await conversation(factory, t, sent["conversation_id"])
    assert c["status"] == "pending" and c["handoff_reason"] == "Held by moderation (flood)"
    assert await ai_jobs(services) == 3
    # another contact of the workspace is not affected
    await factory.inbound(t, text="Здравствуйте", contact="calm")
    assert await ai_jobs(services) == 4
    # repeats: the same advert three times from one contact
    await set_moderation(factory, t, flood="off", spam="hold")
    ad = "Купите наши окна по лучшей цене! Звоните"
    for _ in range(2):
        await factory.inbound(t, text=ad, contact="spammer")
    assert await ai_jobs(services) == 6
    third = await factory.inbound(t, text=ad + "!!!", contact="spammer")
    c = await conversation(factory, t, third["conversation_id"])
    assert c["handoff_reason"] == "Held by moderation (spam)"
    assert await ai_jobs(services) == 6


async def test_rules_turned_off_and_a_human_owned_conversation(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant(ai=True)
    await set_moderation(factory, t, profanity="off", link_only="hold")
    sent = await factory.inbound(t, text=RUDE)
    c = await conversation(factory, t, sent["conversation_id"])
    assert "moderation" not in c["meta"] and c["status"] == "bot"
    # a conversation waiting for an operator is flagged but stays as it is
    r = await factory.client.post(
        f"/api/v1/conversations/{sent['conversation_id']}/assign",
        headers=t.operator,
        json={"assignee_id": str(t.operator_id)},
    )
    assert r.status_code == 200, r.text
    link = await factory.inbound(t, text="https://example.com/tour?id=5")
    c = await conversation(factory, t, link["conversation_id"])
    assert c["status"] == "open" and c["assignee_id"] == str(t.operator_id)
    assert c["meta"]["moderation"]["reasons"] == ["link_only"]
    assert c["handoff_reason"] is None


async def test_only_the_contacts_own_history_counts(factory: Factory, services: Services) -> None:
    """The history is read along with the inbound context: every known contact's own, not
    the workspace's (two known contacts each sending an advert twice is no spam)."""
    t = await factory.tenant(ai=True)
    ad = "Купите наши окна по лучшей цене! Звоните"
    for who in ("first", "second"):
        await factory.inbound(t, text="Здравствуйте", contact=who)
    for who in ("first", "second"):
        for _ in range(2):
            sent = await factory.inbound(t, text=ad, contact=who)
            c = await conversation(factory, t, sent["conversation_id"])
            assert "moderation" not in c["meta"], who
    assert await ai_jobs(services) == 6


async def test_a_window_grown_since_the_last_message_reads_the_older_history(
    factory: Factory, services: Services
) -> None:
    """The context read fetches the window the settings needed last time; after the
    workspace widens the spam window, repeats older than the old window still count."""
    t = await factory.tenant(ai=True)
    ad = "Купите наши окна по лучшей цене! Звоните"
    for _ in range(2):
        await factory.inbound(t, text=ad, contact="spammer")
    # both adverts 20 minutes old: outside the default 10-minute window
    async with services.db.transaction() as s:
        await s.execute(
            update(Message)
            .where(Message.tenant_id == t.id)
            .values(created_at=utcnow() - timedelta(minutes=20))
        )
    await set_moderation(factory, t, spam_window_seconds=3600)
    third = await factory.inbound(t, text=ad, contact="spammer")
    c = await conversation(factory, t, third["conversation_id"])
    assert c["handoff_reason"] == "Held by moderation (spam)"
    # narrowed again: the old adverts no longer count
    await set_moderation(factory, t, spam_window_seconds=600)
    async with services.db.transaction() as s:
        await s.execute(
            update(Message)
            .where(Message.tenant_id == t.id)
            .values(created_at=utcnow() - timedelta(minutes=20))
        )
    fourth = await factory.inbound(t, text=ad, contact="spammer")
    async with services.db.reader() as s:
        meta = (
            await s.execute(select(Message.meta).where(Message.id == fourth["message_id"]))
        ).scalar()
    assert meta is not None and "moderation" not in meta
