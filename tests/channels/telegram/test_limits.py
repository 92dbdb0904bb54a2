"""A contact flooding a Telegram bot: Telegram always gets its 200 (it would redeliver
otherwise) and every message is stored, but the AI answers only as many a minute as the
per-contact limit allows (frontline.conversations.limits)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frontline import events
from frontline.models import Job, Message
from frontline.settings import Settings
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import create_channel
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory

pytestmark = pytest.mark.usefixtures("fresh_rate_window")

LIMIT = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"inbound_contact_messages_per_minute": LIMIT})


async def test_a_flood_is_acknowledged_and_stored_but_the_ai_answers_only_the_allowed(
    factory: Factory, bot: FakeBotApi
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    statuses = [
        (await channel.post(p.text_update(100 + i, 200 + i, f"spam {i}"))).status_code
        for i in range(LIMIT + 3)
    ]
    assert statuses == [200] * (LIMIT + 3)
    async with factory.services.db.reader() as s:
        stored = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
        turns = (
            await s.execute(
                select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
            )
        ).scalar_one()
        marks = list((await s.execute(select(Message.meta).order_by(Message.id))).scalars())
    assert stored == LIMIT + 3
    assert turns == LIMIT
    assert [m.get("rate_limited") for m in marks] == [None] * LIMIT + ["contact"] * 3
    # a redelivery of a stored update is still a no-op
    assert (await channel.post(p.text_update(100, 200, "spam 0"))).status_code == 200


async def test_a_redelivered_update_does_not_use_up_the_contact_limit(
    factory: Factory, bot: FakeBotApi
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    for i in range(LIMIT - 1):
        assert (
            await channel.post(p.text_update(100 + i, 200 + i, f"question {i}"))
        ).status_code == 200
    # Telegram redelivers an update it got no 200 for: the same update id and message id
    for _ in range(LIMIT + 1):
        again = p.text_update(100, 200, "Is the house free?")
        assert (await channel.post(again)).status_code == 200
    assert (await channel.post(p.text_update(150, 250, "the last one"))).status_code == 200
    async with factory.services.db.reader() as s:
        stored = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
        turns = (
            await s.execute(
                select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
            )
        ).scalar_one()
        marks = list((await s.execute(select(Message.meta))).scalars())
    assert (stored, turns) == (LIMIT, LIMIT)
    assert [m.get("rate_limited") for m in marks] == [None] * LIMIT
