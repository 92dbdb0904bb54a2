"""Daily LLM usage roll-up, kept by a trigger on ai_calls and backfilled here

Revision ID: 0019_analytics_usage_daily
Revises: 0016_analytics_facts
Create Date: 2026-12-07 04:00:00

The usage report summed every AI log row of the range (500k rows a year at 100k
conversations: seconds). ``analytics_usage_daily`` holds calls, tokens and cost per tenant,
UTC day, provider and channel; an ``AFTER INSERT`` trigger on ``ai_calls`` adds each call in
the inserting transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_analytics_usage_daily"
down_revision: str | None = "0016_analytics_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_CHANNEL = "00000000-0000-0000-0000-000000000000"

# the channel of the call's conversation (the nil UUID without one); the day in UTC
PG_CHANNEL = (
    "coalesce((SELECT c.channel_id FROM conversations c WHERE c.id = NEW.conversation_id), "
    "'00000000-0000-0000-0000-000000000000'::uuid)"
)
# SQLite stores UUIDs as 32 hex digits without dashes (SQLAlchemy's Uuid type)
SQLITE_CHANNEL = (
    "coalesce((SELECT c.channel_id FROM conversations c WHERE c.id = NEW.conversation_id), "
    "'00000000000000000000000000000000')"
)

UPSERT = """
INSERT INTO analytics_usage_daily{alias}
    (tenant_id, day, provider, channel_id, calls, tokens_in, tokens_out, cost)
VALUES (NEW.tenant_id, {day}, NEW.provider, {channel}, 1,
        coalesce(NEW.tokens_in, 0), coalesce(NEW.tokens_out, 0), coalesce(NEW.cost, 0))
ON CONFLICT (tenant_id, day, provider, channel_id) DO UPDATE SET
    calls = {u}.calls + 1,
    tokens_in = {u}.tokens_in + excluded.tokens_in,
    tokens_out = {u}.tokens_out + excluded.tokens_out,
    cost = {u}.cost + excluded.cost
"""

SQLITE_TRIGGER = (
    "CREATE TRIGGER tr_ai_calls_usage_daily AFTER INSERT ON ai_calls BEGIN "
    + UPSERT.format(
        day="date(NEW.created_at)", channel=SQLITE_CHANNEL, alias="", u="analytics_usage_daily"
    )
    + "; END"
)
PG_FUNCTION = (
    "CREATE FUNCTION analytics_usage_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + UPSERT.format(
        day="CAST(timezone('UTC', NEW.created_at) AS date)",
        channel=PG_CHANNEL,
        alias=" AS u",
        u="u",
    )
    + "; RETURN NULL; END $$"
)
PG_TRIGGER = (
    "CREATE TRIGGER tr_ai_calls_usage_daily AFTER INSERT ON ai_calls "
    "FOR EACH ROW EXECUTE FUNCTION analytics_usage_daily_add()"
)

BACKFILL = """
INSERT INTO analytics_usage_daily
    (tenant_id, day, provider, channel_id, calls, tokens_in, tokens_out, cost)
SELECT a.tenant_id, {day}, a.provider, {channel}, count(*),
       coalesce(sum(a.tokens_in), 0), coalesce(sum(a.tokens_out), 0), coalesce(sum(a.cost), 0)
FROM ai_calls a LEFT JOIN conversations c ON c.id = a.conversation_id
GROUP BY a.tenant_id, {day}, a.provider, {channel}
"""


def upgrade() -> None:
    op.create_table(
        "analytics_usage_daily",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "provider", "channel_id", name=op.f("pk_analytics_usage_daily")
        ),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(SQLITE_TRIGGER)
        channel = f"coalesce(c.channel_id, '{NO_CHANNEL.replace('-', '')}')"
        op.execute(BACKFILL.format(day="date(a.created_at)", channel=channel))
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
        channel = f"coalesce(c.channel_id, '{NO_CHANNEL}'::uuid)"
        day = "CAST(timezone('UTC', a.created_at) AS date)"
        op.execute(BACKFILL.format(day=day, channel=channel))


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_ai_calls_usage_daily")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_ai_calls_usage_daily ON ai_calls")
        op.execute("DROP FUNCTION IF EXISTS analytics_usage_daily_add()")
    op.drop_table("analytics_usage_daily")
