"""The API channel's inbound path, end to end over HTTP."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from frontline.models import Contact, Conversation, Job, Message
from tests.conftest import Factory


async def _counts(factory: Factory) -> tuple[int, int, int, int]:
    async with factory.services.db.transaction() as s:
        return (
            (await s.execute(select(func.count()).select_from(Message))).scalar_one(),
            (await s.execute(select(func.count()).select_from(Conversation))).scalar_one(),
            (await s.execute(select(func.count()).select_from(Contact))).scalar_one(),
            (await s.execute(select(func.count()).select_from(Job))).scalar_one(),
        )


async def test_accept_and_duplicate(factory: Factory) -> None:
    t = await factory.tenant()
    body = {
        "external_id": "ext-1",
        "contact": {"external_id": "c-1", "name": "Иван"},
        "text": "Привет",
    }
    url = f"/api/v1/channels/{t.api_channel_id}/messages"
    first = await factory.client.post(url, headers=t.api_channel, json=body)
    assert first.status_code == 202
    data = first.json()
    assert data["duplicate"] is False
    before = await _counts(factory)
    again = await factory.client.post(url, headers=t.api_channel, json=body)
    assert again.status_code == 200
    assert again.json() == {**data, "duplicate": True}
    assert await _counts(factory) == before


async def test_twenty_concurrent_redeliveries_store_one(factory: Factory) -> None:
    t = await factory.tenant()
    body = {"external_id": "race-1", "contact": {"external_id": "new-contact"}, "text": "Race"}
    url = f"/api/v1/channels/{t.api_channel_id}/messages"
    responses = await asyncio.gather(
        *(factory.client.post(url, headers=t.api_channel, json=body) for _ in range(20))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [202]
    ids = {(r.json()["message_id"], r.json()["conversation_id"]) for r in responses}
    assert len(ids) == 1
    messages, conversations, contacts, _jobs = await _counts(factory)
    assert (messages, conversations, contacts) == (1, 1, 1)


async def test_twenty_concurrent_redeliveries_from_a_known_contact_store_one(
    factory: Factory,
) -> None:
    """The common case runs Core statements only (no ORM session: see
    ``Database.core_transaction``): the losers of the race on the message's unique key roll
    back whole and answer the winner's ids; one message, one AI job."""
    t = await factory.tenant(ai=True)
    url = f"/api/v1/channels/{t.api_channel_id}/messages"
    first = {"external_id": "known-1", "contact": {"external_id": "known"}, "text": "Hello"}
    assert (await factory.client.post(url, headers=t.api_channel, json=first)).status_code == 202
    _messages, conversations, contacts, _jobs = await _counts(factory)
    body = {"external_id": "known-race", "contact": {"external_id": "known"}, "text": "Again"}
    responses = await asyncio.gather(
        *(factory.client.post(url, headers=t.api_channel, json=body) for _ in range(20))
    )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [202]
    assert len({(r.json()["message_id"], r.json()["conversation_id"]) for r in responses}) == 1
    assert (await _counts(factory))[1:3] == (conversations, contacts)
    async with factory.services.db.reader() as s:
        stored = (
            await s.execute(select(func.count()).where(Message.external_id == "known-race"))
        ).scalar_one()
        kinds = (await s.execute(select(Job.kind, Job.payload))).all()
    assert stored == 1
    message_id = responses[0].json()["message_id"]
    assert [k for k, payload in kinds if payload.get("message_id") == message_id] == ["ai.reply"]
