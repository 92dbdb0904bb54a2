"""Moderation on the Telegram webhook (the inbound path every channel shares): a link-only
message is flagged and the AI still answers on Telegram; the same advert repeated is held -
stored and acknowledged, but no AI turn and no reply, and the conversation waits for an
operator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from frontline import events
from frontline.jobs.worker import Worker
from frontline.models import Conversation, Job, Message
from tests.channels.telegram import payloads as p
from tests.channels.telegram.conftest import create_channel
from tests.channels.telegram.fakebot import FakeBotApi
from tests.conftest import Factory


async def _state(factory: Factory) -> tuple[list[dict[str, Any]], int, Conversation]:
    async with factory.services.db.reader() as s:
        stmt = select(Message.meta).where(Message.sender_type == "contact").order_by(Message.id)
        metas = list((await s.execute(stmt)).scalars())
        turns = (
            await s.execute(
                select(func.count()).select_from(Job).where(Job.kind == events.JOB_AI_REPLY)
            )
        ).scalar_one()
        conversation = (await s.execute(select(Conversation))).scalar_one()
    return metas, int(turns), conversation


async def test_link_only_is_flagged_and_the_ai_answers_on_telegram(
    factory: Factory, bot: FakeBotApi, worker: Worker
) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    r = await channel.post(p.text_update(1, 11, "https://example.com/tours/42"))
    assert r.status_code == 200
    metas, turns, conversation = await _state(factory)
    assert metas == [{**metas[0], "moderation": {"mode": "flag", "reasons": ["link_only"]}}]
    assert turns == 1 and conversation.meta["moderation"]["mode"] == "flag"
    await worker.run_until_idle()
    assert len(bot.called("sendMessage")) == 1  # the AI answered on Telegram


async def test_a_repeated_advert_is_held(factory: Factory, bot: FakeBotApi, worker: Worker) -> None:
    t = await factory.tenant(ai=True)
    channel = await create_channel(factory, t, bot)
    ad = "Лучшие окна в городе, скидка 50% только сегодня"
    for i in range(3):
        r = await channel.post(p.text_update(1 + i, 11 + i, ad))
        assert r.status_code == 200  # Telegram is always acknowledged
    metas, turns, conversation = await _state(factory)
    assert len(metas) == 3  # every message stored
    assert [m.get("moderation") for m in metas] == [
        None,
        None,
        {"mode": "hold", "reasons": ["spam"]},
    ]
    assert turns == 2  # none for the held repeat
    assert conversation.status == "pending"
    assert conversation.handoff_reason == "Held by moderation (spam)"
    await worker.run_until_idle()
    # nothing went to the customer (the AI is silent while an operator is awaited)
    assert bot.called("sendMessage") == []
