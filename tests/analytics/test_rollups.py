"""The per-conversation analytics rows and the hourly roll-up (kept by triggers on
conversations and their facts, migration 0022_an365) give exactly the numbers the reports
compute from the raw conversations and messages - counts, strict AI-alone resolutions
(reopened within 72 h and negative CSAT excluded, operator replies excluded), CSAT, exact
percentiles, per day, per hour and weekday, per channel - on random data that is inserted,
then changed the ways the product changes conversations, then partly deleted; and the
migration's backfill builds the same rows."""

from __future__ import annotations

import importlib.util
import random
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from frontline.analytics.repository import AnalyticsRepository, Window
from frontline.conversations.reasons import PREFIXES, ReasonCode, reason_code
from frontline.kit.repository import TenantScope
from frontline.models import (
    AnalyticsConversation,
    AnalyticsHourly,
    Contact,
    Conversation,
    Message,
)
from tests.analytics.seeding import START, Mix, message, random_contact, random_conversation
from tests.conftest import Factory

REASONS = [
    None,
    "Customer asked for a person",
    "No confident answer in the knowledge base (confidence 0.2)",
    "no confident answer (confidence 0.1)",
    "Billing dispute",
    "an LLM's own words",
]
MIX = Mix(
    statuses=["resolved", "resolved", "resolved", "bot", "pending", "open"],
    handed_share=0.35,
    reasons=REASONS,
    reopened_share=0.15,
)


