"""The analytics roll-ups kept by triggers - conversation facts (on messages) and daily
usage (on the AI log) - give exactly the numbers the reports computed from the raw rows,
on random data, on both databases."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from frontline.analytics.repository import AnalyticsRepository, Window
from frontline.kit.repository import TenantScope
from frontline.models import AiCall, Contact, Conversation, ConversationFacts, Message
from tests.analytics.seeding import START, Mix, message, random_contact, random_conversation
from tests.conftest import Factory

MIX = Mix(
    statuses=["resolved", "resolved", "bot", "pending", "open"],
    handed_share=0.4,
    reasons=["Customer asked for a person"],
    reopened_share=0.1,
)


async def _seed_random(factory: Factory, tenant_id: uuid.UUID, channels: list[str]) -> None:
    rng = random.Random(20261207)
    senders = ["contact", "ai", "operator", "ai", "contact"]
    async with factory.services.db.transaction() as session:
        contact = await random_contact(session, tenant_id)
        for i in range(60):
            conv = random_conversation(rng, tenant_id, contact.id, channels, MIX)
            session.add(conv)
            await session.flush()
            # messages in random order of insertion, some internal, some before others
            for k in range(rng.randint(0, 7)):
                sender = rng.choice(senders)
                internal = sender != "contact" and rng.random() < 0.25
                at = conv.created_at + timedelta(seconds=rng.uniform(0, 600))
                session.add(message(conv, sender, at, internal, f"m{i}-{k}"))
                await session.flush()  # one insert at a time: the trigger sees each
            # AI log rows: most on the conversation, some outside any (copilot-like)
            for _ in range(rng.randint(0, 3)):
                session.add(
                    AiCall(
                        tenant_id=tenant_id,
                        conversation_id=conv.id if rng.random() < 0.8 else None,
                        provider=rng.choice(["openai", "offline", "gigachat"]),
                        model="m",
                        prompt=[],
                        tokens_in=rng.randint(0, 900),
                        tokens_out=rng.randint(0, 300),
                        cost=rng.choice([None, rng.randint(0, 50) / 10_000]),
                        created_at=conv.created_at + timedelta(minutes=rng.uniform(0, 3000)),
                    )
                )


@pytest.mark.usefixtures("backend")
async def test_facts_equal_the_raw_messages_on_random_data(factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    await _seed_random(factory, t.id, [t.api_channel_id, t.email_channel_id])
    await _seed_random(factory, other.id, [other.api_channel_id])
    scope = TenantScope(t.id)
    windows = [
        Window(START, START + timedelta(days=21)),
        Window(START + timedelta(days=3), START + timedelta(days=9)),
        Window(START, START + timedelta(days=21), uuid.UUID(t.email_channel_id)),
        Window(START - timedelta(days=9), START),  # empty
    ]
    async with factory.services.db.reader() as session:
        fast = AnalyticsRepository(session, scope)
        raw = AnalyticsRepository(session, scope, from_messages=True)
        for window in windows:
            assert await fast.totals(window) == await raw.totals(window)
            assert await fast.timeline(window) == await raw.timeline(window)
            usage, reference = await fast.usage(window), await raw.usage(window)
            assert [{**u, "cost": None} for u in usage] == [{**u, "cost": None} for u in reference]
            for u, r in zip(usage, reference, strict=True):
                assert u["cost"] == pytest.approx(r["cost"], abs=2e-6)
        total = await raw.totals(windows[0])
        assert total["conversations"] == 60 and total["ai_first_response"].count > 5
        assert len(await fast.usage(windows[0])) > 10
        # a fact row per conversation that has messages, none for the others
        rows = (await session.execute(select(ConversationFacts))).scalars().all()
        assert {r.tenant_id for r in rows} == {t.id, other.id}


@pytest.mark.usefixtures("backend")
async def test_a_fact_moves_earlier_only_and_ignores_internal_messages(factory: Factory) -> None:
    t = await factory.tenant()
    async with factory.services.db.transaction() as session:
        contact = Contact(tenant_id=t.id, name="C")
        session.add(contact)
        await session.flush()
        conv = Conversation(
            tenant_id=t.id,
            channel_id=uuid.UUID(t.api_channel_id),
            contact_id=contact.id,
            status="bot",
            subject="",
            created_at=START,
        )
        session.add(conv)
        await session.flush()
        conv_id = conv.id

    async def add(sender: str, seconds: int, internal: bool = False) -> ConversationFacts | None:
        async with factory.services.db.transaction() as session:
            session.add(
                Message(
                    tenant_id=t.id,
                    conversation_id=conv_id,
                    channel_id=uuid.UUID(t.api_channel_id),
                    sender_type=sender,
                    is_internal=internal,
                    text="x",
                    delivery_status="sent",
                    created_at=START + timedelta(seconds=seconds),
                )
            )
        async with factory.services.db.reader() as session:
            return await session.get(ConversationFacts, conv_id)

    assert await add("ai", 50, internal=True) is None  # an AI draft is not a reply
    facts = await add("contact", 30)
    assert facts is not None and facts.contact_at == START + timedelta(seconds=30)
    assert facts.ai_at is None and facts.operator_at is None
    facts = await add("contact", 40)
    assert facts is not None and facts.contact_at == START + timedelta(seconds=30)
    facts = await add("contact", 10)
    assert facts is not None and facts.contact_at == START + timedelta(seconds=10)
    facts = await add("operator", 90)
    assert facts is not None and facts.operator_at == START + timedelta(seconds=90)
    facts = await add("ai", 60)
    assert facts is not None and facts.ai_at == START + timedelta(seconds=60)
    assert facts.contact_at == START + timedelta(seconds=10)
