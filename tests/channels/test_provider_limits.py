"""A contact flooding WhatsApp or Avito: the provider always gets its 200 (it would
redeliver for hours otherwise) and every message is stored once, but the AI answers only
as many a minute as the per-contact limit allows, and the rest are marked for the operators
(frontline.conversations.limits; the API channel, customer API, e-mail and Telegram have
their own tests)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frontline import events
from frontline.channels.avito.client import TOKENS
from frontline.models import Job, Message
from frontline.settings import Settings
from tests.channels.avito.fake_avito import fake_avito
from tests.channels.avito.test_avito import avito_channel, notify
from tests.channels.whatsapp.fake_graph import payload
from tests.channels.whatsapp.helpers import post_webhook, whatsapp_channel
from tests.conftest import Factory

pytestmark = pytest.mark.usefixtures("fresh_rate_window")

LIMIT = 3
FLOOD = LIMIT + 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"inbound_contact_messages_per_minute": LIMIT})


async def _stored(factory: Factory) -> tuple[int, int, list[str | None]]:
    async with factory.services.db.reader() as s:
        stored = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
        turns = (
            await s.execute(
                select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
            )
        ).scalar_one()
        metas = (await s.execute(select(Message.meta).order_by(Message.id))).scalars()
        marks = [(m or {}).get("rate_limited") for m in metas]
    return int(stored), int(turns), marks


async def test_a_whatsapp_flood_is_acknowledged_stored_once_and_answered_within_the_limit(
    factory: Factory,
) -> None:
    t = await factory.tenant(ai=True)
    cid = await whatsapp_channel(factory, t, None)
    bodies = [
        payload("text", id=f"wamid.flood-{i}", text={"body": f"spam {i}"}) for i in range(FLOOD)
    ]
    for body in bodies:
        r = await post_webhook(factory.client, cid, body)
        assert r.status_code == 200, r.text
    stored, turns, marks = await _stored(factory)
    assert (stored, turns) == (FLOOD, LIMIT)
    assert marks == [None] * LIMIT + ["contact"] * (FLOOD - LIMIT)
    # a redelivery (WhatsApp retries) stores nothing twice
    r = await post_webhook(factory.client, cid, bodies[-1])
    assert r.status_code == 200 and r.json()["duplicates"] == 1, r.text
    assert (await _stored(factory))[0] == FLOOD


async def test_an_avito_flood_is_acknowledged_stored_once_and_answered_within_the_limit(
    factory: Factory,
) -> None:
    TOKENS.clear()
    async with fake_avito() as avito:
        t = await factory.tenant(ai=True)
        cid, secret = await avito_channel(factory, t, avito)
        # distinct texts: the same text three times is moderation's repeated spam (held)
        words = ["дом", "баня", "парковка", "заезд", "собака", "wi-fi"][:FLOOD]
        bodies = [
            avito.payload("text", id=f"flood-{i}", content={"text": f"Вопрос {i}: {word}"})
            for i, word in enumerate(words)
        ]
        for body in bodies:
            r = await notify(factory.client, cid, secret, body)
            assert r.status_code == 200, r.text
        stored, turns, marks = await _stored(factory)
        assert (stored, turns) == (FLOOD, LIMIT)
        assert marks == [None] * LIMIT + ["contact"] * (FLOOD - LIMIT)
        r = await notify(factory.client, cid, secret, bodies[0])
        assert r.status_code == 200 and r.json()["duplicates"] == 1, r.text
        assert (await _stored(factory))[0] == FLOOD


async def test_a_whatsapp_redelivery_does_not_use_up_the_contact_limit(factory: Factory) -> None:
    t = await factory.tenant(ai=True)
    cid = await whatsapp_channel(factory, t, None)
    # distinct texts: the same text three times is moderation's repeated spam (held)
    texts = ["Is the house free?", "Can I bring a dog?", "Where do I park?"][:LIMIT]
    bodies = [
        payload("text", id=f"wamid.again-{i}", text={"body": text}) for i, text in enumerate(texts)
    ]
    for body in bodies[:-1]:
        assert (await post_webhook(factory.client, cid, body)).status_code == 200
    for _ in range(LIMIT + 1):
        r = await post_webhook(factory.client, cid, bodies[0])
        assert r.status_code == 200 and r.json()["duplicates"] == 1, r.text
    assert (await post_webhook(factory.client, cid, bodies[-1])).status_code == 200
    # the last new message was still within the limit: stored once each, all answered
    assert await _stored(factory) == (LIMIT, LIMIT, [None] * LIMIT)


async def test_an_avito_redelivery_does_not_use_up_the_contact_limit(factory: Factory) -> None:
    TOKENS.clear()
    async with fake_avito() as avito:
        t = await factory.tenant(ai=True)
        cid, secret = await avito_channel(factory, t, avito)
        words = ["дом", "баня", "парковка"][:LIMIT]
        bodies = [
            avito.payload("text", id=f"again-{i}", content={"text": f"Вопрос {i}: {word}"})
            for i, word in enumerate(words)
        ]
        for body in bodies[:-1]:
            assert (await notify(factory.client, cid, secret, body)).status_code == 200
        for _ in range(LIMIT + 1):
            r = await notify(factory.client, cid, secret, bodies[0])
            assert r.status_code == 200 and r.json()["duplicates"] == 1, r.text
        assert (await notify(factory.client, cid, secret, bodies[-1])).status_code == 200
        assert await _stored(factory) == (LIMIT, LIMIT, [None] * LIMIT)