def _migration() -> Any:
    path = Path(__file__).parents[2] / "migrations/versions/0022_an365_analytics_rollups.py"
    spec = importlib.util.spec_from_file_location("rollups_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATION = _migration()


async def _seed(factory: Factory, tenant_id: uuid.UUID, channels: list[str], seed: int) -> None:
    """Random conversations and messages, then random changes: resolve, reopen (soon or
    not), hand off and back, rate, move to another channel, late operator replies, and
    deletions."""
    rng = random.Random(seed)
    ids: list[int] = []
    async with factory.services.db.transaction() as session:
        contact = await random_contact(session, tenant_id)
        for i in range(70):
            conv = random_conversation(rng, tenant_id, contact.id, channels, MIX)
            session.add(conv)
            await session.flush()
            ids.append(conv.id)
            for k in range(rng.randint(0, 6)):
                sender = rng.choice(["contact", "ai", "ai", "contact", "operator"])
                at = conv.created_at + timedelta(seconds=rng.uniform(0, 600))
                internal = sender != "contact" and rng.random() < 0.25
                text = f"Question {(i + k) % 4}" if sender == "contact" else "reply"
                session.add(message(conv, sender, at, internal, text))
                await session.flush()  # one insert at a time: the triggers see each
    # changes, each in its own transaction like the product's
    for conv_id in rng.sample(ids, 40):
        async with factory.services.db.transaction() as session:
            conv = await session.get(Conversation, conv_id)
            assert conv is not None
            change = rng.choice(
                ["resolve", "reopen", "rate", "handoff", "hand_back", "channel", "operator"]
            )
            if change == "resolve":
                conv.status = "resolved"
                conv.resolved_at = conv.created_at + timedelta(minutes=rng.randint(1, 900))
            elif change == "reopen":
                conv.status = rng.choice(["bot", "pending"])
                conv.resolved_at = None
                conv.reopened_soon = rng.random() < 0.5
            elif change == "rate":
                conv.csat_rating = rng.choice([None, 1, 2, 3, 4, 5])
            elif change == "handoff":
                conv.status = "pending"
                conv.handed_off_at = conv.created_at + timedelta(seconds=rng.randint(1, 400))
                conv.handoff_reason = rng.choice(REASONS[1:])
            elif change == "hand_back":
                conv.handoff_reason = None
                conv.status = "bot"
            elif change == "channel":
                conv.channel_id = uuid.UUID(rng.choice(channels))
            else:  # an operator's reply, visible or internal, maybe earlier than others
                at = conv.created_at + timedelta(seconds=rng.uniform(0, 900))
                session.add(message(conv, "operator", at, rng.random() < 0.3, "reply"))
    async with factory.services.db.transaction() as session:
        gone = rng.sample(ids, 5)
        await session.execute(delete(Message).where(Message.conversation_id.in_(gone)))
        await session.execute(delete(Conversation).where(Conversation.id.in_(gone)))


async def _assert_equal(session: Any, scope: TenantScope, windows: list[Window]) -> None:
    fast = AnalyticsRepository(session, scope)
    raw = AnalyticsRepository(session, scope, from_messages=True)
    for window in windows:
        assert await fast.totals(window) == await raw.totals(window), window
        assert await fast.timeline(window) == await raw.timeline(window), window
        assert await fast.volume(window) == await raw.volume(window), window
        unanswered = await fast.unanswered(window, 20)
        assert unanswered == await raw.unanswered(window, 20), window


def _windows(t_email: str) -> list[Window]:
    return [
        Window(START, START + timedelta(days=21)),
        Window(START + timedelta(days=3), START + timedelta(days=9)),
        Window(START + timedelta(days=2, hours=5), START + timedelta(days=11, hours=19)),
        Window(START, START + timedelta(days=21), uuid.UUID(t_email)),
        Window(START - timedelta(days=9), START),  # empty
    ]


@pytest.mark.usefixtures("backend")
async def test_rollups_equal_the_raw_rows_after_inserts_changes_and_deletes(
    factory: Factory,
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    await _seed(factory, t.id, [t.api_channel_id, t.email_channel_id], seed=20261207)
    await _seed(factory, other.id, [other.api_channel_id], seed=7)
    scope = TenantScope(t.id)
    async with factory.services.db.reader() as session:
        await _assert_equal(session, scope, _windows(t.email_channel_id))
        raw = AnalyticsRepository(session, scope, from_messages=True)
        total = await raw.totals(_windows(t.email_channel_id)[0])
        # the random data exercises every figure
        assert total["conversations"] == 65
        assert 0 < total["ai_resolved"] < total["resolved"]
        assert total["handed_off"] > 5 and total["csat_count"] > 10
        for name in ("ai_first_response", "operator_first_response", "resolution"):
            assert total[name].count > 3, name
        assert sum(n for _q, n in await raw.unanswered(_windows(t.email_channel_id)[0], 20)) > 3
        # handoff reasons: the codes of the handed-off conversations' texts, counted here
        for window in _windows(t.email_channel_id):
            convs = (
                await session.execute(
                    select(Conversation).where(
                        Conversation.tenant_id == t.id,
                        Conversation.created_at >= window.start,
                        Conversation.created_at < window.end,
                        Conversation.handed_off_at.is_not(None),
                    )
                )
            ).scalars()
            counted = Counter(
                str(reason_code(c.handoff_reason) or "unknown")
                for c in convs
                if window.channel_id in (None, c.channel_id)
            )
            reasons = await raw.handoff_reasons(window)
            assert dict(reasons) == counted
            assert [n for _k, n in reasons] == sorted(counted.values(), reverse=True)
        # one analytics row per remaining conversation of both tenants
        rows = (await session.execute(select(AnalyticsConversation.tenant_id))).scalars().all()
        assert sorted(map(str, rows)).count(str(t.id)) == 65
        hourly = (await session.execute(select(AnalyticsHourly))).scalars().all()
        assert sum(h.conversations for h in hourly if h.tenant_id == t.id) == 65


@pytest.mark.usefixtures("backend")
async def test_strict_ai_resolution_follows_each_exclusion(factory: Factory) -> None:
    """One conversation resolved by the AI alone stops counting when it is reopened within
    72 h, rated negatively, answered by an operator - and counts again when the rating
    turns positive; an internal operator note never excludes it."""
    t = await factory.tenant()
    scope = TenantScope(t.id)
    window = Window(START, START + timedelta(days=1))
    async with factory.services.db.transaction() as session:
        contact = Contact(tenant_id=t.id, name="C")
        session.add(contact)
        await session.flush()
        conv = Conversation(
            tenant_id=t.id,
            channel_id=uuid.UUID(t.api_channel_id),
            contact_id=contact.id,
            status="resolved",
            subject="",
            created_at=START,
            resolved_at=START + timedelta(minutes=5),
        )
        session.add(conv)
        await session.flush()
        conv_id = conv.id

    async def strict(**values: Any) -> int:
        async with factory.services.db.transaction() as session:
            if values:
                await session.execute(
                    update(Conversation).where(Conversation.id == conv_id).values(**values)
                )
        async with factory.services.db.reader() as session:
            fast = await AnalyticsRepository(session, scope).totals(window)
            raw = await AnalyticsRepository(session, scope, from_messages=True).totals(window)
            assert fast == raw
            return int(fast["ai_resolved"])

    async def operator(internal: bool) -> None:
        async with factory.services.db.transaction() as session:
            conv = await session.get(Conversation, conv_id)
            assert conv is not None
            session.add(message(conv, "operator", START + timedelta(minutes=1), internal, "reply"))

    assert await strict() == 1
    assert await strict(reopened_soon=True) == 0
    assert await strict(reopened_soon=False) == 1
    assert await strict(csat_rating=2) == 0
    assert await strict(csat_rating=3) == 1
    await operator(internal=True)
    assert await strict() == 1
    await operator(internal=False)
    assert await strict() == 0


@pytest.mark.usefixtures("backend")
async def test_the_migration_backfill_builds_the_same_rows(factory: Factory) -> None:
    t = await factory.tenant()
    await _seed(factory, t.id, [t.api_channel_id, t.email_channel_id], seed=99)
    scope = TenantScope(t.id)
    windows = _windows(t.email_channel_id)
    async with factory.services.db.reader() as session:
        fast = AnalyticsRepository(session, scope)
        before = [(await fast.totals(w), await fast.timeline(w)) for w in windows]
    async with factory.services.db.transaction() as session:
        dialect = session.get_bind().dialect.name
        # emptied (the triggers take every row back out of the hourly sums), then rebuilt
        await session.execute(delete(AnalyticsConversation))
        left = (await session.execute(select(AnalyticsHourly))).scalars().all()
        assert left and all(h.conversations == 0 and h.csat_count == 0 for h in left)
        await session.execute(delete(AnalyticsHourly))
        rows, sums = MIGRATION.backfill(dialect)
        await session.execute(text(rows))  # the insert trigger adds each to the sums
    async with factory.services.db.reader() as session:
        fast = AnalyticsRepository(session, scope)
        assert [(await fast.totals(w), await fast.timeline(w)) for w in windows] == before
    async with factory.services.db.transaction() as session:
        await session.execute(delete(AnalyticsHourly))
        await session.execute(text(sums))  # the migration's grouped pass
    async with factory.services.db.reader() as session:
        fast = AnalyticsRepository(session, scope)
        assert [(await fast.totals(w), await fast.timeline(w)) for w in windows] == before
        await _assert_equal(session, scope, windows)


@pytest.mark.usefixtures("backend")
async def test_windows_are_whole_hours(factory: Factory) -> None:
    t = await factory.tenant()
    async with factory.services.db.reader() as session:
        repo = AnalyticsRepository(session, TenantScope(t.id))
        with pytest.raises(ValueError, match="whole UTC hours"):
            await repo.totals(Window(START + timedelta(minutes=30), START + timedelta(days=1)))


def test_the_unanswered_condition_is_the_no_confident_answer_code() -> None:
    prefix = next(p for p, code in PREFIXES if code is ReasonCode.NO_CONFIDENT_ANSWER)
    assert prefix == MIGRATION.NO_ANSWER_PREFIX
